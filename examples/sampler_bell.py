"""SamplerV2 on a Bell circuit: counts from the calibrated virtual device through the daemon.

What it shows: a Qiskit Runtime user's Sampler code, unchanged but for the imports -- a PUB ``(circuit,)``,
``SamplerV2(mode=session)``, ``result[0].data.meas.get_counts()`` (register ``meas`` from ``measure_all``) --
running on a lab's own device; the result's metadata names the calibration snapshot it ran with.

Run it: ``python examples/sampler_bell.py`` (about 50 s with the bring-up it starts with; outputs in
``$QUBITLAB_EXAMPLES_OUT`` or a temporary folder). Last line: ``RESULT bell_even=<P(00) + P(11)>``.
"""

from __future__ import annotations

from pathlib import Path

from _calibrated import calibrated_lab, daemon, output_folder
from _plots import figure, save

from qubitlab.circuits import Circuit
from qubitlab.runtime import SamplerV2, Session

# P(00) + P(11) of a Bell state read with assignment errors e0, e1 is at least F (1 - e0 - e1) for state
# fidelity F: the bring-up gates Bell fidelity >= 0.95 and readout fidelity >= 0.95 per qubit (errors <= 0.05),
# giving >= 0.85; an ideal device gives 1.
EXPECT = {"bell_even": (0.85, 1.0)}
PLOT = "sampler_bell.png"


def main() -> None:
    out = output_folder()
    lab_file = calibrated_lab(out)
    bell = Circuit(2).h(0).cx(0, 1).measure_all()
    with daemon(lab_file) as service, Session(service) as session:
        sampler = SamplerV2(mode=session)
        result = sampler.run([(bell,)], shots=4000).result()
    counts = result[0].data.meas.get_counts()
    print(f"counts {dict(sorted(counts.items()))} (snapshot {result[0].metadata['snapshot_id']})")
    plot(counts, 4000, out)
    print(f"RESULT bell_even={(counts.get('00', 0) + counts.get('11', 0)) / 4000:.4f}")


def plot(counts: dict[str, int], shots: int, out: Path) -> None:
    fig = figure(5.2, 3.4)
    axis = fig.add_subplot()
    outcomes = ["00", "01", "10", "11"]
    axis.bar(outcomes, [counts.get(k, 0) / shots for k in outcomes], color="tab:blue", label="measured")
    axis.plot(outcomes, [0.5, 0, 0, 0.5], "k_", ms=30, mew=2, label="ideal Bell state")
    axis.set_xlabel("outcome (register meas, qubit 1 left)")
    axis.set_ylabel("probability")
    axis.legend()
    save(fig, out, PLOT)


if __name__ == "__main__":
    main()
