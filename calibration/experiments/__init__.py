"""Calibration experiments, one module each: ``run(ctx, qubits) -> Outcome`` (see ``calibration/experiment.py``).

:data:`EXPERIMENTS` is the explicit table the bring-up graph and the command line use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qubitlab.calibration.experiments import (
    bell,
    cross_resonance,
    drag,
    fine_amplitude,
    qubit_spectroscopy,
    rabi,
    ramsey,
    rb,
    readout,
    readout_optimisation,
    readout_weights,
    resonator_spectroscopy,
    stretch,
    t1,
    t2_echo,
    t2_ramsey,
)

EXPERIMENTS: dict[str, Callable[..., Any]] = {
    "resonator_spectroscopy": resonator_spectroscopy.run,
    "qubit_spectroscopy": qubit_spectroscopy.run,
    "rabi": rabi.run,
    "ramsey": ramsey.run,
    "drag": drag.run,
    "fine_amplitude": fine_amplitude.run,
    "readout_frequency": readout_optimisation.run_frequency,
    "readout_amplitude": readout_optimisation.run_amplitude,
    "readout_duration": readout_optimisation.run_duration,
    "readout_weights": readout_weights.run,
    "readout": readout.run,
    "t1": t1.run,
    "t2_ramsey": t2_ramsey.run,
    "t2_echo": t2_echo.run,
    "rb": rb.run,
    "cross_resonance": cross_resonance.run,
    "bell": bell.run,
    "stretch_1q": stretch.run_1q,
    "stretch_ecr": stretch.run_ecr,
}
"""Experiment name -> ``run(ctx, qubit, ...) -> Outcome``."""
