"""Thin widgets: each holds one immutable snapshot and render() builds a pure Rich renderable from it."""
