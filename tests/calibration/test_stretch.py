"""Stretched gates for pulse-stretch ZNE: their store keys, the values the stretched gate map reads, and the
nodes stretch_1q / stretch_ecr on a brought-up virtual_2q.

Expected values come from the gates' physics: a stretched gate is ``c`` times longer (on the 16-sample CR
grid), its rotation is the envelope's area (so its amplitude is the plain one times the area ratio, to the
percent the second-order terms allow), and its Bell state loses only what the longer gate's decoherence
costs (T1, T2 from the lab file).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from calibrated_lab import copy_calibrated

from qubitlab.calibration.parameters import parse_key, stretched_name
from qubitlab.errors import CalibrationError


def test_stretched_names_follow_the_key_rules() -> None:
    assert stretched_name("x_amp", 2.0) == "x_amp_s2"
    assert stretched_name("cr_amp", 1.5) == "cr_amp_s1p5"
    assert stretched_name("target_rz_after", 1.25) == "target_rz_after_s1p25"
    assert stretched_name("x_amp", 1.0) == "x_amp"
    spec = parse_key("q0-q1.cr_duration_s3").spec
    assert (spec.unit, spec.low, spec.high) == ("s", 1e-8, 1e-5)               # the plain cr_duration's
    assert parse_key("q1.sx_amp_s1p5").qubits == (1,)
    for bad, why in (("q0.frequency_s2", "unknown parameter"), ("q0.x_amp_s1", "unknown parameter"),
                     ("q0.x_amp_s2p0", "unknown parameter"), ("q0.cr_amp_s2", "pair parameter")):
        with pytest.raises(CalibrationError, match=why) as info:
            parse_key(bad)
        assert "_s<factor>" in str(info.value)                                # says how stretched keys look
    with pytest.raises(CalibrationError, match="stretchable"):
        stretched_name("frequency", 2.0)
    with pytest.raises(CalibrationError, match="at most 3"):
        stretched_name("x_amp", 0.5)


@pytest.fixture(scope="module")
def stretched_lab(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[Path, list[Any]]]:
    """A copy of the brought-up virtual_2q with its gates stretched 2x calibrated (both nodes)."""
    from qubitlab.calibration import bringup
    from qubitlab.calibration.experiments.stretch import runner
    from qubitlab.calibration.session import open_calibration

    lab_file = copy_calibrated(calibrated_2q[0], tmp_path_factory.mktemp("stretched"))
    with open_calibration(lab_file) as session:
        steps = [bringup.Step(node, target, "test") for node in bringup.STRETCH
                 for target in bringup.targets(node, session.lab.qubits, session.lab.couplings)]
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, runner((2.0,)))
    yield lab_file, outcomes


def _snapshot(lab_file: Path) -> tuple[Any, Any]:
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore

    lab = load_lab(lab_file)
    with CalibrationStore.for_lab(lab) as store:
        return lab, store.snapshot()


def test_stretch_nodes_store_gates_twice_as_long_with_the_same_rotation(stretched_lab: tuple[Path, list[Any]]
                                                                         ) -> None:
    from qubitlab import pulse
    from qubitlab.calibration.gates import CR_SIGMA

    lab_file, outcomes = stretched_lab
    assert [o.experiment for o in outcomes] == ["stretch_1q", "stretch_1q", "stretch_ecr"]
    assert all(o.passed for o in outcomes), [o.summary() for o in outcomes]
    lab, snap = _snapshot(lab_file)
    dt = lab.dt
    plain_cr = snap.value("q0-q1.cr_duration")
    assert snap.value("q0-q1.cr_duration_s2") == pytest.approx(2 * plain_cr, abs=dt / 2)   # 16-sample grid kept
    for q in (0, 1):
        # the rotation is the envelope's area: the stretched amplitude is the plain one times the area ratio,
        # up to the DRAG pulse's second-order terms (well under 1 % at 2x for a 40 ns pulse)
        d, sigma = round(snap.value(f"q{q}.pulse_duration", 40e-9) / dt), snap.value(f"q{q}.pulse_sigma", 10e-9) / dt
        ratio = (pulse.Gaussian(d, 1.0, sigma).get_waveform().samples.real.sum()
                 / pulse.Gaussian(2 * d, 1.0, 2 * sigma).get_waveform().samples.real.sum())
        assert 0.49 < ratio < 0.51
        assert snap.value(f"q{q}.x_amp_s2") == pytest.approx(snap.value(f"q{q}.x_amp") * ratio, rel=0.01)
        assert snap.value(f"q{q}.sx_amp_s2") == pytest.approx(snap.value(f"q{q}.x_amp_s2") / 2, rel=1e-12)
    # ZX is close to linear in the CR amplitude: about half at twice the length (a few % of nonlinearity)
    sigma = CR_SIGMA / dt
    areas = [pulse.GaussianSquare(n, 1.0, s, n - 4 * round(s)).get_waveform().samples.real.sum()
             for n, s in ((round(plain_cr / dt), sigma), (round(2 * plain_cr / dt), 2 * sigma))]
    assert snap.value("q0-q1.cr_amp_s2") == pytest.approx(snap.value("q0-q1.cr_amp") * areas[0] / areas[1],
                                                         rel=0.05)
    # the target's Z correction is recalibrated for the stretched gate, not copied; with the rotary (a full turn
    # of the target per half) the Z rates average out, so both stay small instead of growing with the length
    for side in ("before", "after"):
        assert f"q0-q1.target_rz_{side}_s2" in snap
        assert snap.value(f"q0-q1.target_rz_{side}_s2") != snap.value(f"q0-q1.target_rz_{side}")
        assert abs(snap.value(f"q0-q1.target_rz_{side}_s2")) < 0.1


def test_the_stretched_gate_map_plays_the_stored_stretched_calibration(stretched_lab: tuple[Path, list[Any]]
                                                                        ) -> None:
    from qubitlab.circuits.lowering import instructions_of
    from qubitlab.runtime.mitigation.stretch import applied_factor, stretched_gate_map

    lab, snap = _snapshot(stretched_lab[0])
    gm = stretched_gate_map(lab, snap, [0, 1], [(0, 1)], 2.0)
    x = [i for _, i in instructions_of(gm.get("x", (0,)).schedule) if hasattr(i, "pulse")]
    assert [p.pulse.amp for p in x] == [pytest.approx(snap.value("q0.x_amp_s2"), rel=1e-12)]
    ecr = gm.get("ecr", (0, 1)).schedule
    plays = [i for _, i in instructions_of(ecr) if hasattr(i, "pulse")]
    cr = [p for p in plays if p.channel.name.startswith("u")]
    assert [p.pulse.duration for p in cr] == [round(snap.value("q0-q1.cr_duration_s2") / lab.dt)] * 2
    assert [abs(p.pulse.amp) for p in cr] == [pytest.approx(snap.value("q0-q1.cr_amp_s2"), rel=1e-12)] * 2
    assert cr[0].pulse.angle == pytest.approx(snap.value("q0-q1.cr_phase_s2"), abs=1e-12)
    shifts = [i.phase for _, i in instructions_of(ecr) if type(i).__name__ == "ShiftPhase"
              and i.channel.name == "d1"]
    assert shifts == pytest.approx([snap.value("q0-q1.target_rz_before_s2"), snap.value("q0-q1.target_rz_after_s2")])
    echo = [p for p in plays if p.channel.name == "d0"]
    assert [p.pulse.amp for p in echo] == [pytest.approx(snap.value("q0.x_amp_s2"), rel=1e-12)]  # stretched x too
    plain_ecr = 2 * round(snap.value("q0-q1.cr_duration") / lab.dt) + round(snap.value("q0.pulse_duration", 40e-9)
                                                                              / lab.dt)
    assert ecr.duration == 2 * plain_ecr
    assert applied_factor(lab, snap, 2.0, [0, 1], [(0, 1)]) == pytest.approx(2.0, abs=1e-12)


def test_a_missing_stretched_calibration_names_the_command(stretched_lab: tuple[Path, list[Any]]) -> None:
    from qubitlab.calibration.experiments.stretch import StretchedValues, missing
    from qubitlab.errors import JobError
    from qubitlab.runtime.mitigation.stretch import check_calibrated, stretched_gate_map

    lab, snap = _snapshot(stretched_lab[0])
    assert missing(lab, snap, [1.0, 2.0], [0, 1], [(0, 1)]) == []
    assert missing(lab, snap, [3.0], [1], []) == ["q1.x_amp_s3", "q1.sx_amp_s3"]
    with pytest.raises(CalibrationError, match=r"q0\.x_amp_s3 is not in snapshot .*qubitlab calibrate stretch "
                                               r"--lab LAB\.yaml --factors 3"):
        stretched_gate_map(lab, snap, [0, 1], [(0, 1)], 3.0)
    with pytest.raises(JobError, match=r"pulse_stretch.*q0\.x_amp_s3.*--factors 3' \(bring-up nodes stretch_1q, "
                                       r"stretch_ecr"):
        check_calibrated(lab, snap, [1.0, 2.0, 3.0], [0, 1], [(0, 1)])
    # while calibrating (not strict) a missing value starts from the rescaled one: duration x c, phases kept
    loose = StretchedValues(lab, snap, 3.0, strict=False)
    assert loose.value("q0-q1.cr_duration") == pytest.approx(3 * snap.value("q0-q1.cr_duration"))
    assert loose.value("q0-q1.cr_phase") == snap.value("q0-q1.cr_phase")


def test_the_stretched_bell_state_loses_only_what_decoherence_costs(stretched_lab: tuple[Path, list[Any]]) -> None:
    """Bell fidelity through the stretched gates (bell.run on a context stretched 2x) against the plain one:
    the longer ECR costs about dt_extra (1/T1 + 1/T2) / 2 per qubit, nothing coherent."""
    from qubitlab import load_lab
    from qubitlab.calibration.experiments import bell
    from qubitlab.calibration.experiments.stretch import StretchedContext
    from qubitlab.calibration.session import open_calibration

    lab_file = stretched_lab[0]
    device = load_lab(lab_file).device
    assert device is not None
    with open_calibration(lab_file) as session:
        plain = bell.run(session.ctx, 0, 1)
        ctx = session.ctx
        stretched = bell.run(StretchedContext(ctx.lab, ctx.executor, ctx.snapshot, ctx.out_dir, None, ctx.shots,
                                              2.0), 0, 1)
    f_plain, f_stretched = (o.updates["q0-q1.bell_fidelity"] for o in (plain, stretched))
    snap = _snapshot(lab_file)[1]
    extra = 2 * snap.value("q0-q1.cr_duration") + snap.value("q0.pulse_duration", 40e-9)     # one more ECR's time
    budget = sum(extra * (1 / q.t1 + 1 / q.t2) / 2 for q in device.qubits.values())
    noise = 3 * math.hypot(f_plain[1] or 0.0, f_stretched[1] or 0.0)
    assert 0.005 < budget < 0.03
    assert f_stretched[0] >= f_plain[0] - 1.5 * budget - noise, (f_plain, f_stretched, budget)
    assert f_stretched[0] <= f_plain[0] + noise, (f_plain, f_stretched)                      # longer never helps
    assert np.isfinite(f_stretched[0])
