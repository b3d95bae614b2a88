"""What a calibration experiment runs with: the lab, an executor, the current calibration snapshot, and where
output goes.

Experiments read calibrated values (``q0.frequency``, ``q0.x_amp``...) through :meth:`Context.value` from an
immutable :class:`~qubitlab.calibration.snapshot.Snapshot`; after a commit the bring-up hands the context the
store's new snapshot (:meth:`Context.update` does the same without a store), so every run knows exactly which
values it ran with and records that snapshot's id. Only while calibrating may frame frequencies fall back to the
lab file's bring-up guesses. Experiments build schedules with :mod:`qubitlab.calibration.schedules`, run them
through :meth:`Context.run` (one compiled program per sweep), and save raw data through :attr:`datasets`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from qubitlab.calibration.snapshot import Snapshot
from qubitlab.calibration.values import ValueReader
from qubitlab.config.models import LabConfig
from qubitlab.drivers.base import RawAcquisitions
from qubitlab.drivers.executor import Executor
from qubitlab.drivers.payloads import MeasLevel, MeasReturn


@dataclass
class Context(ValueReader):
    """Everything an experiment needs; ``snapshot`` is replaced (never mutated) as experiments commit."""

    lab: LabConfig
    executor: Executor
    snapshot: Snapshot = field(default_factory=Snapshot.empty)
    out_dir: Path = Path("out")
    datasets: Any = None
    """A :class:`qubitlab.calibration.datasets.Datasets`, or None not to save raw data."""
    shots: int = 1000

    @property
    def guesses(self) -> bool:
        return self.lab.bringup is not None

    @property
    def values(self) -> Mapping[str, float]:
        """The snapshot's values by key, read-only."""
        return MappingProxyType(self.snapshot.to_values())

    def update(self, values: Mapping[str, float | tuple[float, float | None]]) -> None:
        """Go on with a new snapshot holding ``values`` (what a commit would give, without a store)."""
        self.snapshot = self.snapshot.with_values(values)

    def run(self, schedule: Any, values: Sequence[Mapping[Any, Any]] | None = None, *, shots: int | None = None,
            average: bool = False, frames: Mapping[str, float] | None = None,
            meas_level: MeasLevel = MeasLevel.KERNELED) -> RawAcquisitions:
        """Compile ``schedule`` (a list of schedules, or one with ``values`` per point) as one program and run
        it; ``average`` returns the mean over shots per point, ``meas_level=MeasLevel.RAW`` the demodulated
        traces. The run record names the snapshot."""
        from qubitlab.pulse.compiler import compile

        program = compile(schedule, self.lab, dict(frames or self.frames()), values=values, meas_level=meas_level,
                          meas_return=MeasReturn.AVERAGE if average else MeasReturn.SINGLE)
        return self.executor.run(program, shots=shots or self.shots, rep_delay=self.bringup.rep_delay,
                                 snapshot_id=self.snapshot.id)
