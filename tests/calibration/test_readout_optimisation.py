"""Issue 22: the bring-up tunes the readout itself on a harder device, and one failed gate is no dead end.

The readout limit is computed from the lab file's device parameters alone (``tests/readout_limit.py``).
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from qubitlab.calibration import CalibrationStore, bringup
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.hints import hint
from qubitlab.calibration.session import StoreLedger, open_calibration
from qubitlab.config import LabConfig, load_lab
from readout_limit import readout_limit

ROOT = Path(__file__).resolve().parents[2]
HARD = ROOT / "lab_configs" / "virtual_2q_hard.yaml"
READOUT_NODES = ("resonator_spectroscopy", "qubit_spectroscopy", "rabi", "ramsey", "readout_frequency",
                 "readout_amplitude", "readout_duration", "readout")


def test_the_hard_device_fails_the_readout_gate_at_the_lab_files_fixed_settings() -> None:
    """The point of the lab file: at bringup.readout_amp and readout_duration, probing the |0> resonance, the
    blobs are closer than the readout node's gate (2 sigma) allows, on both qubits."""
    lab = load_lab(HARD)
    assert lab.bringup is not None and lab.device is not None
    for q, p in lab.device.qubits.items():
        _, snr = readout_limit(lab, q, p.resonator_frequency, lab.bringup.readout_amp, lab.bringup.readout_duration)
        assert snr < 2.0, (q, snr)


def test_the_closed_form_limit_against_hand_numbers() -> None:
    """A long window at a probe between the lines: ring-up negligible, the notch difference is
    |1/(1+i x) - 1/(1-i x)| = 2x/(1+x^2) with x = chi / kappa (probe at the midpoint, Delta = -+ pi chi)."""
    lab = load_lab(HARD)
    assert lab.device is not None
    p = lab.device.qubits[0]
    duration = 1e-3  # 1 ms: ring-up is 1e-4 of the window; T1 decay is then total, so only the SNR is checked
    _, snr = readout_limit(lab, 0, p.resonator_frequency + p.dispersive_shift / 2, 0.2, duration)
    x = abs(p.dispersive_shift) / p.resonator_linewidth
    volts = 0.2 * 1.0 / 2 * 10 ** (-40 / 20)
    separation = p.readout_gain * volts * 2 * x / (1 + x * x)
    sigma = p.readout_noise / math.sqrt(duration * 500e6)
    assert snr == pytest.approx(separation / (2 * sigma), rel=2e-3)


# -- the graph: remedies, retry, no dead end (a real store, no instruments) -----------------------------------------
def scripted(fail: dict[str, int]) -> tuple[bringup.Runner, list[str]]:
    """A runner whose node ``name`` fails its first ``fail[name]`` runs; it records what ran."""
    ran: list[str] = []

    def run(ctx: Context, node: bringup.Node, target: tuple[int, ...]) -> Outcome:
        ran.append(f"{node.name} {target}")
        left = fail.get(node.name, 0)
        if left:
            fail[node.name] = left - 1
            return Outcome(node.name, target, {}, (Gate("blob separation", False, "1.85 (need >= 2.0)"),))
        return Outcome(node.name, target, {}, (Gate("fit", True, "ok"),))

    return run, ran


def calibrate_q0(store: CalibrationStore, lab: LabConfig, fail: dict[str, int]) -> tuple[list[Outcome], list[str]]:
    ledger = StoreLedger(store)
    steps = [s for s in bringup.plan(ledger, [0], []) if s.node.scope == "qubit"]
    run, ran = scripted(fail)
    ctx = Context(lab, executor=None)  # type: ignore[arg-type]  # the scripted runner touches no instrument
    return bringup.calibrate(ctx, ledger, steps, run), ran


def test_a_failed_readout_runs_its_remedies_and_is_retried_once(store: CalibrationStore, lab: LabConfig) -> None:
    outcomes, ran = calibrate_q0(store, lab, {"readout": 1})
    at = ran.index("readout (0,)")
    assert ran[at:at + 6] == ["readout (0,)", "readout_frequency (0,)", "readout_amplitude (0,)",
                              "readout_duration (0,)", "readout_weights (0,)", "readout (0,)"]
    assert [o.passed for o in outcomes if o.experiment == "readout"] == [False, True]
    assert "rb (0,)" in ran  # the retry passed, so what needs the readout ran
    assert "bringup.readout_amp" in outcomes[at].hint and "raise" in outcomes[at].hint


def test_a_readout_that_stays_failed_skips_only_what_needs_it(store: CalibrationStore, lab: LabConfig) -> None:
    outcomes, ran = calibrate_q0(store, lab, {"readout": 2})
    assert ran.count("readout (0,)") == 2  # retried once, not more
    for runs in ("drag", "fine_amplitude", "t1", "t2_ramsey", "t2_echo"):  # readout is optional for these
        assert f"{runs} (0,)" in ran, runs
    assert "rb (0,)" not in ran  # randomized benchmarking needs a discriminator
    last = [o for o in outcomes if o.experiment == "readout"][-1]
    assert "next: raise bringup.readout_amp" in last.summary()


def test_a_failed_optimisation_node_does_not_block_the_readout(store: CalibrationStore, lab: LabConfig) -> None:
    _, ran = calibrate_q0(store, lab, {"readout_amplitude": 1})
    assert ran.count("readout (0,)") == 1 and "rb (0,)" in ran


def test_a_failed_readout_check_runs_its_remedies_is_retried_and_committed(store: CalibrationStore,
                                                                           lab: LabConfig) -> None:
    ledger = StoreLedger(store)
    run, ran = scripted({"readout": 1})
    ctx = Context(lab, executor=None)  # type: ignore[arg-type]  # the scripted runner touches no instrument
    results = bringup.check(ctx, ledger, [0], run, checks=("readout",))
    assert ran == ["readout (0,)", "readout_frequency (0,)", "readout_amplitude (0,)", "readout_duration (0,)",
                   "readout_weights (0,)", "readout (0,)"]
    assert [r.outcome.passed for r in results] == [True]
    assert ledger.last_success("readout", (0,)) is not None  # the retry was committed (new readout settings)
    assert ledger.last_success("readout_amplitude", (0,)) is not None


def test_a_readout_check_still_failing_after_its_remedies_says_what_to_change(store: CalibrationStore,
                                                                              lab: LabConfig) -> None:
    ledger = StoreLedger(store)
    run, ran = scripted({"readout": 2})
    ctx = Context(lab, executor=None)  # type: ignore[arg-type]
    (result,) = bringup.check(ctx, ledger, [0], run, checks=("readout",))
    assert ran.count("readout (0,)") == 2 and not result.outcome.passed
    assert "raise bringup.readout_amp" in result.outcome.hint
    assert ledger.last_success("readout", (0,)) is None


def test_hints_name_the_lab_file_key_and_direction() -> None:
    out_of_range = hint("resonator_spectroscopy", (1,), [Gate("x0 within range", False, "")])
    assert "bringup.qubits.1.resonator_range" in out_of_range and "move" in out_of_range
    assert "raise bringup.readout_amp" in hint("readout", (0,), [Gate("blob separation", False, "")])
    assert hint("no such node", (0,), []) == ""


# -- the bring-up on the harder device ----------------------------------------------------------------------------
def bring_up(tmp_path: Path, nodes: tuple[str, ...] | None, qubits: list[int]) -> tuple[dict[str, float], list[str],
                                                                                          LabConfig]:
    shutil.copy(HARD, tmp_path / HARD.name)
    with open_calibration(tmp_path / HARD.name) as session:
        graph = [n for n in bringup.GRAPH if nodes is None or n.name in nodes]
        couplings = session.lab.couplings if nodes is None else []
        steps = bringup.plan(session.ledger, qubits, couplings, graph=graph)
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, bringup.default_runner)
        values = {key: entry.value for key, entry in session.store.snapshot().items()}
        lab = session.lab
    assert {o.experiment for o in outcomes} == {n.name for n in graph}
    return values, [o.summary() for o in outcomes if not o.passed], lab


def assert_readout_at_its_limit(values: dict[str, float], lab: LabConfig, q: int) -> None:
    chosen = [values[f"q{q}.{k}"] for k in ("readout_frequency", "readout_amp", "readout_duration")]
    limit, snr = readout_limit(lab, q, *chosen)
    assert snr >= 2.0, (q, chosen, snr)
    assert abs(values[f"q{q}.readout_fidelity"] - limit) <= 0.01, (q, values[f"q{q}.readout_fidelity"], limit)


def test_the_readout_chain_on_the_hard_device_reaches_its_limit(tmp_path: Path) -> None:
    """Bounded variant (one qubit, the nodes up to the readout; a few seconds)."""
    values, failed, lab = bring_up(tmp_path, READOUT_NODES, [0])
    assert not failed, failed
    assert_readout_at_its_limit(values, lab, 0)
    assert lab.device is not None
    p = lab.device.qubits[0]
    lines = sorted([p.resonator_frequency, p.resonator_frequency + p.dispersive_shift])
    assert lines[0] < values["q0.readout_frequency"] < lines[1]  # between the dressed lines
    # the amplitude stops for a physical reason: above it the measurement excites the qubit (n_crit ~ 200)
    budget = 0.45  # the line's max_amplitude 0.9 shared by its two tones
    chosen = [values[f"q0.{k}"] for k in ("readout_frequency", "readout_amp", "readout_duration")]
    at_budget, _ = readout_limit(lab, 0, chosen[0], budget, chosen[2])
    assert values["q0.readout_amp"] < budget and at_budget < readout_limit(lab, 0, *chosen)[0] - 0.003


@pytest.mark.slow
def test_calibrate_all_passes_every_node_on_the_hard_device(tmp_path: Path) -> None:
    started = time.perf_counter()
    values, failed, lab = bring_up(tmp_path, None, lab_qubits(HARD))
    assert not failed, failed
    for q in (0, 1):
        assert_readout_at_its_limit(values, lab, q)
    assert values["q0-q1.bell_fidelity"] >= 0.95
    assert time.perf_counter() - started < 300


def lab_qubits(path: Path) -> list[int]:
    lab: Any = load_lab(path)
    return list(lab.qubits)
