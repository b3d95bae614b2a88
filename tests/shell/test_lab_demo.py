"""The main job (``qubitlab demo``): a Rabi sweep on the virtual lab whose fitted period is the device's."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from physics_lab import lifted_gaussian

from qubitlab.lab_demo import run_lab_demo


def test_the_demo_finds_the_pi_amplitude_the_device_parameters_give(tmp_path: Path) -> None:
    lines = list(run_lab_demo(tmp_path))
    found = next(line for line in lines if line.startswith("Rabi period"))
    period = float(re.search(r"Rabi period ([0-9.]+)", found).group(1))  # type: ignore[union-attr]
    # rabi_per_volt 6e9 Hz/V, half of 1 Vpp full scale, -30 dB line, Gaussian(160, sigma 40) sampled at dt = 1 ns
    expected = 1.0 / (6e9 * 0.5 * 10 ** (-30 / 20) * float(np.sum(lifted_gaussian(160, 40))) * 1e-9)
    assert period == pytest.approx(expected, rel=0.03)
    assert (tmp_path / "rabi_virtual_lab.png").stat().st_size > 10_000
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1
