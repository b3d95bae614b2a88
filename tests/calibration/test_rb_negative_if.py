"""1-qubit RB on q1 of the virtual lab, whose drive LO sits above the qubit (IF about -107 MHz), with the beta
found by the DRAG experiment (not a test helper): its EPC is within 1.5x the coherence limit.

Issue 8 reported 5.2e-4 on q1 after a bring-up (limit ~3.0e-4). With the same calibrated values, RB with the
default 5 sequences per length gave 2.5e-4, 2.6e-4, 3.8e-4 in repeated runs and 20 sequences gave 3.3e-4 and
3.6e-4: the excess was the scatter of a 5-sequence estimate, not a gate error. This test therefore uses more
sequences at fewer lengths.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from coherence import coherence_limit
from two_qubit_values import quick_context
from virtual_rig import started_rig

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiments import drag, rb


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    with started_rig() as rig:
        context = quick_context(rig, tmp_path_factory.mktemp("rb_q1"))
        outcome = drag.run(context, 1)
        assert outcome.passed, outcome.summary()
        context.update(dict(outcome.updates))
        yield context


def test_rb_on_the_negative_if_qubit_is_near_its_coherence_limit(ctx: Context) -> None:
    device = ctx.lab.device.model_dump()["qubits"][1]  # type: ignore[union-attr]
    line = ctx.lab.wiring.lines[ctx.lab.wiring.channels["d1"].line]
    assert ctx.value("q1.frequency") < line.lo_frequency  # the case under test: LO above the qubit
    limit = coherence_limit(float(device["t1"]), float(device["t2"]), ctx.pulse_shape(1)[0] * ctx.lab.dt)
    outcome = rb.run(ctx, 1, lengths=(1, 200, 600, 1000), sequences=8, seed=5)
    assert outcome.passed, outcome.summary()
    epc, error = outcome.updates["q1.epc_1q"]
    assert error is not None
    print(f"q1 EPC {epc:.3g} +- {error:.2g}, coherence limit {limit:.3g}, ratio {epc / limit:.2f}")
    assert limit / 1.5 - 2 * error <= epc <= 1.5 * limit
