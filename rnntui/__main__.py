"""`python -m rnntui ...` is the `rnntui` command (torchrun and environments without the script use it)."""

from rnntui.cli import main

raise SystemExit(main())
