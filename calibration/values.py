"""Reading calibrated values the way gates and experiments need them: from an immutable snapshot, with the lab
file's bring-up settings as the only fallback, and gate shapes in samples.

:class:`ValueReader` is shared by :class:`CalibratedValues` (a lab and a snapshot: what the gate map, the
runtime and user scripts read) and the experiments' :class:`~qubitlab.calibration.context.Context` (which also
runs things), so a pulse is shaped the same way whichever of them builds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qubitlab.calibration.frames import frames, provider_hint
from qubitlab.calibration.parameters import qkey
from qubitlab.errors import CalibrationError

if TYPE_CHECKING:
    from qubitlab.calibration.snapshot import Snapshot
    from qubitlab.config.models import BringUp, LabConfig, QubitGuess


class ValueReader:
    """Methods over ``self.lab`` and ``self.snapshot``; subclasses provide both attributes."""

    lab: LabConfig
    snapshot: Snapshot

    @property
    def guesses(self) -> bool:
        """Whether frame frequencies may fall back to bring-up guesses (only while calibrating)."""
        return False

    @property
    def bringup(self) -> BringUp:
        if self.lab.bringup is None:
            raise CalibrationError(f"lab {self.lab.name!r} has no 'bringup' section (search ranges and rough "
                                   "guesses); see lab_configs/README.md")
        return self.lab.bringup

    def guess(self, qubit: int) -> QubitGuess:
        try:
            return self.bringup.qubits[qubit]
        except KeyError:
            raise CalibrationError(f"bringup.qubits has no entry for qubit {qubit}; qubits with guesses: "
                                   f"{', '.join(map(str, self.bringup.qubits))}") from None

    def has(self, *keys: str) -> bool:
        return all(key in self.snapshot for key in keys)

    def value(self, key: str, default: float | None = None) -> float:
        """The value of ``key`` (``q0.x_amp``) in the snapshot; ``default`` when given and there is none."""
        entry = self.snapshot.get(key)
        if entry is not None:
            return entry.value
        if default is not None:
            return default
        raise CalibrationError(f"no calibrated value for {key} in snapshot {self.snapshot.id}{provider_hint(key)}")

    def setting(self, qubit: int, name: str) -> float:
        """A gate or readout setting (``pulse_duration``, ``pulse_sigma``, ``readout_duration``, ``readout_amp``):
        the stored value, else the lab file's ``bringup.<name>``."""
        fallback = getattr(self.lab.bringup, name) if self.lab.bringup is not None else None
        return self.value(qkey(qubit, name), fallback)

    def samples(self, seconds: float, multiple: int = 1) -> int:
        n = int(round(seconds / self.lab.dt))
        return max(multiple, n - n % multiple)

    def pulse_shape(self, qubit: int) -> tuple[int, float, float]:
        """Duration (samples), sigma (samples) and DRAG beta (samples) of the single-qubit gates."""
        duration = self.samples(self.setting(qubit, "pulse_duration"))
        sigma = self.setting(qubit, "pulse_sigma") / self.lab.dt
        beta = self.value(qkey(qubit, "drag_beta"), 0.0) / self.lab.dt
        return duration, sigma, beta

    def readout_shape(self, qubit: int) -> tuple[int, float]:
        """Duration (samples, a multiple of 16) and amplitude of the readout tone."""
        return self.samples(self.setting(qubit, "readout_duration"), 16), self.setting(qubit, "readout_amp")

    def frames(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """Frame frequency of every wired channel from the snapshot (:func:`qubitlab.calibration.frames.frames`;
        bring-up guesses only where :attr:`guesses`); ``overrides`` (channel -> Hz) win."""
        given = dict(overrides or {})
        out = frames(self.lab, self.snapshot, guesses=self.guesses,
                     channels=[name for name in self.lab.wiring.channels if name not in given])
        out.update(given)
        return out


@dataclass(frozen=True)
class CalibratedValues(ValueReader):
    """A lab and the snapshot of its calibrated values: everything the gate map is built from."""

    lab: LabConfig
    snapshot: Snapshot
