"""ZNE's pieces without a device: the extrapolators against closed forms, folding against the circuit's unitary.

Expected values are written from the models (data generated from a known line, parabola or exponential must
extrapolate to its known value at 0), from the weighted least-squares formula for the intercept's error, and
from the definition of folding (G (G^dag G)^k has G's unitary and 2k + 1 times its ECRs).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qubitlab.circuits import Circuit, Target, translate
from qubitlab.errors import ConfigError, JobError
from qubitlab.runtime.mitigation import extrapolation, zne
from qubitlab.runtime.primitives import EstimatorOptions, not_implemented

X = [1.0, 3.0, 5.0]


def test_linear_and_polynomial_fits_recover_the_intercept_and_its_closed_form_error() -> None:
    sigma = 0.01
    line = extrapolation.fit("linear", X, [0.8 - 0.1 * x for x in X], [sigma] * 3, [0.0])
    assert line.ok and line.values[0] == pytest.approx(0.8, abs=1e-12)
    # var(intercept) of an unweighted line = sigma^2 sum x^2 / (n sum x^2 - (sum x)^2) = sigma^2 35 / 24
    assert line.stds[0] == pytest.approx(sigma * math.sqrt(35 / 24), rel=1e-9)
    quad = extrapolation.fit("polynomial_degree_2", X, [0.9 - 0.05 * x + 0.004 * x * x for x in X], [sigma] * 3,
                             [0.0, 2.0])
    assert quad.values == pytest.approx([0.9, 0.9 - 0.1 + 0.016], abs=1e-10)
    assert not extrapolation.fit("polynomial_degree_3", X, [0.5] * 3, [sigma] * 3, [0.0]).ok   # 4 unknowns


def test_exponential_fits_recover_the_amplitude_at_zero_noise() -> None:
    xs = [1.0, 2.0, 3.0, 5.0, 7.0]
    one = extrapolation.fit("exponential", X, [0.95 * math.exp(-x / 4) for x in X], [1e-3] * 3, [0.0])
    assert one.ok and one.values[0] == pytest.approx(0.95, abs=1e-6)
    two = extrapolation.fit("double_exponential", xs,
                            [0.6 * math.exp(-x / 1.5) + 0.3 * math.exp(-x / 10) for x in xs], [1e-4] * 5, [0.0])
    assert two.ok and two.values[0] == pytest.approx(0.9, abs=1e-3)


def test_a_list_falls_back_to_the_first_extrapolator_inside_the_physical_bound() -> None:
    y, s = [0.7, 0.2, 0.05], [0.01] * 3
    # the exponential through these points starts above 1 at x = 0 (log-linear: about 1.4): out of bounds
    chosen = extrapolation.extrapolate(("exponential", "linear"), X, y, s, [0.0, 1.0], bound=1.0)
    assert chosen.chosen == "linear"
    # least-squares line through the three points: slope -0.1625, intercept 0.31667 + 3 * 0.1625
    assert chosen.value == pytest.approx(0.95 / 3 + 0.4875, abs=1e-9)
    assert chosen.values.shape == (2, 2)
    none = extrapolation.extrapolate(("exponential",), X, y, s, [0.0], bound=0.5)
    assert none.chosen == "fallback" and none.value == 0.7              # the lowest factor's own value


def test_fold_counts_follow_qiskit_runtimes_front_back_and_random_rules() -> None:
    assert zne.fold_counts(4, 3.0, "gate_folding", "c") == [1, 1, 1, 1]
    assert zne.fold_counts(4, 2.0, "gate_folding_front", "c") == [1, 1, 0, 0]
    assert zne.fold_counts(4, 2.0, "gate_folding_back", "c") == [0, 0, 1, 1]
    counts = zne.fold_counts(5, 2.2, "gate_folding", "c")              # round(5 * 0.6) = 3 folds
    assert sorted(counts) == [0, 0, 1, 1, 1]
    assert counts == zne.fold_counts(5, 2.2, "gate_folding", "c")      # seeded: the same variant every time
    assert zne.applied_factor(5, 2.2) == pytest.approx(1 + 6 / 5)
    assert zne.applied_factor(0, 5.0) == 1.0


def test_folding_keeps_the_unitary_and_multiplies_the_ecrs() -> None:
    target = Target.make(couplings=[(0, 1)], ecr_directions=[(0, 1)])
    translated = translate(Circuit(2).h(0).cx(0, 1).rz(0.3, 1).cx(1, 0).sx(1), target)
    n = translated.count_ops()["ecr"]
    assert n == 2
    for factor, amplifier in ((3.0, "gate_folding"), (5.0, "gate_folding_back"), (2.0, "gate_folding_front")):
        folded = zne.fold(translated, factor, amplifier, "seed")
        assert folded.count_ops()["ecr"] == n + 2 * round(n * (factor - 1) / 2)
        a, b = translated.to_matrix(), folded.to_matrix()
        overlap = abs(np.trace(a.conj().T @ b)) / a.shape[0]           # 1 when equal up to a global phase
        assert overlap == pytest.approx(1.0, abs=1e-12)


def test_plan_reads_level_2_and_the_explicit_switch() -> None:
    assert zne.plan({"resilience_level": 1}) is None
    at_two = zne.plan({"resilience_level": 2, "resilience": {}})
    assert at_two is not None and at_two.noise_factors == (1.0, 3.0, 5.0)
    assert at_two.extrapolated_noise_factors == (0.0, 1.0, 3.0, 5.0)
    assert zne.plan({"resilience_level": 2, "resilience": {"zne_mitigation": False}}) is None
    with pytest.raises(JobError, match="amplifier 'pea' is not implemented; valid: gate_folding"):
        zne.plan({"resilience": {"zne_mitigation": True, "zne": {"amplifier": "pea"}}})


def test_zne_options_are_no_longer_refused_and_bad_values_fail_at_assignment() -> None:
    options = EstimatorOptions(resilience_level=2)
    options.resilience.zne.noise_factors = (1, 2, 3)
    options.resilience.zne.extrapolator = "polynomial_degree_2"
    assert not_implemented(options) == []
    with pytest.raises(ConfigError, match="resilience.zne.extrapolator"):
        options.resilience.zne.extrapolator = "cubic"
    with pytest.raises(ConfigError, match="requires at least 4 noise_factors"):
        options.resilience.zne.extrapolator = "double_exponential"


def test_trex_learns_one_minus_both_readout_errors_and_divides_it_out() -> None:
    """One qubit read through P(1|0) = e0, P(0|1) = e1: averaged over X flips (bits flipped back) every state's
    <Z> is scaled by 1 - e0 - e1 (van den Berg 2022, eq. for a single qubit), which TREX learns from |0>."""
    from qubitlab.runtime.mitigation import trex

    e0, e1, z = 0.02, 0.07, 0.3
    read = np.array([[1 - e0, e1], [e0, 1 - e1]])                       # M[measured, prepared]

    def measured(prepared: np.ndarray, mask: int) -> np.ndarray:        # X before readout when mask = 1
        flipped = prepared[::-1] if mask else prepared
        return read @ flipped

    plan = trex.TrexPlan(masks=(0, 1, 1, 0), learning_masks=(0, 1), shots=1000)
    plan.learn(np.stack([measured(np.array([1.0, 0.0]), m) for m in plan.learning_masks]))
    f, var_f = plan.factor(0b1)
    assert f == pytest.approx(1 - e0 - e1, abs=1e-12)
    assert var_f == pytest.approx((1 - f * f) / 2000)
    state = np.array([(1 + z) / 2, (1 - z) / 2])
    rows = [measured(state, m)[None, :] for m in plan.masks]
    p = plan.untwirled(rows)[0]
    from qubitlab.runtime.estimation import _weights

    assert float(p @ _weights({"Z": 1.0}, 1)) == pytest.approx(z * (1 - e0 - e1), abs=1e-12)
    assert float(p @ plan.weights({"Z": 1.0}, 1, _weights)) == pytest.approx(z, abs=1e-12)
    circuit = Circuit(1, 1).h(0).measure(0, 0)
    assert [op.name for op in trex.flip_before_measure(circuit, 1)] == ["h", "x", "measure"]
    assert [op.name for op in trex.flip_before_measure(circuit, 0)] == ["h", "measure"]
    two = trex.flip_before_measure(Circuit(2, 2).barrier(0, 1).measure(0, 0).measure(1, 1), 0b10)
    assert [(op.name, op.qubits) for op in two] == [("barrier", (0, 1)), ("x", (1,)), ("measure", (0,)),
                                                    ("measure", (1,))]     # flips before the joint readout


def test_measure_twirling_is_accepted_by_the_estimator_and_still_refused_by_the_sampler() -> None:
    from qubitlab.runtime.mitigation import trex
    from qubitlab.runtime.primitives import SamplerOptions

    assert not_implemented(EstimatorOptions(twirling={"enable_measure": True})) == []  # type: ignore[arg-type]
    assert not_implemented(SamplerOptions(twirling={"enable_measure": True})) == [  # type: ignore[arg-type]
        "twirling.enable_measure"]
    assert not_implemented(EstimatorOptions(twirling={"enable_gates": True})) == []  # type: ignore[arg-type]
    assert not_implemented(EstimatorOptions(twirling={"strategy": "all"})) == [  # type: ignore[arg-type]
        "twirling.strategy"]
    on = trex.plan({"resilience_level": 1, "twirling": {"enable_measure": True}}, 2, 10_000, "c")
    assert on is not None and on.correct and len(on.masks) == 32 and on.shots == 313   # ceil(10000 / 32)
    only_twirl = trex.plan({"resilience_level": 0, "twirling": {"enable_measure": True}}, 2, 100, "c")
    assert only_twirl is not None and not only_twirl.correct and only_twirl.learning_masks == ()
    learned = trex.plan({"resilience_level": 1, "resilience": {"measure_noise_learning": {"num_randomizations": 8}}},
                        2, 100, "c")
    assert learned is not None and len(learned.learning_masks) == 8     # setting the learning options selects TREX
    assert trex.plan({"resilience_level": 1}, 2, 100, "c") is None       # default level 1: assignment matrices
    chosen = trex.plan({"resilience_level": 1, "twirling": {"enable_measure": True}}, 2, 100, "c")
    assert chosen is not None and chosen.measure and chosen.correct and not chosen.gates
    assert len(chosen.masks) == len(chosen.learning_masks) == 32        # measure_noise_learning's defaults
    assert trex.plan({"resilience_level": 0}, 2, 100, "c") is None
    assert trex.plan({"resilience_level": 1, "twirling": {"enable_measure": False}}, 2, 100, "c") is None
    uncorrected = trex.plan({"resilience_level": 1, "twirling": {"enable_measure": True},
                             "resilience": {"measure_mitigation": False}}, 2, 100, "c")
    assert uncorrected is not None and not uncorrected.correct          # twirled, nothing learned or divided
    at_two = trex.plan({"resilience_level": 2}, 2, 100, "c")
    assert at_two is not None and not at_two.measure and at_two.gates   # gate twirling; readout by matrices
    with pytest.raises(JobError, match="shots_per_randomization=7: .* set it to 'auto' or 4"):
        trex.plan({"resilience_level": 1, "twirling": {"enable_measure": True, "num_randomizations": 25},
                   "resilience": {"measure_noise_learning": {"shots_per_randomization": 7}}}, 2, 100, "c")


def test_ecr_twirl_pairs_are_sixteen_distinct_paulis_and_keep_every_circuit_unitary() -> None:
    from qubitlab.runtime.mitigation import twirl

    pairs = twirl.ecr_pairs()
    assert len(pairs) == 16 and len({before for before, _ in pairs}) == 16
    assert len({after for _, after in pairs}) == 16                       # conjugation permutes the Paulis
    assert (("I", "I"), ("I", "I")) in pairs
    # ECR ~ (IX - XY) / sqrt 2 commutes with Z on the control only up to an X on the target: not the identity map
    assert any(before != after for before, after in pairs)
    target = Target.make(couplings=[(0, 1)], ecr_directions=[(0, 1)])
    translated = translate(Circuit(2).h(0).cx(0, 1).rz(0.3, 1).cx(1, 0).sx(1), target)
    a = translated.to_matrix()
    seen = set()
    for r in range(6):
        twirled = twirl.twirled(translated, r, "seed", target)
        b = twirled.to_matrix()
        assert abs(np.trace(a.conj().T @ b)) / 4 == pytest.approx(1.0, abs=1e-9), r
        assert twirled.count_ops()["ecr"] == 2
        assert set(twirled.count_ops()) <= {"rz", "sx", "x", "ecr"}      # the Paulis merged into native gates
        seen.add(str(twirled))
    assert len(seen) > 1                                                  # randomizations differ


def test_dd_spacings_are_balanced_and_the_sequences_keep_the_unitary() -> None:
    from qubitlab.circuits import GateMap
    from qubitlab.pulse import DriveChannel, Play, Gaussian, ScheduleBlock
    from qubitlab.runtime.mitigation import dd

    assert dd.spacings(400, 2, "middle") == [100, 200, 100]               # tau/4, tau/2, tau/4
    assert dd.spacings(403, 2, "middle") == [100, 203, 100]
    assert dd.spacings(403, 2, "edges") == [101, 201, 101]
    assert sum(dd.spacings(1001, 4, "middle")) == 1001
    x = ScheduleBlock(name="x")
    x.append(Play(Gaussian(40, 0.1, 10), DriveChannel(0)))
    gate_map = GateMap(dt=1e-9)
    gate_map.add("x", (0,), x).add("x", (1,), x)
    circuit = Circuit(2).h(0).delay(1000, 0).h(0).delay(10, 1)
    for kind, pulses in (("XX", 2), ("XpXm", 2), ("XY4", 4)):
        out = dd.decoupled(circuit, dd.DdPlan(kind, "middle", False), gate_map)
        assert out.count_ops()["x"] == pulses
        delays = [float(op.params[0]) for op in out if op.name == "delay" and op.qubits == (0,)]
        assert sum(delays) + 40 * pulses == 1000                          # the idle time is kept
        overlap = abs(np.trace(circuit.to_matrix().conj().T @ out.to_matrix())) / 4
        assert overlap == pytest.approx(1.0, abs=1e-12), kind             # an identity up to phase
        assert [op for op in out if op.qubits == (1,)] == [op for op in circuit if op.qubits == (1,)]  # too short
    skipped = dd.decoupled(Circuit(1).delay(1000, 0).x(0), dd.DdPlan("XX", "middle", True), gate_map)
    assert skipped.count_ops().get("x") == 1                              # |0> before its first gate: skipped


def test_trex_masks_are_balanced_so_an_asymmetric_readout_leaves_no_offset() -> None:
    """Two qubits read through P(1|0) = e0_q, P(0|1) = e1_q (independently), a product state with <Z_q> = z_q:
    averaged over masks that flip each qubit in a fraction phi_q of them, the untwirled <Z_q> is
    (1 - e0 - e1) z_q + (1 - 2 phi_q) (e1 - e0). The planned masks make phi_q exactly 1/2 (32 masks: each of
    the four equally often, so <ZZ> too; 6 masks: complementary pairs), so TREX returns z_q exactly."""
    from qubitlab.runtime.estimation import _weights
    from qubitlab.runtime.mitigation import trex

    e0, e1, z = (0.005, 0.02), (0.03, 0.07), (0.6, -0.8)
    read = [np.array([[1 - a, b], [a, 1 - b]]) for a, b in zip(e0, e1)]   # M[measured, prepared] per qubit

    def measured(populations: list[np.ndarray], mask: int) -> np.ndarray:
        """Outcome probabilities (index bit q = qubit q) after X flips of ``mask`` and the readout."""
        per_qubit = [read[q] @ (p[::-1] if (mask >> q) & 1 else p) for q, p in enumerate(populations)]
        return np.kron(per_qubit[1], per_qubit[0])

    state = [np.array([(1 + v) / 2, (1 - v) / 2]) for v in z]
    ground = [np.array([1.0, 0.0])] * 2
    for count, exact in ((32, ("IZ", "ZI", "ZZ")), (6, ("IZ", "ZI"))):
        plan = trex.plan({"resilience_level": 1, "twirling": {"enable_measure": True, "num_randomizations": count},
                          "resilience": {"measure_noise_learning": {"num_randomizations": count}}}, 2, 6000, "c")
        assert plan is not None
        for masks in (plan.masks, plan.learning_masks):
            assert [sum((m >> q) & 1 for m in masks) for q in (0, 1)] == [count // 2] * 2
        plan.learn(np.stack([measured(ground, m) for m in plan.learning_masks]))
        p = plan.untwirled([measured(state, m)[None, :] for m in plan.masks])[0]
        expected = {"IZ": z[0], "ZI": z[1], "ZZ": z[0] * z[1]}
        for label in exact:
            assert float(p @ plan.weights({label: 1.0}, 2, _weights)) == pytest.approx(expected[label], abs=1e-12)
