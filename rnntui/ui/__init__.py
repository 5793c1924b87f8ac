"""The Textual app: setup, a live training dashboard, generation and the inspector.

Nothing here imports torch at module import: the app paints its first frame, then workers load the engine.
"""
