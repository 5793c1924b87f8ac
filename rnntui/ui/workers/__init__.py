"""What runs off the UI thread, in Textual thread workers, and how its results come back.

session.py is what a training run and an experiment have in common (the Session the app pauses, stops and
waits for); training.py and experiment.py are the two kinds, each with the message its worker posts per
engine event; replay.py turns a run folder's log into the same events (a finished run replayed, a running
one watched); generation.py holds the generation panel's worker bodies and their messages, novelty.py
its live novelty curve and corpus index; inspection.py and influence.py the inspector's; engine.py is
the engine as the workers reach it (torch is imported only there, inside a worker).

Threads cannot be killed, so every loop here checks a stop Event; results reach the UI only through
post_message or App.call_from_thread, both thread-safe, as plain values and frozen dataclasses, never tensors.
"""
