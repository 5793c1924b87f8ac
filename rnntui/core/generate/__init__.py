"""Text out: the generation settings (one set for the CLI, the worker and the panel), sampling with
temperature and top-k, beam search, step mode, and the copy check. A new sampling rule goes here."""
