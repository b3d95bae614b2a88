"""The gate map built from calibrated values: what ``lower`` plays for x, sx, measure and ecr on this device.

Circuits reach the hardware through :mod:`qubitlab.circuits` (translate to rz/sx/x/ecr, lower through a
:class:`~qubitlab.circuits.GateMap`); this module is the one place that turns a calibration snapshot into
those templates. :func:`gate_map_from_snapshot` is a pure function of the lab file and a snapshot (no
instruments, no bring-up section needed when the snapshot holds the gate settings); the experiments that check
gates (Bell, RB) call the same code through their context, so they test exactly what users and the runtime run.

The echoed cross-resonance follows Qiskit's ``ECRGate`` ``(IX - XY) / sqrt(2)``: in time order a CR(+) tone
(GaussianSquare on the control channel ``u_k`` at the target's frequency, at angle ``cr_phase``) making
``RZX(pi/4)``, an ``x`` on the control, and CR(-) (angle ``cr_phase + pi``) making ``RZX(-pi/4)``. Each CR
half is accompanied by a cancellation tone of the same shape on the target's drive channel (``cancel_amp`` at
``cancel_phase``, flipped with the CR) that removes the target rotation not conditioned on the control
(line crosstalk and the CR's own IX/IY) and adds a rotary, a full turn of the target about x per half that
averages its Z rates out (see :mod:`qubitlab.calibration.experiments.cross_resonance`). ``rz`` is not in the
map: lowering makes it a virtual Z on every frame channel of the qubit (``d_q`` and the ``u_k`` that target q).

The echo removes the control's Z rotation and the ZZ term, but not the target's: with the control in |1> the
target precesses at the static ZZ shift (hundreds of kHz when a transmon's 1-2 line is near the other's 0-1),
and the CR tone Stark-shifts it; over the two halves that is an IZ rotation of the target, tilted into the ZX
axis (0.8 rad for a device with 250 kHz of ZZ and 400 ns halves). The ECR cancels it with two virtual Zs on
the target, ``rz(target_rz_before)`` before its pulses and ``rz(target_rz_after)`` after them (frame changes on
every frame channel of the target, as a circuit's ``rz`` would be), which the cross-resonance calibration
derives from its Hamiltonian tomography. A store without them (older calibrations) gets no correction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.parameters import pkey, qkey
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.calibration.values import CalibratedValues, ValueReader
from qubitlab.circuits import GateMap
from qubitlab.circuits.gate_map import frame_channels_from_lab
from qubitlab.config.models import LabConfig
from qubitlab.errors import CalibrationError, ConfigError
from qubitlab.pulse.channels import PulseChannel

PAIR_KEYS = ("cr_amp", "cr_duration", "cr_phase", "cancel_amp", "cancel_phase")
"""Values of ``q{c}-q{t}.<key>`` an ecr needs (durations in seconds, phases in rad)."""
TARGET_RZ_KEYS = ("target_rz_before", "target_rz_after")
"""Optional ``q{c}-q{t}.<key>``: rz angles (rad) on the target around the ecr's pulses, 0 when not stored."""
CR_SIGMA = 16e-9
"""Default Gaussian sigma of the CR rise and fall, s (a stored ``q{c}-q{t}.cr_sigma`` wins); each edge is 2 sigma."""
RISEFALL = 2.0
SAMPLE_MULTIPLE = 8
"""CR halves are whole multiples of 16 samples (the ECR then stays on the even grid the acquisitions need)."""


def control_channel(lab: LabConfig, control: int, target: int) -> int:
    """Index k of the ``u<k>`` channel driving ``control``'s line at ``target``'s frequency."""
    try:
        return lab.control_channel_for(control, target)
    except ConfigError as exc:
        raise CalibrationError(f"{exc}; add a u<k> channel to the wiring") from None


def _wired_pairs(lab: LabConfig) -> list[tuple[int, int]]:
    return sorted(lab.control_channels().values())


def cr_shape(ctx: ValueReader, control: int, target: int, duration: float | None = None) -> tuple[int, float, int]:
    """Duration and sigma (samples) of one CR half and its flat width (samples)."""
    seconds = duration if duration is not None else ctx.value(pkey(control, target, "cr_duration"))
    samples = ctx.samples(seconds, 2 * SAMPLE_MULTIPLE)
    sigma = ctx.value(pkey(control, target, "cr_sigma"), CR_SIGMA) / ctx.lab.dt
    width = samples - 2 * int(round(RISEFALL * sigma))
    if width < 0:
        raise CalibrationError(f"CR duration {samples} samples is shorter than its rise and fall "
                               f"({2 * RISEFALL * sigma:.0f} samples); choose a longer cr_duration")
    return samples, sigma, width


def cr_half(ctx: ValueReader, control: int, target: int, amp: Any, phase: Any, cancel_amp: Any, cancel_phase: Any,
            duration: float | None = None, width: int | None = None) -> None:
    """One CR tone on ``u_k`` and its cancellation tone on ``d_target``, starting together (inside ``build``).

    ``width`` overrides the flat top (samples) keeping the edges, for Hamiltonian tomography."""
    samples, sigma, flat = cr_shape(ctx, control, target, duration)
    if width is not None:
        samples, flat = samples - flat + width, width
    k = control_channel(ctx.lab, control, target)
    with pulse.align_left():
        pulse.play(pulse.GaussianSquare(samples, amp, sigma, flat, angle=phase), pulse.ControlChannel(k))
        pulse.play(pulse.GaussianSquare(samples, cancel_amp, sigma, flat, angle=cancel_phase),
                   pulse.DriveChannel(target))


def ecr(ctx: ValueReader, control: int, target: int, *, frames: Sequence[PulseChannel] | None = None,
        phase_sign: int = 1, **override: Any) -> None:
    """The echoed CR inside an active ``build``: rz(target_rz_before) on the target, CR(+), x on the control,
    CR(-), rz(target_rz_after) on the target. ``override`` replaces any of :data:`PAIR_KEYS` and
    :data:`TARGET_RZ_KEYS` (a number or a ``Parameter``) for calibration scans.

    The rz are ``ShiftPhase(phase_sign * angle)`` on ``frames``, the target's frame channels (by default its
    ``d`` channel and every ``u`` channel that targets it), as lowering makes a circuit's rz."""
    v = {name: override[name] if name in override else ctx.value(pkey(control, target, name))
         for name in PAIR_KEYS}
    v.update({name: override[name] if name in override else ctx.value(pkey(control, target, name), 0.0)
              for name in TARGET_RZ_KEYS})
    channels = tuple(frames) if frames is not None else frame_channels_from_lab(ctx.lab)[target]
    duration = float(v["cr_duration"])

    def virtual_z(angle: Any) -> None:
        if isinstance(angle, (int, float)) and angle == 0:
            return
        for channel in channels:
            pulse.shift_phase(phase_sign * angle, channel)

    with pulse.align_sequential():
        virtual_z(v["target_rz_before"])
        cr_half(ctx, control, target, v["cr_amp"], v["cr_phase"], v["cancel_amp"], v["cancel_phase"], duration)
        schedules.x(ctx, control)
        cr_half(ctx, control, target, v["cr_amp"], v["cr_phase"] + math.pi, v["cancel_amp"],
                v["cancel_phase"] + math.pi, duration)
        virtual_z(v["target_rz_after"])


def missing_pair_keys(ctx: ValueReader, control: int, target: int) -> list[str]:
    return [pkey(control, target, k) for k in PAIR_KEYS if not ctx.has(pkey(control, target, k))]


def calibrated_pairs(ctx: ValueReader) -> list[tuple[int, int]]:
    """Control-channel directions (c, t) for which the snapshot holds at least one ecr value."""
    return [pair for pair in _wired_pairs(ctx.lab) if len(missing_pair_keys(ctx, *pair)) < len(PAIR_KEYS)]


def gate_map_from_snapshot(lab: LabConfig, snapshot: Snapshot, pairs: Iterable[tuple[int, int]] | None = None, *,
                           qubits: Iterable[int] | None = None, phase_sign: int = 1) -> GateMap:
    """The gate map of ``lab`` calibrated as in ``snapshot``: x, sx and measure for ``qubits`` (default every
    qubit of the lab), ecr for ``pairs`` (default every wired pair with ecr values in the snapshot).

    Pure: no instruments are touched. Gate and readout shapes come from the snapshot, else from the lab's
    ``bringup`` settings; a missing value raises :class:`CalibrationError` naming the key and what provides it."""
    return build_gate_map(CalibratedValues(lab, snapshot), pairs, phase_sign, qubits)


def build_gate_map(ctx: ValueReader, pairs: Iterable[tuple[int, int]] | None = None, phase_sign: int = 1,
                   qubits: Iterable[int] | None = None) -> GateMap:
    """x, sx and measure for ``qubits`` (default: every qubit of the lab) and ecr for ``pairs`` (default: every
    pair with ecr values stored), from the current values; a :class:`CalibrationError` names every missing
    value.

    ``phase_sign`` is the lab's virtual-Z convention (+1 for qubitlab's conjugating IQ mixers, see
    :mod:`qubitlab.circuits.gate_map`)."""
    chosen = sorted(pairs) if pairs is not None else calibrated_pairs(ctx)
    wanted = set(ctx.lab.topology.qubits if qubits is None else qubits) | {q for pair in chosen for q in pair}
    qubits = sorted(wanted)
    missing = [qkey(q, k) for q in qubits for k in ("x_amp", "sx_amp") if not ctx.has(qkey(q, k))]
    for c, t in chosen:
        missing += missing_pair_keys(ctx, c, t)
    if missing:
        raise CalibrationError(f"cannot build the gate map: no calibrated value for {', '.join(missing)}; run rabi "
                               "for x_amp/sx_amp and cross_resonance for the q<c>-q<t> ecr values")
    gm = GateMap.from_lab(ctx.lab, phase_sign=phase_sign)
    for q in qubits:
        for name, play in (("x", schedules.x), ("sx", schedules.sx)):
            with pulse.build(name=f"{name}_q{q}") as block:
                play(ctx, q)
            gm.add(name, (q,), block)
        with pulse.build(name=f"measure_q{q}") as block:
            schedules.measure(ctx, [q])
        gm.add("measure", (q,), block)
    for c, t in chosen:
        with pulse.build(name=f"ecr_q{c}_q{t}") as block:
            ecr(ctx, c, t, frames=gm.frames(t), phase_sign=phase_sign)
        gm.add("ecr", (c, t), block)
    return gm
