"""Single-qubit values for the two-qubit and benchmarking tests, without waiting for the full bring-up.

Frequencies come from the virtual lab's ``device:`` section (the truth the other experiments would find),
the gate amplitudes from a real Rabi run on the rig, and the discriminator from the blob centres of |0> and
|1> prepared in one program. That is enough to build x, sx and measure in the gate map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiments import rabi
from qubitlab.calibration.two_qubit import assignment_programs, lowered


def quick_context(rig: object, out_dir: Path, shots: int = 1000) -> Context:
    """A :class:`Context` on ``rig`` (a ``virtual_rig.Rig``) holding frequencies, x/sx amplitudes and
    discriminators for every qubit."""
    lab = rig.lab  # type: ignore[attr-defined]
    ctx = Context(lab, rig.executor, out_dir=out_dir, shots=shots)  # type: ignore[attr-defined]
    device = lab.device.model_dump() if lab.device else {}
    qubits = sorted(lab.topology.qubits)
    for q in qubits:
        params = device["qubits"][q]
        ctx.update({f"q{q}.frequency": float(params["frequency"]),
                    f"q{q}.readout_frequency": float(params["resonator_frequency"])})
    for q in qubits:
        outcome = rabi.run(ctx, q)
        assert outcome.passed, outcome.summary()
        ctx.update(dict(outcome.updates))
    set_discriminators(ctx, qubits)
    return ctx


def set_discriminators(ctx: Context, qubits: list[int]) -> None:
    """Blob centres of all-|0> and all-|1> (prepared in one program) as each qubit's discriminator."""
    programs = assignment_programs(ctx, qubits)
    result = ctx.run(programs)
    for q in qubits:
        iq = result[q]
        z0, z1 = complex(np.mean(iq[0])), complex(np.mean(iq[1]))
        ctx.update({f"q{q}.iq0_re": z0.real, f"q{q}.iq0_im": z0.imag,
                           f"q{q}.iq1_re": z1.real, f"q{q}.iq1_im": z1.imag})


def set_drag(ctx: Context, qubit: int, betas: np.ndarray | None = None, repeats: int = 10) -> float:
    """A quick DRAG beta for ``qubit`` (stored in ``q.drag_beta``, seconds): sx followed by ``repeats`` pairs of
    x and x at angle pi accumulates the pulses' phase error, which moves P(1) off 1/2 linearly in beta; the
    zero crossing (relative to the midpoint of |0> and |1> read out in the same program) is the beta."""
    betas = np.linspace(-1.0, 0.5, 7) if betas is None else betas
    x_amp, sx_amp = ctx.value(f"q{qubit}.x_amp"), ctx.value(f"q{qubit}.sx_amp")
    programs = []
    for beta in betas:
        with pulse.build(name=f"drag_{beta:.3f}") as block:
            with pulse.align_sequential():
                schedules.drag(ctx, qubit, sx_amp, beta=float(beta))
                for _ in range(repeats):
                    schedules.drag(ctx, qubit, x_amp, beta=float(beta))
                    schedules.drag(ctx, qubit, x_amp, beta=float(beta), angle=np.pi)
                schedules.measure(ctx, [qubit])
        programs.append(block)
    from qubitlab.calibration.experiment import excited_population

    result = ctx.run(programs + assignment_programs(ctx, [qubit]))
    p1 = excited_population(result[qubit], ctx, qubit)
    middle = (p1[-2] + p1[-1]) / 2
    slope, intercept = np.polyfit(betas, p1[:-2] - middle, 1)
    beta0 = float(-intercept / slope)
    assert betas.min() <= beta0 <= betas.max(), (betas, p1)
    ctx.update({f"q{qubit}.drag_beta": beta0 * ctx.lab.dt})
    return beta0


ECR_CHECKS = tuple((start, basis) for start in (0, 1) for basis in ("Z", "Y"))
"""The ECR checks' points, in order: control prepared in |0> or |1>, the target measured in Z or Y."""


def ecr_check_programs(ctx: Context, gate_map: object) -> list[object]:
    """One lowered program per :data:`ECR_CHECKS` point: ``ecr(0, 1)`` from |start, 0>, the target rotated so
    that its Y is measured for basis ``"Y"``, both qubits measured. Ideal ECR: the control flips, the target's
    <Z> is 0 and its <Y> is -1 from |00>, +1 from |10>."""
    from qubitlab.circuits import Circuit

    programs = []
    for start, basis in ECR_CHECKS:
        qc = Circuit(2, 2)
        if start:
            qc.x(0)
        qc.ecr(0, 1)
        if basis == "Y":
            qc.sdg(1).h(1)
        programs.append(lowered(ctx, gate_map, qc.barrier(0, 1).measure(0, 0).measure(1, 1)))  # type: ignore[arg-type]
    return programs
