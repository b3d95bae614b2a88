"""The bring-up plan over a real store: what is stale, and why (no instruments needed)."""

from __future__ import annotations

import time

from qubitlab.calibration import CalibrationStore
from qubitlab.calibration.bringup import DAY, GRAPH, plan
from qubitlab.calibration.experiment import Outcome
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.session import StoreLedger
from qubitlab.config import LabConfig

PASS = (Gate("fit converged", True, "ok"),)
FAIL = (Gate("SNR", False, "feature / noise = 1.2 (need >= 5)"),)


def passed(name: str, target: tuple[int, ...]) -> Outcome:
    return Outcome(name, target, {}, PASS)


def record_everything(ledger: StoreLedger, lab: LabConfig) -> None:
    for node in GRAPH:
        targets = [(q,) for q in lab.qubits] if node.scope == "qubit" else [tuple(p) for p in lab.couplings]
        for target in targets:
            ledger.record(passed(node.name, target), time.time())


def test_a_new_store_plans_every_node_on_every_qubit_and_pair_in_dependency_order(store: CalibrationStore,
                                                                                  lab: LabConfig) -> None:
    steps = plan(StoreLedger(store), lab.qubits, lab.couplings)
    qubit_nodes = [n for n in GRAPH if n.scope == "qubit"]
    pair_nodes = [n for n in GRAPH if n.scope == "pair"]
    assert len(steps) == 2 * len(qubit_nodes) + len(pair_nodes)   # virtual_2q: qubits 0, 1; pair (0, 1)
    assert all(s.reason == "never calibrated" for s in steps)
    order = [s.node.name for s in steps]
    for node in GRAPH:
        for dep in node.depends:
            assert max(i for i, n in enumerate(order) if n == dep) < min(i for i, n in enumerate(order)
                                                                          if n == node.name)


def test_fresh_values_are_skipped_and_force_runs_everything(store: CalibrationStore, lab: LabConfig) -> None:
    ledger = StoreLedger(store)
    record_everything(ledger, lab)
    assert plan(ledger, lab.qubits, lab.couplings) == []
    forced = plan(ledger, lab.qubits, lab.couplings, force=True)
    qubit_nodes = sum(n.scope == "qubit" for n in GRAPH)
    assert len(forced) == 2 * qubit_nodes + (len(GRAPH) - qubit_nodes)   # virtual_2q: 2 qubits, 1 pair
    assert all(s.reason == "forced" for s in forced)


def test_staleness_limits_and_a_rerun_upstream_make_dependents_stale(store: CalibrationStore, lab: LabConfig) -> None:
    ledger = StoreLedger(store)
    record_everything(ledger, lab)
    later = time.time() + 2 * DAY           # rabi and everything with a one-day limit is stale two days later
    stale = {(s.node.name, s.target) for s in plan(ledger, lab.qubits, lab.couplings, now=later)}
    assert ("rabi", (0,)) in stale and ("resonator_spectroscopy", (0,)) not in stale   # 7-day limit
    assert plan(ledger, lab.qubits, lab.couplings, staleness={"rabi": 10 * DAY}, now=later)[0].node.name != "rabi"
    time.sleep(0.01)
    ledger.record(passed("ramsey", (1,)), time.time())   # q1's frequency re-measured after everything else
    steps = plan(ledger, lab.qubits, lab.couplings)
    names = {(s.node.name, s.target): s.reason for s in steps}
    assert names[("readout", (1,))] == "ramsey changed since"
    assert ("ramsey", (1,)) not in names and ("readout", (0,)) not in names
    assert ("cross_resonance", (0, 1)) in names          # built on q1's fine amplitude, which is now stale
    assert ("bell", (0, 1)) in names


def test_a_failed_run_does_not_count_as_calibrated(store: CalibrationStore, lab: LabConfig) -> None:
    ledger = StoreLedger(store)
    ledger.record(Outcome("resonator_spectroscopy", (0,), {}, FAIL), time.time())
    steps = plan(ledger, [0], [])
    assert steps[0].node.name == "resonator_spectroscopy" and steps[0].reason == "never calibrated"
    (run,) = store.runs()
    assert run.status.value == "failed" and "SNR" in run.message
