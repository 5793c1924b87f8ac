"""The terminal the process runs in. Standard library only: the headless commands (cli_train.py) and the
app (ui/shutdown.py) both use it.
"""
from __future__ import annotations

import os

# -----------------------------------------------------------------------------
# the standard streams


def silence_terminal() -> None:
    """stdout and stderr go to /dev/null: writes succeed and go nowhere, so a save in progress does not
    fail (or block) writing to a terminal that is gone."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
    except OSError:
        pass
