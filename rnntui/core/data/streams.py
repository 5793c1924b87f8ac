"""Batch streams for truncated BPTT: a split of character ids cut into B contiguous streams on a device."""

from __future__ import annotations

import warnings

import numpy as np
import torch


class Streams:
    """The split cut into B contiguous streams, walked T steps at a time.

    Window k of every stream follows window k-1 directly, so the hidden state at the end of one window is
    the right initial state for the next one (truncated BPTT with carried state).
    """

    def __init__(self, data: np.ndarray, batch: int, seq_len: int, device: torch.device):
        batch = max(1, min(batch, len(data) // (seq_len + 1)))  # every stream holds >= one window
        length = len(data) // batch
        # kept in the corpus's compact dtype (uint8 for most texts); each window is widened on use
        # A cached corpus is a read-only memory map: torch shares it without a copy (and warns that it
        # is not writable, which is harmless here: streams are only ever read).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*not writable.*")
            cols = torch.from_numpy(np.ascontiguousarray(data[: batch * length]))
        self.streams = cols.view(batch, length).to(device)  # (B, L)
        self.batch, self.seq_len = batch, seq_len
        self.windows = (length - 1) // seq_len  # windows per epoch

    def window(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of window k (mod one epoch): (B, T) each."""
        s = (k % self.windows) * self.seq_len
        chunk = self.streams[:, s : s + self.seq_len + 1].long()  # (B, T+1)
        return chunk[:, :-1], chunk[:, 1:]
