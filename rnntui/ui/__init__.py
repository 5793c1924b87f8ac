"""The Textual app: setup, a live training dashboard, generation, the inspector, runs and Compare.

app.py is the one App class (it holds what the screens show and answers what they ask); shutdown.py is the
plain object it owns for SIGTERM and a closed terminal; state.py is what the dashboard draws (RunState)
and panels.py declares the dashboard's panels once. screens/ has one module per screen, each declaring the
messages it posts to the app; widgets/ the thin widgets they compose; renderables/ the pure Rich drawings
the widgets render; workers/ what runs off the UI thread (training sessions, experiments, generation, a run
folder replayed or watched).

Nothing here imports torch at module import: the app paints its first frame, then workers load the engine.
"""
