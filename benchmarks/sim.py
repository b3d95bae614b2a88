"""Physics-engine benchmarks S1-S3 (definitions fixed; units ns and rad/ns; frame at the drive frequency).

S1: one 3-level transmon, anharmonicity 2pi(-330 MHz), resonant 40 ns DRAG pi pulse (40 samples of 1 ns, sigma
10 ns, lifted Gaussian, midpoint sampling, beta = -1/alpha) -> the 3x3 unitary.
S2: S1's pulse at 100 amplitudes in [0, 2 A_pi], Lindblad with T1 = 50 us, T2 = 40 us, from |0><0| -> P(1).
S3: two 3-level transmons, J = 2pi 3 MHz, detuning 2pi 100 MHz, frame at qubit 1, cross-resonance drive on
qubit 0: GaussianSquare 300 ns (sigma 10, flat 240 ns), amplitude 2pi 50 MHz -> the 9x9 unitary.
Each is checked against the exact product of per-sample ``scipy.linalg.expm``; with QuTiP installed (the
``bench`` extra) the same problems run with ``sesolve``/``mesolve`` at default tolerances as the peer.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.linalg as sl

from benchmarks._harness import Row, Timing, measure
from qubitlab.config.device import DeviceConfig, QubitParams
from qubitlab.drivers.mock.physics.evolve import Group
from qubitlab.drivers.mock.physics.propagate import expm_batched, liouvillian, time_ordered_product, unitaries
from qubitlab.drivers.mock.physics.transmon import drive_operators, driven_hamiltonians, lowering, static_hamiltonian

ALPHA = 2 * math.pi * -0.330
T1, T2 = 50e3, 40e3


def lifted_gaussian(t: np.ndarray, center: float, zero_at: float, sigma: float) -> np.ndarray:
    g0 = math.exp(-0.5 * ((zero_at - center) / sigma) ** 2)
    return (np.exp(-0.5 * ((t - center) / sigma) ** 2) - g0) / (1 - g0)


def drag_samples() -> tuple[np.ndarray, float]:
    """S1's DRAG envelope at unit amplitude (complex, per ns) and the pi-pulse amplitude (rad/ns)."""
    t = np.arange(40) + 0.5
    g = lifted_gaussian(t, 20.0, 41.0, 10.0)
    deriv = -(t - 20.0) / 10.0**2 * g
    shape = g + 1j * (-1 / ALPHA) * deriv
    return shape, math.pi / float(g.sum())


def cr_samples() -> np.ndarray:
    t = np.arange(300) + 0.5
    t0, t1 = 150 - 120, 150 + 120
    envelope = np.where(t <= t0, lifted_gaussian(t, t0, -1, 10), np.where(t >= t1, lifted_gaussian(t, t1, 301, 10), 1.0))
    return 2 * math.pi * 0.050 * envelope.astype(np.complex128)


@functools.cache
def _s1_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The instrument-level input (drive samples) and the device's operators, prepared once."""
    shape, amp = drag_samples()
    x, y = drive_operators(0, 1)
    return static_hamiltonian([0.0], [ALPHA], []), amp * shape, x, y


def s1() -> np.ndarray:
    static, samples, x, y = _s1_inputs()
    return time_ordered_product(unitaries(driven_hamiltonians(static, [(samples, x, y)]), 1.0))


@functools.cache
def _s2_parts() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    shape, amp = drag_samples()
    static = static_hamiltonian([0.0], [ALPHA], [])
    x, y = drive_operators(0, 1)
    a = lowering(3)
    n = a.conj().T @ a
    t_phi = 1 / (1 / T2 - 1 / (2 * T1))
    collapse = [math.sqrt(1 / T1) * a, math.sqrt(2 / t_phi) * n]
    identity = np.eye(3)
    l0 = liouvillian(static, collapse)
    lx = -1j * (np.kron(x, identity) - np.kron(identity, x.T))
    ly = -1j * (np.kron(y, identity) - np.kron(identity, y.T))
    drives = np.linspace(0, 2 * amp, 100)[:, None] * shape[None, :]
    return l0, lx, ly, drives, np.eye(9)


@functools.cache
def _s2_group() -> tuple[Group, np.ndarray]:
    shape, amp = drag_samples()
    qubit = QubitParams(frequency=5e9, anharmonicity=ALPHA / (2 * math.pi) * 1e9, t1=T1 * 1e-9, t2=T2 * 1e-9,
                        rabi_per_volt=1.0, resonator_frequency=7e9, dispersive_shift=-1e6, resonator_linewidth=1e6,
                        readout_gain=1.0, readout_noise=0.0)
    group = Group(DeviceConfig(qubits={0: qubit}), (0,), 1.0)
    return group, (np.linspace(0, 2 * amp, 100)[:, None] * shape[None, :])[:, None, :]


def s2() -> np.ndarray:
    """The engine's path: exact per-sample unitaries, Strang-split exact dissipation, batched over amplitudes."""
    group, drives = _s2_group()
    return np.real(group.pulses(group.ground(), 5e9, drives)[:, 1, 1])


def s2_expm() -> np.ndarray:
    """The same with the exact exponential of each sample's 9x9 Lindbladian (the reference method)."""
    l0, lx, ly, drives, _ = _s2_parts()
    generators = np.empty((*drives.shape, 9, 9), dtype=np.complex128)  # L0 + Re(W) Lx + Im(W) Ly, in place
    np.multiply(drives.real[..., None, None], lx, out=generators)
    scratch = np.multiply(drives.imag[..., None, None], ly)
    generators += scratch
    generators += l0
    steps = expm_batched(generators, overwrite=True)
    rho = np.zeros((drives.shape[0], 9, 1), dtype=np.complex128)
    rho[:, 0, 0] = 1.0
    for k in range(drives.shape[1]):
        rho = np.matmul(steps[:, k], rho)
    return rho[:, 4, 0].real


@functools.cache
def _s3_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = drive_operators(0, 2)
    static = static_hamiltonian([2 * math.pi * 0.100, 0.0], [ALPHA, ALPHA], [(0, 1, 2 * math.pi * 0.003)])
    return static, cr_samples(), x, y


def s3() -> np.ndarray:
    static, samples, x, y = _s3_inputs()
    return time_ordered_product(unitaries(driven_hamiltonians(static, [(samples, x, y)]), 1.0))


def references() -> dict[str, np.ndarray]:
    """The exact products of per-sample ``scipy.linalg.expm`` (slow, for accuracy)."""
    shape, amp = drag_samples()
    static = static_hamiltonian([0.0], [ALPHA], [])
    x, y = drive_operators(0, 1)
    u1 = np.eye(3, dtype=complex)
    for w in amp * shape:
        u1 = sl.expm(-1j * (static + w.real * x + w.imag * y)) @ u1
    l0, lx, ly, drives, _ = _s2_parts()
    p2 = []
    for row in drives:
        v = np.zeros(9, dtype=complex)
        v[0] = 1
        for w in row:
            v = sl.expm(l0 + w.real * lx + w.imag * ly) @ v
        p2.append(v[4].real)
    static3 = static_hamiltonian([2 * math.pi * 0.100, 0.0], [ALPHA, ALPHA], [(0, 1, 2 * math.pi * 0.003)])
    x3, y3 = drive_operators(0, 2)
    u3 = np.eye(9, dtype=complex)
    for w in cr_samples():
        u3 = sl.expm(-1j * (static3 + w.real * x3 + w.imag * y3)) @ u3
    return {"S1": u1, "S2": np.array(p2), "S3": u3}


def run(repeat: int = 20) -> list[Row]:
    ref = references()
    peer = _qutip_peer(repeat)
    rows = []
    for name, fn, target in (("S1", s1, 0.5e-3), ("S2", s2, 20e-3), ("S3", s3, 5e-3)):
        if name == "S2":
            error = float(np.max(np.abs(s2_expm() - ref[name])))
            rows.append(Row("sim", f"S2 via per-sample Lindblad expm (max error {error:.1e})", measure(s2_expm, repeat),
                            extra={"max_error_vs_expm_product": error}))
        error = float(np.max(np.abs(fn() - ref[name])))
        timing = measure(fn, repeat=repeat)
        extra: dict[str, Any] = {"max_error_vs_expm_product": error}
        reference = reference_name = None
        if name in peer:
            peer_timing, peer_error = peer[name]
            extra["qutip_max_error_vs_expm_product"] = peer_error
            reference, reference_name = peer_timing.median, "qutip"
        rows.append(Row("sim", f"{name} (max error {error:.1e})", timing, target=target, reference=reference,
                        reference_name=reference_name, extra=extra))
    return rows


def _qutip_peer(repeat: int) -> dict[str, tuple[Timing, float]]:
    """QuTiP with default tolerances on the same problems; drives are step functions of the samples."""
    try:
        import qutip
    except ImportError:
        return {}
    ref = references()

    def step(values: np.ndarray) -> Any:
        times = np.arange(len(values) + 1, dtype=float)
        return qutip.coefficient(np.append(values, values[-1]), tlist=times, order=0)

    def hamiltonian(static: np.ndarray, samples: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[Any]:
        return [qutip.Qobj(static), [qutip.Qobj(x), step(samples.real)], [qutip.Qobj(y), step(samples.imag)]]

    shape, amp = drag_samples()
    static1 = static_hamiltonian([0.0], [ALPHA], [])
    x1, y1 = drive_operators(0, 1)
    h1 = hamiltonian(static1, amp * shape, x1, y1)
    static3 = static_hamiltonian([2 * math.pi * 0.100, 0.0], [ALPHA, ALPHA], [(0, 1, 2 * math.pi * 0.003)])
    x3, y3 = drive_operators(0, 2)
    h3 = hamiltonian(static3, cr_samples(), x3, y3)
    a = lowering(3)
    t_phi = 1 / (1 / T2 - 1 / (2 * T1))
    collapse = [qutip.Qobj(math.sqrt(1 / T1) * a), qutip.Qobj(math.sqrt(2 / t_phi) * (a.conj().T @ a))]
    rho0 = qutip.Qobj(np.diag([1.0, 0.0, 0.0]).astype(complex))
    amps = np.linspace(0, 2 * amp, 100)
    # default tolerances (atol 1e-8, rtol 1e-6); only the step budget is raised: with 40-300 steps in the
    # drive the default nsteps=1000 aborts ("excess work")
    options = {"nsteps": 1_000_000}

    def q1() -> np.ndarray:
        return np.asarray(qutip.propagator(h1, 40.0, options=options).full())

    def q2() -> np.ndarray:
        out = []
        for value in amps:
            result = qutip.mesolve(hamiltonian(static1, value * shape, x1, y1), rho0, [0.0, 40.0], c_ops=collapse,
                                   options=options)
            out.append(result.states[-1].full()[1, 1].real)
        return np.array(out)

    def q3() -> np.ndarray:
        return np.asarray(qutip.propagator(h3, 300.0, options=options).full())

    out = {}
    for name, fn, count in (("S1", q1, max(3, repeat // 4)), ("S2", q2, 3), ("S3", q3, max(3, repeat // 4))):
        error = float(np.max(np.abs(fn() - ref[name])))
        out[name] = (measure(fn, repeat=count, warmup=1), error)
    return out
