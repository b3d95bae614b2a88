"""What the compiler needs to know of the lab, as plain frozen data: lines, AWGs, LOs, digitizer inputs.

The compiler reads the lab only through this view, so its passes can be tested with a hand-made view, and
the lab-configuration schema can grow without touching the passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from qubitlab.errors import CompilationError


@dataclass(frozen=True)
class OutputView:
    """One AWG output: its full scale and the largest fraction of it the compiler may ask for."""

    name: str
    full_scale_vpp: float
    max_amplitude: float


@dataclass(frozen=True)
class AwgView:
    """An AWG as the compiler sees it: timing from the lab file, sequencer and memory limits from its model
    (``max_sequence_steps``, ``waveform_memory`` in samples per output; 0 means not modelled)."""

    instrument: str
    sample_rate: float
    granularity: int
    min_length: int
    max_if_bandwidth: float
    outputs: Mapping[str, OutputView]
    max_sequence_steps: int = 0
    waveform_memory: int = 0
    model: str = "AWG"


@dataclass(frozen=True)
class LineView:
    """A physical line: the AWG outputs that make it (I, Q), the LO that up-converts it and its settings."""

    name: str
    kind: str
    awg: str
    outputs: tuple[str, str]
    lo: str | None
    lo_frequency: float
    lo_power: float


@dataclass(frozen=True)
class LoView:
    instrument: str
    frequency_range: tuple[float, float]
    power_range: tuple[float, float]


@dataclass(frozen=True)
class AcquisitionView:
    """Where an acquisition channel is digitized, and the readout line it listens to."""

    digitizer: str
    input: str
    sample_rate: float
    line: str


@dataclass(frozen=True)
class HardwareView:
    dt: float
    lines: Mapping[str, LineView]
    channel_lines: Mapping[str, str]
    """Logical pulse channel name (``d0``, ``u0``, ``m0``) -> line name."""
    awgs: Mapping[str, AwgView]
    los: Mapping[str, LoView]
    acquisitions: Mapping[str, AcquisitionView]
    """Acquisition channel name (``a0``) -> digitizer input."""

    def line_of(self, channel: str, *, pass_name: str, time: int | None = None, instruction: object = None
                ) -> LineView:
        """The line a channel plays on; ``time`` and ``instruction`` only go into the error message."""
        try:
            return self.lines[self.channel_lines[channel]]
        except KeyError:
            raise CompilationError(
                f"channel {channel} is not wired in the lab configuration; wired channels: "
                f"{', '.join(sorted(self.channel_lines)) or 'none'}",
                pass_name=pass_name, channel=channel, time=time,
                instruction=None if instruction is None else repr(instruction),
            ) from None

    def samples_per_dt(self, awg: str) -> int:
        ratio = self.awgs[awg].sample_rate * self.dt
        return int(round(ratio))


def hardware_view(lab: Any) -> HardwareView:
    """The compiler's view of a ``qubitlab.config.LabConfig`` (already cross-checked when it was loaded)."""
    awgs = {}
    for name, timing in lab.timing.awgs.items():
        model = lab.instruments[name].model
        outputs = {o: OutputView(o, lab.output_limits(name, o).full_scale_vpp, lab.output_limits(name, o).max_amplitude)
                   for o in model.channels}
        awgs[name] = AwgView(name, timing.sample_rate, timing.granularity, timing.min_length,
                             timing.max_if_bandwidth, outputs, model.max_sequence_steps, model.waveform_memory,
                             model.key)
    lines = {name: LineView(name, line.kind, line.awg, tuple(line.outputs), line.lo, line.lo_frequency,
                            line.lo_power) for name, line in lab.wiring.lines.items()}
    channel_lines = {name: ch.line for name, ch in lab.wiring.channels.items() if ch.line is not None}
    los = {name: LoView(name, tuple(limits.frequency_range), tuple(limits.power_range))
           for name, limits in lab.limits.los.items()}
    readout = {q: lab.wiring.channels[f"m{q}"].line for q in lab.qubits if f"m{q}" in lab.wiring.channels}
    acquisitions = {
        name: AcquisitionView(ch.digitizer, ch.input, lab.timing.digitizers[ch.digitizer].sample_rate,
                              readout.get(int(name[1:]), ""))
        for name, ch in lab.wiring.channels.items() if ch.digitizer is not None
    }
    return HardwareView(lab.timing.dt, lines, channel_lines, awgs, los, acquisitions)
