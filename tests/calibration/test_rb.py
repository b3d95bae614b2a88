"""1-qubit RB on the virtual lab against the coherence limit of its gates.

Coherence limit of a gate of duration t on a qubit with T1, T2 (average gate infidelity of amplitude damping and
dephasing): r = (3 - exp(-t/T1) - 2 exp(-t/T2)) / 6. A Clifford costs 20/24 pulses on average here (the four
diagonal Cliffords are virtual, the other twenty take one x or one sx), so t = 20/24 * 40 ns.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from coherence import PULSES_PER_CLIFFORD, coherence_limit
from two_qubit_values import quick_context, set_drag
from virtual_rig import started_rig

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiments import rb
from qubitlab.calibration.gates import build_gate_map
from qubitlab.circuits import Circuit, Target, clifford_group, translate


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    with started_rig() as rig:
        context = quick_context(rig, tmp_path_factory.mktemp("rb"))
        set_drag(context, 0)
        yield context


def pulses_per_clifford(ctx: Context) -> float:
    group = clifford_group(1)
    target = Target.from_lab(ctx.lab, build_gate_map(ctx, pairs=[]))
    counts = []
    for i in range(group.size):
        qc = Circuit(2)
        for name, qubits in group.gates(i):
            qc.append(name, qubits)
        counts.append(sum(op.name in ("sx", "x") for op in translate(qc, target)))
    return float(np.mean(counts))


def test_rb_epc_is_near_the_coherence_limit(ctx: Context) -> None:
    per_clifford = pulses_per_clifford(ctx)
    assert per_clifford == pytest.approx(PULSES_PER_CLIFFORD)
    device = ctx.lab.device.model_dump()["qubits"][0]  # type: ignore[union-attr]
    limit = coherence_limit(float(device["t1"]), float(device["t2"]), ctx.pulse_shape(0)[0] * ctx.lab.dt)
    outcome = rb.run(ctx, 0)
    assert outcome.passed, outcome.summary()
    epc, error = outcome.updates["q0.epc_1q"]
    assert error is not None
    print(f"EPC {epc:.3g} +- {error:.2g}, coherence limit {limit:.3g}, ratio {epc / limit:.2f}")
    assert limit / 1.5 - 2 * error <= epc <= 1.5 * limit
