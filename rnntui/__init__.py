"""rnntui: watch a character-level recurrent network learn, in the terminal."""

__version__ = "0.1.0"
