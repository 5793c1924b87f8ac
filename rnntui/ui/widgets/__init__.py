"""Thin widgets: each holds one immutable snapshot and render() builds a pure Rich renderable from it.

What the user chooses to see (a layer, a scale, an order) is in reactive attributes that the screen sets,
and their watch_ methods retitle the widget; the data comes through show(). The inspector's widgets are in
the inspect package.
"""
