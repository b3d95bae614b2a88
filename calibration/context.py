"""What a calibration experiment runs with: the lab, an executor, the current values, and where output goes.

Experiments read calibrated values (``q0.frequency``, ``q0.x_amp``...) through :meth:`Context.value`, which
falls back to the lab file's bring-up guesses only where a guess is meaningful and otherwise says which
experiment provides the value. They build schedules with :mod:`qubitlab.calibration.schedules`, run them
through :meth:`Context.run` (one compiled program per sweep), and save raw data through :attr:`datasets`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qubitlab.config.models import BringUp, LabConfig, QubitGuess
from qubitlab.drivers.base import RawAcquisitions
from qubitlab.drivers.executor import Executor
from qubitlab.drivers.payloads import MeasReturn
from qubitlab.errors import CalibrationError

PROVIDERS = {
    "resonator_frequency": "resonator_spectroscopy", "readout_frequency": "resonator_spectroscopy",
    "frequency": "qubit_spectroscopy", "x_amp": "rabi", "sx_amp": "rabi", "drag_beta": "drag",
    "iq0_re": "readout", "iq0_im": "readout", "iq1_re": "readout", "iq1_im": "readout",
}
"""Which experiment writes a value first (named in the error when it is missing)."""


@dataclass
class Context:
    """Everything an experiment needs; ``values`` is updated as experiments commit."""

    lab: LabConfig
    executor: Executor
    values: dict[str, float] = field(default_factory=dict)
    out_dir: Path = Path("out")
    datasets: Any = None
    """A :class:`qubitlab.calibration.datasets.Datasets`, or None not to save raw data."""
    shots: int = 1000

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

    def value(self, key: str, default: float | None = None) -> float:
        """The current value of ``key`` (``q0.x_amp``); ``default`` when given and there is none."""
        if key in self.values:
            return self.values[key]
        if default is not None:
            return default
        name = key.split(".", 1)[-1]
        hint = f"; run {PROVIDERS[name]} first" if name in PROVIDERS else ""
        raise CalibrationError(f"no calibrated value for {key}{hint}")

    # -- gate parameters in samples ----------------------------------------------------------------------------
    def samples(self, seconds: float, multiple: int = 1) -> int:
        n = int(round(seconds / self.lab.dt))
        return max(multiple, n - n % multiple)

    def pulse_shape(self, qubit: int) -> tuple[int, float, float]:
        """Duration (samples), sigma (samples) and DRAG beta (samples) of the single-qubit gates."""
        b = self.bringup
        duration = self.samples(self.value(f"q{qubit}.pulse_duration", b.pulse_duration))
        sigma = self.value(f"q{qubit}.pulse_sigma", b.pulse_sigma) / self.lab.dt
        beta = self.value(f"q{qubit}.drag_beta", 0.0) / self.lab.dt
        return duration, sigma, beta

    def readout_shape(self, qubit: int) -> tuple[int, float]:
        b = self.bringup
        return (self.samples(self.value(f"q{qubit}.readout_duration", b.readout_duration), 16),
                self.value(f"q{qubit}.readout_amp", b.readout_amp))

    # -- frames and runs ---------------------------------------------------------------------------------------
    def frames(self, **overrides: float) -> dict[str, float]:
        """Frame frequency per channel: calibrated values, else the middle of the bring-up ranges."""
        out: dict[str, float] = {}
        for q in self.lab.qubits:
            guess = self.bringup.qubits.get(q) if self.lab.bringup else None
            fq = self.values.get(f"q{q}.frequency", sum(guess.qubit_range) / 2 if guess else None)
            fr = self.values.get(f"q{q}.readout_frequency", self.values.get(f"q{q}.resonator_frequency",
                                 sum(guess.resonator_range) / 2 if guess else None))
            if fq is not None and f"d{q}" in self.lab.wiring.channels:
                out[f"d{q}"] = fq
            if fr is not None and f"m{q}" in self.lab.wiring.channels:
                out[f"m{q}"] = fr
        for name, channel in self.lab.wiring.channels.items():
            if name.startswith("u") and channel.target is not None and f"d{channel.target}" in out:
                out[name] = out[f"d{channel.target}"]
        out.update(overrides)
        return out

    def run(self, schedule: Any, values: Sequence[Mapping[Any, Any]] | None = None, *, shots: int | None = None,
            average: bool = False, frames: Mapping[str, float] | None = None) -> RawAcquisitions:
        """Compile ``schedule`` (a list of schedules, or one with ``values`` per point) as one program and run
        it; ``average`` returns the mean over shots per point."""
        from qubitlab.pulse.compiler import compile

        program = compile(schedule, self.lab, dict(frames or self.frames()), values=values,
                          meas_return=MeasReturn.AVERAGE if average else MeasReturn.SINGLE)
        return self.executor.run(program, shots=shots or self.shots, rep_delay=self.bringup.rep_delay)
