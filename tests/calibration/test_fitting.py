"""Fits: a start at (numerically) zero must not leave the covariance singular (a Rabi fit on centred data once
failed "covariance could not be estimated" with a perfect oscillation)."""

from __future__ import annotations

import math

import numpy as np

from qubitlab.calibration.fitting import cosine, fit


def test_a_parameter_starting_at_zero_still_gets_an_error_bar() -> None:
    x = np.linspace(0.0, 0.8, 51)
    rng = np.random.default_rng(3)
    y = -0.05 * np.cos(2 * math.pi * x / 0.4235) + rng.normal(0, 1e-3, x.size)
    y -= y.mean()
    result = fit(cosine, x, y, [0.05, 0.408, 2.9, 5.8e-18], ("amplitude", "period", "phase", "offset"))
    assert result.converged, result.message
    assert abs(result["period"] - 0.4235) < 5 * result.error("period") and result.error("period") < 2e-3
    assert 0 < result.error("offset") < 1e-3
