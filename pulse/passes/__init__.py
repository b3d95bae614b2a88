"""The compiler's passes, in the order ``qubitlab.pulse.compiler.compile`` runs them.

Each pass is a pure function from plain data to plain data and raises ``CompilationError`` naming itself, the
channel, the time in samples and the instruction it refused. They are importable one by one for testing:

1. ``flatten_points``   programs -> instructions at absolute sample times, per channel, per sweep point
2. ``track_frames``     phase and frequency per channel (Qiskit Pulse semantics)
3. ``modulate``         IF modulation at frame - LO, continuous phase, bandwidth check
4. ``map_to_outputs``   lines -> AWG I/Q outputs
5. ``segment``          granularity, minimum length, idle time as sequence waits
6. ``check_limits``     amplitude and LO limits, ``check_program_limits`` sequencer steps and waveform memory:
                        refuse, never clip
7.-8. ``emit_*``        waveform de-duplication by content hash, payload emission
"""

from __future__ import annotations

from qubitlab.pulse.passes.emit import WaveformTable, emit_awg, emit_digitizers, emit_los
from qubitlab.pulse.passes.flatten import FlatPoint, flatten_points
from qubitlab.pulse.passes.frames import FramedPlays, track_frames
from qubitlab.pulse.passes.hardware import AcquisitionView, AwgView, HardwareView, LineView, LoView, OutputView
from qubitlab.pulse.passes.limits import check_limits, check_lo_limits, check_program_limits
from qubitlab.pulse.passes.modulate import Contribution, lo_settings, modulate
from qubitlab.pulse.passes.outputs import OutputContribution, map_to_outputs
from qubitlab.pulse.passes.segment import Busy, Idle, segment

__all__ = [
    "AcquisitionView",
    "AwgView",
    "Busy",
    "Contribution",
    "FlatPoint",
    "FramedPlays",
    "HardwareView",
    "Idle",
    "LineView",
    "LoView",
    "OutputContribution",
    "OutputView",
    "WaveformTable",
    "check_limits",
    "check_lo_limits",
    "check_program_limits",
    "emit_awg",
    "emit_digitizers",
    "emit_los",
    "flatten_points",
    "lo_settings",
    "map_to_outputs",
    "modulate",
    "segment",
    "track_frames",
]
