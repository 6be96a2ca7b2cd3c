"""Shared benchmark helpers: repeated timing with median and spread, one row per measurement.

Benchmarks report ratios against the plain library path measured in the same run,
because these machines are noisy; absolute seconds are context, not targets.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Stats:
    median: float
    lo: float  # fastest repetition
    hi: float  # slowest repetition
    reps: int

    @property
    def spread(self) -> str:
        return f"{self.lo:.4g}-{self.hi:.4g}"


def measure(fn: Callable[[], object], reps: int = 5, warmup: int = 1) -> Stats:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Stats(statistics.median(times), min(times), max(times), reps)


def measure_pair(ours: Callable[[], object], bare: Callable[[], object], reps: int = 5,
                 warmup: bool = True) -> tuple[Stats, Stats]:
    """Interleave the two paths so drifting machine load hits both alike (warm-up off for slow one-shot runs)."""
    if warmup:
        ours(), bare()
    t_ours, t_bare = [], []
    for _ in range(reps):
        for fn, acc in ((ours, t_ours), (bare, t_bare)):
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    mk = lambda ts: Stats(statistics.median(ts), min(ts), max(ts), reps)  # noqa: E731
    return mk(t_ours), mk(t_bare)


@dataclass
class Row:
    lesson: str
    measure: str
    ours_s: float | None = None
    bare_s: float | None = None
    ratio: float | None = None
    target: str = ""
    spread: str = ""
    note: str = ""

    @property
    def ok(self) -> bool | None:
        """Targets read "<=1.5x" (a ratio) or "< 15 s" / "< 1536 MB" (an absolute figure in ours_s)."""
        t = self.target.replace(" ", "")
        if t.startswith("<=") and t.endswith("x") and self.ratio is not None:
            return self.ratio <= float(t[2:-1])
        if t.startswith("<") and not t.startswith("<=") and self.ours_s is not None:
            return self.ours_s < float(t[1:].rstrip("smMB"))
        return None

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def ratio_row(lesson: str, what: str, ours: Stats, bare: Stats, target: str = "", note: str = "") -> Row:
    return Row(lesson, what, ours.median, bare.median, ours.median / bare.median, target,
               f"ours {ours.spread} / bare {bare.spread} s, n={ours.reps}", note)


def available_text_models(keys: list[str]) -> list:
    """The registry's text models that load here (optional ones are skipped when absent)."""
    from gen_viz import models

    out = []
    for key in keys:
        try:
            out.append(models.load_text_model(key))
        except models.ModelUnavailable:
            continue
    return out
