"""Screens: setup, the training dashboard (train.py), generation, the inspector, Runs, Compare, help and dialogs.

A screen draws what it is handed (attributes go down) and asks the app for anything beyond itself by
posting a message declared on its own class, e.g. `SetupScreen.TrainRequested`, which the app answers with
`@on(SetupScreen.TrainRequested)`. It may push another screen; it never sets or calls the app's own
attributes. Besides the screens: forms.py (field validators from the config's limits), setup_form.py (the
setup form's parts), generate_modes.py (each generation mode's pane title and saved settings), runs_table.py
(the Runs table's columns and cells) and comparison.py (the Compare view's numbers).
"""
