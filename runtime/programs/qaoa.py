"""The ``qaoa`` program: MaxCut of a weighted graph by a depth-``p`` QAOA circuit, optimised in the worker.

Inputs: ``graph`` (``{"nodes": n, "edges": [[i, j], [i, j, weight], ...]}``, node k on qubit k), ``p`` (layers),
``optimizer``, ``maxiter``, ``initial_point`` (``p`` gammas then ``p`` betas; default: the best of a coarse
grid, see :func:`warm_start`),
``estimator_options``, ``precision``, ``seed``, ``shots`` (for sampling the cut at the answer).

The circuit is built here from the graph: ``H`` on every qubit, then per layer ``RZZ(w * gamma_l)`` on each edge
and ``RX(2 * beta_l)`` on each qubit. An edge between qubits the lab does not couple is routed through a qubit
coupled to both (a triangle on the line 0-1-2: edge 0-2 through qubit 1, see :func:`zz`); an edge with no such
neighbour is refused, naming the edge and the coupling map. It minimises ``H = sum_edges w/2 (Z_i Z_j - 1)``, which is minus the
cut ``C = sum_edges w (1 - Z_i Z_j) / 2``, so ``-energy`` is the expected cut. At the answer the circuit is
measured with the Sampler and the most frequent bitstring is the cut returned, beside the brute-force maximum
(graphs up to 20 nodes) and the approximation ratio ``<C> / max C``.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from qubitlab.errors import JobError
from qubitlab.runtime.jobs import Outcome, WorkContext
from qubitlab.runtime.programs import energy as shared
from qubitlab.runtime.programs.vqe import _precision, optimise

MAX_NODES = 20

Edge = tuple[int, int, float]


def run(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    from qubitlab.circuits.serialize import circuit_to_dict

    started = time.perf_counter()
    n, edges = graph(inputs.get("graph"))
    p = shared.integer(inputs, "p", 1, 1, 20, "qaoa")
    shots = shared.integer(inputs, "shots", 1024, 1, 1_000_000, "qaoa")
    names = [f"gamma_{k}" for k in range(p)] + [f"beta_{k}" for k in range(p)]
    couplings = routable(n, edges, ctx.opened.lab.topology.couplings)
    document = circuit_to_dict(circuit(n, edges, p, couplings=couplings))
    given = dict(inputs)
    energy = shared.Energy(ctx, document, names, cost(n, edges), shared.estimator_options(inputs, "qaoa"),
                           _precision(inputs))
    if given.get("initial_point") is None:
        given["initial_point"] = warm_start(energy, p)
    outcome = optimise(energy, given, "qaoa", started)
    best = max_cut(n, edges)
    found = sample_cut(ctx, n, edges, p, names, outcome.result["parameters"], shots, couplings)
    expected = -outcome.result["energy"]
    outcome.result.update({"graph": {"nodes": n, "edges": [list(e) for e in edges]}, "p": p, "max_cut": best,
                           "expected_cut": expected, "approximation_ratio": expected / best if best else None,
                           **found})
    return outcome


def warm_start(energy: shared.Energy, p: int) -> list[float]:
    """The best of a coarse grid, 8 gammas in (0, pi) x 4 betas in (0, pi/2), as one estimator call (published
    as the first iteration); for ``p > 1`` each grid point twice: spread as a linear ramp, ``gamma_l = gamma
    (l + 1) / p`` and ``beta_l = beta (p - l) / p`` (the adiabatic-like schedule that suits MaxCut QAOA on large
    graphs), and as depth 1 with the later layers at zero, so depth ``p`` never starts worse than depth 1's grid
    (on a triangle the ramp's best grid point has an ideal ratio of 0.65, depth 1's 0.96)."""
    gammas, betas = (np.arange(8) + 0.5) * np.pi / 8, (np.arange(4) + 0.5) * np.pi / 8
    grid = [(g, b) for g in gammas for b in betas]

    def spread(g: float, b: float) -> list[float]:
        return [g * (layer + 1) / p for layer in range(p)] + [b * (p - layer) / p for layer in range(p)]

    def first(g: float, b: float) -> list[float]:
        return [g] + [0.0] * (p - 1) + [b] + [0.0] * (p - 1)

    points = np.array([spread(g, b) for g, b in grid] + ([first(g, b) for g, b in grid] if p > 1 else []))
    evs, stds = energy(points)
    best = int(np.argmin(evs))
    energy.publish(points[best], float(evs[best]), float(stds[best]), warm_start=True)
    return [float(v) for v in points[best]]


def graph(value: Any) -> tuple[int, list[Edge]]:
    """``(nodes, [(i, j, weight)])`` from the input, checked."""
    if not isinstance(value, Mapping) or not isinstance(value.get("edges"), list) or not value["edges"]:
        raise JobError("qaoa: input 'graph' must be {'nodes': n, 'edges': [[i, j] or [i, j, weight], ...]}")
    n = value.get("nodes")
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_NODES:
        raise JobError(f"qaoa: graph 'nodes' must be an integer in 2..{MAX_NODES} (one qubit each), got {n!r}")
    edges = []
    for edge in value["edges"]:
        ok = isinstance(edge, list) and len(edge) in (2, 3) and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n for v in edge[:2]) and edge[0] != edge[1]
        weight = edge[2] if ok and len(edge) == 3 else 1.0
        if not ok or isinstance(weight, bool) or not isinstance(weight, (int, float)) or not np.isfinite(weight):
            raise JobError(f"qaoa: graph edge {edge!r} must be [i, j] or [i, j, weight] with distinct nodes in "
                           f"0..{n - 1} and a real weight")
        edges.append((int(edge[0]), int(edge[1]), float(weight)))
    return n, edges


def routable(n: int, edges: list[Edge], couplings: Any) -> list[tuple[int, int]]:
    """The lab's couplings (as pairs), once every edge is checked to be coupled or to have a bridge qubit."""
    pairs = [(int(a), int(b)) for a, b in couplings]
    for i, j, _ in edges:
        if not _coupled(pairs, i, j) and bridge(n, pairs, i, j) is None:
            raise JobError(f"qaoa: graph edge [{i}, {j}] joins qubits that are neither coupled nor both coupled to "
                           f"a third qubit of the circuit (lab couplings {[list(c) for c in pairs]}); number the "
                           "nodes so that every edge is on a coupled pair or two couplings apart")
    return pairs


def _coupled(pairs: list[tuple[int, int]], i: int, j: int) -> bool:
    return (i, j) in pairs or (j, i) in pairs


def bridge(n: int, pairs: list[tuple[int, int]], i: int, j: int) -> int | None:
    """The lowest qubit below ``n`` coupled to both ``i`` and ``j``, or None."""
    return next((k for k in range(n) if k not in (i, j) and _coupled(pairs, i, k) and _coupled(pairs, k, j)),
                None)


def zz(out: Any, theta: Any, i: int, j: int, n: int, pairs: list[tuple[int, int]] | None) -> None:
    """``RZZ(theta)`` on ``(i, j)``; if they are not coupled, through a bridge qubit ``k`` with six CX and no
    SWAP: ``CX(k, i) CX(j, k) CX(k, i)`` leaves ``z_i xor z_j`` on qubit ``i`` (a permutation of basis states),
    ``RZ(theta)`` there is the phase ``exp(-i theta/2 Z_i Z_j)``, and the same three CX in reverse undo the
    permutation, so ``k`` ends as it started (the SWAP route would cost eight CX)."""
    k = None if pairs is None or _coupled(pairs, i, j) else bridge(n, pairs, i, j)
    if k is None:
        out.rzz(theta, i, j)
        return
    permute = [(k, i), (j, k), (k, i)]
    for control, target in permute:
        out.cx(control, target)
    out.rz(theta, i)
    for control, target in reversed(permute):
        out.cx(control, target)


def circuit(n: int, edges: list[Edge], p: int, *, measured: bool = False,
            couplings: list[tuple[int, int]] | None = None) -> Any:
    """The QAOA circuit; with ``couplings``, edges on uncoupled pairs are routed by :func:`zz`."""
    from qubitlab.circuits import Circuit, Parameter

    gammas = [Parameter(f"gamma_{k}") for k in range(p)]
    betas = [Parameter(f"beta_{k}") for k in range(p)]
    out = Circuit(n, n if measured else 0, name=f"qaoa_p{p}")
    for q in range(n):
        out.h(q)
    for layer in range(p):
        for i, j, w in edges:
            zz(out, w * gammas[layer], i, j, n, couplings)
        for q in range(n):
            out.rx(2 * betas[layer], q)
    if measured:
        out.barrier(*range(n))
        for q in range(n):
            out.measure(q, q)
    return out


def cost(n: int, edges: list[Edge]) -> dict[str, float]:
    """``sum w/2 (Z_i Z_j - 1)`` as Pauli terms (qubit 0 rightmost): minus the cut."""
    terms: dict[str, float] = {"I" * n: -sum(w for _, _, w in edges) / 2}
    for i, j, w in edges:
        label = "".join("Z" if q in (i, j) else "I" for q in reversed(range(n)))
        terms[label] = terms.get(label, 0.0) + w / 2
    return terms


def cut_value(bits: str, edges: list[Edge]) -> float:
    """The cut of an assignment written as a bitstring, qubit 0 rightmost."""
    side = bits[::-1]
    return float(sum(w for i, j, w in edges if side[i] != side[j]))


def max_cut(n: int, edges: list[Edge]) -> float:
    return max(cut_value(format(k, f"0{n}b"), edges) for k in range(2 ** (n - 1)))


def sample_cut(ctx: WorkContext, n: int, edges: list[Edge], p: int, names: list[str], x: Any,
               shots: int, couplings: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    """The most frequent bitstring of the measured circuit at ``x`` (the Sampler, in this worker)."""
    from qubitlab.circuits.serialize import circuit_to_dict
    from qubitlab.drivers.decode import unpack_bits
    from qubitlab.runtime.estimation import sampler

    ctx.check()
    pub = {"circuit": circuit_to_dict(circuit(n, edges, p, measured=True, couplings=couplings)), "parameters": names,
           "values": np.asarray(x, dtype=np.float64), "shots": shots}
    registers = sampler(ctx, {"pubs": [pub], "options": {}}).result["pubs"][0]["registers"]
    register = next(iter(registers.values()))
    bits = unpack_bits(register["array"], register["num_bits"]).reshape(shots, n)
    counts = Counter("".join(str(int(b)) for b in row[::-1]) for row in bits)
    top, seen = counts.most_common(1)[0]
    return {"cut": top, "cut_value": cut_value(top, edges), "cut_probability": seen / shots,
            "counts": dict(itertools.islice(counts.most_common(), 16))}
