"""What counting recent characters alone achieves: the baselines a network's loss is measured against.

    model.py      character n-gram models with interpolated modified Kneser-Ney smoothing, fitted and
                  scored with numpy (no loop over characters)
    baselines.py  a corpus's baselines (uniform, unigram, n-grams of orders 2-6) on its validation split,
                  fitted on a bounded sample, cached beside the encoded corpus; the cache reader is cheap
                  (json only) so `rnntui runs` can show them
    figures.py    the baselines as one frozen record (Baselines), checked field by field when read from JSON
    gain.py       where a network beats counting: its per-character log-probability minus an n-gram's,
                  summarised by character class

Nothing here is imported by this file, so reading the cache never loads the fitting code.
"""
