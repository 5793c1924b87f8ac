"""The run folder, one typed contract owned by one process at a time: its lock and placement, run.json,
metrics.jsonl records, checkpoints (written atomically, checked field by field), the writer that fills
them during training, and the listing `rnntui runs` shows. A new file in a run folder goes here."""
