"""Exact propagation and transmon physics, against scipy's expm and closed-form physics written here.

Units: ns and rad/ns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as sl

from qubitlab.drivers.mock.physics.propagate import expm_batched, liouvillian, time_ordered_product, unitaries
from qubitlab.drivers.mock.physics.transmon import (
    drive_operators,
    driven_hamiltonians,
    embed,
    lowering,
    static_hamiltonian,
)

TWO_PI = 2 * math.pi
ALPHA = TWO_PI * -0.330


def evolve(static: np.ndarray, samples: np.ndarray, index: int = 0, count: int = 1, levels: int = 3) -> np.ndarray:
    x, y = drive_operators(index, count, levels)
    return time_ordered_product(unitaries(driven_hamiltonians(static, [(samples, x, y)]), 1.0))


def test_piecewise_unitaries_equal_the_expm_product() -> None:
    rng = np.random.default_rng(1)
    h = rng.normal(size=(37, 9, 9)) + 1j * rng.normal(size=(37, 9, 9))
    h = (h + np.conj(np.swapaxes(h, -1, -2))) / 2
    expected = np.eye(9, dtype=complex)
    for k in range(37):
        expected = sl.expm(-1j * 0.7 * h[k]) @ expected
    np.testing.assert_allclose(time_ordered_product(unitaries(h, 0.7)), expected, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-3, 0.3, 3.0, 40.0])
def test_batched_expm_of_general_matrices(scale: float) -> None:
    rng = np.random.default_rng(2)
    g = scale * (rng.normal(size=(25, 9, 9)) + 1j * rng.normal(size=(25, 9, 9))) / 9
    result = expm_batched(g)
    for k in range(25):
        np.testing.assert_allclose(result[k], sl.expm(g[k]), rtol=1e-11, atol=1e-12 * max(1.0, np.abs(sl.expm(g[k])).max()))


@pytest.mark.parametrize("omega", [TWO_PI * 0.005, TWO_PI * 0.0125, TWO_PI * 0.02])
def test_rabi_oscillation_frequency_is_proportional_to_amplitude(omega: float) -> None:
    # two levels, resonant constant drive Re(W) = omega: P1(t) = sin^2(omega t / 2)
    static = static_hamiltonian([0.0], [0.0], [], levels=2)
    for duration in (10, 37, 100):
        u = evolve(static, np.full(duration, omega, dtype=complex), levels=2)
        assert abs(u[1, 0]) ** 2 == pytest.approx(math.sin(omega * duration / 2) ** 2, abs=1e-12)


def drag(beta: float) -> tuple[np.ndarray, float]:
    t = np.arange(40) + 0.5
    g0 = math.exp(-0.5 * ((41 - 20) / 10) ** 2)
    g = (np.exp(-0.5 * ((t - 20) / 10) ** 2) - g0) / (1 - g0)
    shape = g + 1j * beta * (-(t - 20) / 100) * g
    return shape, math.pi / float(g.sum())


def test_pi_pulse_reaches_one_and_drag_removes_the_phase_error() -> None:
    static = static_hamiltonian([0.0], [ALPHA], [])
    shape, amp = drag(-1 / ALPHA)
    u_drag = evolve(static, amp * shape)
    assert abs(u_drag[1, 0]) ** 2 > 0.999
    plain, amp_plain = drag(0.0)
    u_plain = evolve(static, amp_plain * plain)
    # the level-2 AC Stark shift tilts a plain Gaussian's rotation axis; DRAG (beta = -1/alpha) undoes it
    error_drag, error_plain = 1 - abs(u_drag[1, 0]) ** 2, 1 - abs(u_plain[1, 0]) ** 2
    assert error_drag < error_plain / 5, (error_drag, error_plain)
    # leakage of this smooth 40 ns pulse is small either way (the leakage criterion: see notes)
    assert abs(u_drag[2, 0]) ** 2 < 1e-5 and abs(u_plain[2, 0]) ** 2 < 1e-5


def test_ramsey_fringes_at_the_detuning() -> None:
    # ideal pi/2 rotations around a free evolution at detuning delta: P1 = cos^2(delta tau / 2)
    delta = TWO_PI * 0.002
    half_pi = np.array([[1, -1j], [-1j, 1]]) / math.sqrt(2)  # exp(-i pi/4 X)
    static = static_hamiltonian([delta], [0.0], [], levels=2)
    for tau in (1, 50, 125, 250, 400):
        free = evolve(static, np.zeros(tau, dtype=complex), levels=2)
        u = half_pi @ free @ half_pi
        assert abs(u[1, 0]) ** 2 == pytest.approx(math.cos(delta * tau / 2) ** 2, abs=1e-12)


def test_t1_and_t2_decay_from_the_lindbladian() -> None:
    t1, t2 = 50e3, 40e3
    t_phi = 1 / (1 / t2 - 1 / (2 * t1))
    a = lowering(3)
    n = a.conj().T @ a
    generator = liouvillian(static_hamiltonian([0.0], [ALPHA], []), [math.sqrt(1 / t1) * a, math.sqrt(2 / t_phi) * n])
    times = np.array([0.0, 1e3, 1e4, 5e4, 1e5])
    propagators = expm_batched(np.broadcast_to(generator, (len(times), 9, 9)) * times[:, None, None])
    excited = np.zeros(9, dtype=complex)
    excited[4] = 1  # |1><1| row-stacked
    plus = np.zeros(9, dtype=complex)
    plus[[0, 1, 3, 4]] = 0.5  # |+><+| on the qubit levels
    for p, t in zip(propagators, times):
        assert (p @ excited)[4].real == pytest.approx(math.exp(-t / t1), rel=1e-9, abs=1e-12)
        assert abs((p @ plus)[1]) == pytest.approx(0.5 * math.exp(-t / t2), rel=1e-9, abs=1e-12)


def test_static_zz_matches_the_perturbative_formula() -> None:
    j, detuning, alpha = TWO_PI * 0.003, TWO_PI * 0.100, ALPHA
    h = static_hamiltonian([detuning, 0.0], [alpha, alpha], [(0, 1, j)])
    energies, vectors = np.linalg.eigh(h)

    def dressed(i: int, k: int) -> float:
        bare = np.zeros(9)
        bare[3 * i + k] = 1
        return float(energies[np.argmax(np.abs(vectors.T @ bare))])

    zz = dressed(1, 1) - dressed(1, 0) - dressed(0, 1) + dressed(0, 0)
    # second order: zeta = 2 J^2 (1/(Delta - alpha) - 1/(Delta + alpha)) with Delta = w0 - w1
    expected = 2 * j**2 * (1 / (detuning - alpha) - 1 / (detuning + alpha))
    assert zz == pytest.approx(expected, rel=0.10)


def test_cross_resonance_gives_a_zx_rotation_of_the_expected_sign_and_rate() -> None:
    j, detuning, alpha = TWO_PI * 0.003, TWO_PI * 0.100, ALPHA
    static = static_hamiltonian([detuning, 0.0], [alpha, alpha], [(0, 1, j)])  # frame at qubit 1 for both
    amplitude, duration = TWO_PI * 0.020, 400
    u = evolve(static, np.full(duration, amplitude, dtype=complex), index=0, count=2)

    def target_y(control: int) -> float:
        """<Y> of the target after the drive, the control prepared in |control>, the target in |0>."""
        psi = u[:, 3 * control]
        sy = embed(np.array([[0, -1j, 0], [1j, 0, 0], [0, 0, 0]]), 1, [3, 3])
        return float(np.real(np.conj(psi) @ sy @ psi))

    # Effective CR Hamiltonian (Magesan & Gambetta 2020, first order in J): nu_ZX ZX/2 + nu_IX IX/2 with
    # nu_ZX = -(J eps / Delta) alpha / (alpha + Delta), eps the drive in eps (a + a^dag) (here eps = W/2) and
    # Delta = w_control - w_target. The target then turns about x by (nu_IX + nu_ZX) t with the control in
    # |0> and (nu_IX - nu_ZX) t with it in |1>; from |0> an x rotation by theta gives <Y> = -sin(theta).
    zx = -(j * amplitude / 2 / detuning) * alpha / (alpha + detuning)
    theta0 = math.asin(-target_y(0))
    theta1 = math.asin(-target_y(1))
    measured_zx = (theta0 - theta1) / (2 * duration)
    assert np.sign(measured_zx) == np.sign(zx)
    assert measured_zx == pytest.approx(zx, rel=0.35)  # first order in J and drive: a rough rate
