"""qubitlab.pulse: the Qiskit-Pulse-1.4-compatible pulse programming model.

A script written for ``from qiskit import pulse`` runs after changing that line to ``from qubitlab import
pulse`` (and ``from qiskit.circuit import Parameter`` to ``from qubitlab.pulse import Parameter``). On top of
Qiskit's API this package adds :func:`render` (per-channel baseband envelopes) and JSON :func:`dumps`/
:func:`loads`. The compiler to instrument payloads lives in ``qubitlab.pulse.compiler`` (next issue).
"""

from __future__ import annotations

from qubitlab.errors import PulseError, UnassignedDurationError, UnassignedReferenceError
from qubitlab.pulse import library, transforms
from qubitlab.pulse.alignments import AlignEquispaced, AlignFunc, AlignLeft, AlignRight, AlignSequential
from qubitlab.pulse.block import ScheduleBlock, block_to_schedule
from qubitlab.pulse.builder import (
    acquire,
    acquire_channel,
    active_backend,
    align_equispaced,
    align_func,
    align_left,
    align_right,
    align_sequential,
    append_instruction,
    barrier,
    build,
    call,
    control_channels,
    delay,
    drive_channel,
    frequency_offset,
    general_transforms,
    measure_channel,
    num_qubits,
    phase_offset,
    play,
    qubit_channels,
    reference,
    samples_to_seconds,
    seconds_to_samples,
    set_frequency,
    set_phase,
    shift_frequency,
    shift_phase,
)
from qubitlab.pulse.channels import (
    AcquireChannel,
    Channel,
    ControlChannel,
    DriveChannel,
    MeasureChannel,
    MemorySlot,
    PulseChannel,
    RegisterSlot,
    SnapshotChannel,
)
from qubitlab.pulse.instructions import (
    Acquire,
    Barrier,
    Delay,
    Discriminator,
    Instruction,
    Kernel,
    Play,
    Reference,
    RelativeBarrier,
    SetFrequency,
    SetPhase,
    ShiftFrequency,
    ShiftPhase,
    TimeBlockade,
)
from qubitlab.pulse.library import (
    Constant,
    Cos,
    Drag,
    Gaussian,
    GaussianDeriv,
    GaussianSquare,
    GaussianSquareDrag,
    GaussianSquareEcho,
    Pulse,
    Sawtooth,
    ScalableSymbolicPulse,
    Sech,
    Sin,
    Square,
    SymbolicPulse,
    Triangle,
    Waveform,
    gaussian_square_echo,
)
from qubitlab.pulse.parameters import Parameter, ParameterExpression, ParameterVector
from qubitlab.pulse.rendering import render
from qubitlab.pulse.schedule import Schedule
from qubitlab.pulse.serialize import dumps, loads

__all__ = [name for name in dir() if not name.startswith("_") and name != "annotations"]
