"""The single-qubit calibration experiments on the virtual lab, against the device's true parameters
(lab_configs/virtual_2q.yaml ``device:``, copied here by hand) and against the physics engine itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from physics_lab import LAB, device, lo_states, quiet
from scipy.cluster.vq import kmeans2

from qubitlab import pulse
from qubitlab.calibration.experiments import (EXPERIMENTS, drag, fine_amplitude, qubit_spectroscopy, rabi, ramsey,
                                              readout, resonator_spectroscopy, t1, t2_echo, t2_ramsey)
from qubitlab.drivers.payloads import AwgProgram
from qubitlab.pulse.compiler import compile

F_Q0, F_R0 = 4.997e9, 7.051e9
T1_Q0, T2_Q0 = 60e-6, 45e-6
TRUTH = {"q0.frequency": F_Q0, "q0.readout_frequency": F_R0}


@pytest.fixture(scope="module")
def gates_q0(make_ctx):  # type: ignore[no-untyped-def]
    """True frequencies, x/sx amplitudes from the (separately tested) Rabi experiment."""
    ctx = make_ctx(TRUTH)
    outcome = rabi.run(ctx, 0)
    assert outcome.passed, outcome.summary()
    return {**TRUTH, **{k: v for k, (v, _) in outcome.updates.items()}}


def _stored(outcome):  # type: ignore[no-untyped-def]
    assert outcome.passed, outcome.summary()
    assert outcome.plot is not None and outcome.plot.exists() and outcome.dataset is not None
    return {k: v for k, (v, _) in outcome.updates.items()}


def test_the_table_names_every_experiment_of_the_bring_up_graph() -> None:
    from qubitlab.calibration.bringup import GRAPH, STRETCH

    assert set(EXPERIMENTS) == {"resonator_spectroscopy", "qubit_spectroscopy", "rabi", "ramsey", "drag",
                                "fine_amplitude", "readout", "t1", "t2_ramsey", "t2_echo", "rb",
                                "cross_resonance", "bell", "readout_frequency", "readout_amplitude",
                                "readout_duration", "readout_weights", "stretch_1q", "stretch_ecr"}
    assert set(EXPERIMENTS) == {node.name for node in (*GRAPH, *STRETCH)}
    assert not {node.name for node in STRETCH} & {node.name for node in GRAPH}    # optional: not in 'all'
    assert EXPERIMENTS["t1"] is t1.run


def test_resonator_spectroscopy_finds_the_resonator_with_the_qubit_in_ground(make_ctx) -> None:  # type: ignore[no-untyped-def]
    found = _stored(resonator_spectroscopy.run(make_ctx(), 0))
    assert abs(found["q0.resonator_frequency"] - F_R0) < 200e3
    assert found["q0.readout_frequency"] == found["q0.resonator_frequency"]


def test_qubit_spectroscopy_finds_the_qubit(make_ctx) -> None:  # type: ignore[no-untyped-def]
    found = _stored(qubit_spectroscopy.run(make_ctx({"q0.readout_frequency": F_R0}), 0))
    assert abs(found["q0.frequency"] - F_Q0) < 300e3


@pytest.mark.parametrize("start", [+300e3, -300e3])
def test_ramsey_lands_within_50_khz_from_300_khz_off(make_ctx, gates_q0, start: float) -> None:  # type: ignore[no-untyped-def]
    found = _stored(ramsey.run(make_ctx({**gates_q0, "q0.frequency": F_Q0 + start}), 0))
    assert abs(found["q0.frequency"] - F_Q0) < 50e3


def test_t1(make_ctx, gates_q0) -> None:  # type: ignore[no-untyped-def]
    found = _stored(t1.run(make_ctx(gates_q0), 0))
    assert found["q0.t1"] == pytest.approx(T1_Q0, rel=0.15)


def test_t2_ramsey(make_ctx, gates_q0) -> None:  # type: ignore[no-untyped-def]
    found = _stored(t2_ramsey.run(make_ctx(gates_q0), 0))
    assert found["q0.t2_ramsey"] == pytest.approx(T2_Q0, rel=0.15)


def test_t2_echo(make_ctx, gates_q0) -> None:  # type: ignore[no-untyped-def]
    # the virtual device's dephasing is Markovian (Lindblad), so the echo refocuses nothing: T2 echo = T2
    found = _stored(t2_echo.run(make_ctx(gates_q0), 0))
    assert found["q0.t2_echo"] == pytest.approx(T2_Q0, rel=0.15)


def test_readout_blobs_and_fidelity(make_ctx, gates_q0) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(gates_q0)
    found = _stored(readout.run(ctx, 0, shots=4000))
    assert found["q0.readout_fidelity"] > 0.85
    # a second, independent estimate: k-means with two clusters on a fresh run's pooled shots
    with pulse.build() as ground:
        pulse.play(pulse.GaussianSquare(2000, 0.1, 16, width=1936), pulse.MeasureChannel(0))
        pulse.acquire(2000, 0, pulse.MemorySlot(0))
    with pulse.build() as excited:
        with pulse.align_sequential():
            pulse.play(pulse.Drag(40, gates_q0["q0.x_amp"], 10, 0.0), pulse.DriveChannel(0))
            pulse.call(ground)
    shots = ctx.run([ground, excited], shots=3000)[0]
    pooled = np.stack([shots.real.ravel(), shots.imag.ravel()], axis=1)
    centres, _ = kmeans2(pooled, np.array([[found["q0.iq0_re"], found["q0.iq0_im"]],
                                           [found["q0.iq1_re"], found["q0.iq1_im"]]]) * 0.5, minit="matrix", seed=3)
    separation = math.hypot(found["q0.iq1_re"] - found["q0.iq0_re"], found["q0.iq1_im"] - found["q0.iq0_im"])
    for k in (0, 1):
        z = complex(found[f"q0.iq{k}_re"], found[f"q0.iq{k}_im"])
        assert abs(complex(*centres[k]) - z) < 0.1 * separation


# -- the physics engine as the judge of the gate pulses ---------------------------------------------------------
def _engine_p1(amps_betas_angles: list[list[tuple[float, float, float]]]) -> np.ndarray:
    """P(1) of q0 after each sequence of 40-sample DRAG pulses (amp, beta in samples, angle), computed by the
    virtual device without decoherence from the compiled AWG voltages."""
    lab = quiet()
    programs = []
    for sequence in amps_betas_angles:
        with pulse.build() as s:
            with pulse.align_sequential():
                for amp, beta, angle in sequence:
                    pulse.play(pulse.Drag(40, amp, 10, beta, angle=angle), pulse.DriveChannel(0))
        programs.append(s)
    compiled = compile(programs, LAB, {"d0": F_Q0})
    awg = compiled.payloads["awg"]
    assert isinstance(awg, AwgProgram)
    dev, out = device(lab), []
    for point in range(len(programs)):
        volts = {o: awg.played(o, point).astype(np.float64) * awg.full_scale_vpp[o] / 2 for o in ("1", "2")}
        pops = dev.populations({"awg": volts}, lo_states(lab), len(volts["1"]) * 1e-9)
        out.append(float(pops[(0,)].reshape(3)[1]))
    return np.array(out)


def _true_pi_amp() -> float:
    """The amplitude at which one beta = 0 DRAG pulse transfers the most population (parabola at the top)."""
    amps = np.linspace(0.236, 0.252, 9)
    p = _engine_p1([[(a, 0.0, 0.0)] for a in amps])
    c2, c1, _ = np.polyfit(amps, p, 2)
    return float(-c1 / (2 * c2))


def test_fine_amplitude_removes_an_injected_3_percent_error(make_ctx, gates_q0) -> None:  # type: ignore[no-untyped-def]
    truth = _true_pi_amp()
    start = {**gates_q0, "q0.x_amp": 1.03 * truth, "q0.sx_amp": 1.03 * truth / 2}
    found = _stored(fine_amplitude.run(make_ctx(start), 0))
    assert found["q0.x_amp"] == pytest.approx(truth, rel=0.005)
    assert found["q0.sx_amp"] == pytest.approx(truth / 2, rel=0.005)


def test_drag_beta_lowers_the_gate_error(make_ctx, gates_q0) -> None:  # type: ignore[no-untyped-def]
    found = _stored(drag.run(make_ctx(gates_q0), 0))
    beta = found["q0.drag_beta"] / 1e-9
    amp = _true_pi_amp()
    x, y, x90, y90 = (amp, 0.0), (amp, math.pi / 2), (amp / 2, 0.0), (amp / 2, math.pi / 2)
    # AllXY-style pairs whose ideal P(1) is 1/2; a phase error of the pulses moves them apart
    pairs = [(x90, y), (y90, x), (x, y90), (y, x90), (x90, y90), (y90, x90)]

    def error(b: float) -> float:
        p = _engine_p1([[(a, b, angle) for a, angle in pair] for pair in pairs])
        return float(np.sqrt(np.mean((p - 0.5) ** 2)))

    assert beta < 0  # the conjugating mixer flips Qiskit's sign (positive for a negative anharmonicity)
    assert error(beta) < 0.5 * error(0.0)
