"""Helpers for the media tests: collecting received audio and checking its tones."""

from __future__ import annotations

import numpy as np

from sigphone.media.tones import tone_fraction


class Collected:
    """A sink for TrackReader/CallAudio: keeps every block the far side delivered."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []

    def __call__(self, samples: np.ndarray) -> None:
        self.blocks.append(samples)

    def __len__(self) -> int:
        return len(self.blocks)

    def tail(self, blocks: int = 10) -> np.ndarray:
        if not self.blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self.blocks[-blocks:])

    def has_tone(self, frequency: float, blocks: int = 10) -> bool:
        """The last ``blocks`` (20 ms each) are clearly ``frequency``."""
        tail = self.tail(blocks)
        return len(tail) > 0 and tone_fraction(tail, frequency) > 0.9

    def silent(self, blocks: int = 10) -> bool:
        tail = self.tail(blocks)
        return len(tail) > 0 and float(np.max(np.abs(tail))) < 1e-3
