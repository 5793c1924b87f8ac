"""Bounded metric history: a week-long run keeps no more points than an hour-long one.

Points are averaged in groups of `stride`; when the list reaches `cap`, neighbouring pairs are merged and
the stride doubles. The chart downsamples to its width anyway, so nothing visible is lost.
"""

from __future__ import annotations


class History:
    def __init__(
        self, cap: int = 2048, steps: list[int] | None = None, values: list[float] | None = None, stride: int = 1
    ):
        self.cap = max(4, cap - cap % 2)
        self.steps: list[int] = list(steps or [])
        self.values: list[float] = list(values or [])
        self.stride = stride
        self._acc, self._n = 0.0, 0  # the group being averaged

    def add(self, step: int, value: float) -> None:
        self._acc += value
        self._n += 1
        if self._n < self.stride:
            return
        self.steps.append(step)
        self.values.append(self._acc / self._n)
        self._acc, self._n = 0.0, 0
        if len(self.steps) >= self.cap:
            self._halve()

    def _halve(self) -> None:
        # merge pairs: the later step labels the mean of both
        self.steps = self.steps[1::2]
        v = self.values
        self.values = [(v[i] + v[i + 1]) / 2 for i in range(0, len(v) - 1, 2)]
        self.stride *= 2

    def to_dict(self) -> dict:
        return {"steps": list(self.steps), "values": list(self.values), "stride": self.stride}

    @classmethod
    def from_dict(cls, d: dict, cap: int = 2048) -> History:
        return cls(
            cap, [int(s) for s in d.get("steps", [])], [float(v) for v in d.get("values", [])], int(d.get("stride", 1))
        )
