"""Timing and reporting shared by the benchmark suites: medians over repeats, a table, a JSON report."""

from __future__ import annotations

import gc
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one callable."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)


def measure(fn: Callable[[], Any], repeat: int = 20, warmup: int = 2, setup: Callable[[], Any] | None = None) -> Timing:
    """Time ``fn()`` ``repeat`` times after ``warmup`` untimed calls; ``setup()`` runs untimed before each."""
    for _ in range(warmup):
        if setup is not None:
            setup()
        fn()
    samples = []
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(repeat):
            if setup is not None:
                setup()
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
            gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(tuple(samples))


@dataclass(frozen=True)
class Row:
    """One line of a benchmark table; times in seconds, ``target`` is the median to stay under (or None)."""

    suite: str
    name: str
    timing: Timing
    target: float | None = None
    reference: float | None = None
    """Median of the same-run reference (floor or peer) this row is compared with, in seconds."""
    reference_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if self.reference is None else self.timing.median / self.reference

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.timing.median <= self.target

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["timing"] = {
            "median_s": self.timing.median,
            "min_s": self.timing.min,
            "max_s": self.timing.max,
            "repeats": len(self.timing.samples),
        }
        data["ratio_to_reference"] = self.ratio
        data["meets_target"] = self.meets_target
        return data


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


def print_table(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="qubitlab benchmarks (milliseconds)")
    for col in ("suite", "benchmark", "median", "min", "max", "target", "ok", "reference", "ratio"):
        table.add_column(col, justify="left" if col in ("suite", "benchmark", "reference") else "right")
    for row in rows:
        ok = {None: "", True: "yes", False: "NO"}[row.meets_target]
        ref = "-" if row.reference is None else f"{row.reference_name} {_ms(row.reference)}"
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        table.add_row(
            row.suite, row.name, _ms(row.timing.median), _ms(row.timing.min), _ms(row.timing.max),
            _ms(row.target), ok, ref, ratio,
        )
    Console(width=max(Console().width, 150)).print(table)


def write_json(rows: list[Row], path: Path) -> None:
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": _cpus()},
        "rows": [row.as_json() for row in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
