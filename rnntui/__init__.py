"""rnntui: watch a character-level recurrent network learn, in the terminal."""

from __future__ import annotations

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)


def version() -> str:
    """The installed distribution's version; this module's when run from a checkout that is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("rnntui")
    except PackageNotFoundError:
        return __version__
