"""QAOA for MaxCut as a server-side program: the graph goes to the daemon, the cut comes back.

What it shows: ``run_program("qaoa", ...)`` with a graph as plain data (``{"nodes": 2, "edges": [[0, 1]]}``,
node k on qubit k) and the depth ``p``. The worker builds the QAOA circuit (``H`` on each qubit, per layer
``RZZ(w gamma)`` on each edge and ``RX(2 beta)`` on each qubit), warm-starts from the best point of a coarse
(gamma, beta) grid measured as one program, optimises ``<C>`` by COBYLA while streaming each iteration, samples
the circuit at the answer and returns the most frequent bitstring as the cut, beside the brute-force optimum
and the approximation ratio ``<C> / max C``. The calibrated virtual two-qubit lab (the CX the RZZ needs) and the
daemon on an ephemeral 127.0.0.1 port come from ``examples/_calibrated.py``, which stops the daemon by its pid.

Run it: ``python examples/qaoa_maxcut.py`` (about 60 s on its own, most of it the bring-up). The store and keys go
to ``$QUBITLAB_EXAMPLES_OUT`` (default: a new temporary folder); the last lines are
``RESULT approximation_ratio=<ratio>`` and ``RESULT cut_value=<cut>``.
"""

from __future__ import annotations

from _calibrated import calibrated_lab, daemon, output_folder

# One edge: max C = 1 (the nodes on opposite sides), and p = 1 QAOA reaches it exactly (<C> = 1/2 + sin(4 beta)
# sin(gamma) / 2 at gamma = pi/2, beta = pi/8 up to symmetry). The RZZ costs two CX of the stored Bell fidelity
# (~0.98), readout is corrected, so the ratio is at least 0.9; the sampled cut is the optimum, 1, exactly.
EXPECT = {"approximation_ratio": (0.9, 1.02), "cut_value": (1.0, 1.0)}
GRAPH = {"nodes": 2, "edges": [[0, 1]]}


def main() -> None:
    lab_file = calibrated_lab(output_folder())
    with daemon(lab_file) as service:
        job = service.run_program("qaoa", {"graph": GRAPH, "p": 1, "optimizer": "COBYLA", "maxiter": 20,
                                           "shots": 512}, {"estimator": {"resilience_level": 1}})
        for record in job.stream(timeout=300):
            gamma, beta = record["parameters"]
            print(f"  iteration {record['iteration']:3d}  gamma {gamma:+.4f} beta {beta:+.4f}  "
                  f"<C> {-record['energy']:.4f} +- {record['std']:.4f}")
        result = job.result(timeout=60)
    print(f"cut {result['cut']} (qubit 0 rightmost) of value {result['cut_value']:g}, sampled with probability "
          f"{result['cut_probability']:.3f}; <C> {result['expected_cut']:.4f} of max {result['max_cut']:g}")
    print(f"RESULT approximation_ratio={result['approximation_ratio']:.4f}")
    print(f"RESULT cut_value={result['cut_value']:.1f}")


if __name__ == "__main__":
    main()
