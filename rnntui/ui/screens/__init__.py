"""Screens: setup, the training dashboard, generation, help and dialogs (the inspector lives in inspect.py)."""
