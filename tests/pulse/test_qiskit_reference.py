"""Differential checks against Qiskit Pulse 1.4 itself, run only where Qiskit 1.x is installed.

Qiskit is not a dependency (Qiskit 2.x has no ``qiskit.pulse``), so these tests skip on a plain install; they
are how we checked that random nested programs time out exactly as under Qiskit and that every library pulse
samples identically. Install ``qiskit<2`` in the venv to run them.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import pytest

from qubitlab import pulse as L

Q = pytest.importorskip("qiskit.pulse", reason="needs Qiskit 1.x (qiskit.pulse was removed in 2.0)")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _channel(mod: Any, name: str) -> Any:
    return {"d0": mod.DriveChannel(0), "d1": mod.DriveChannel(1), "u0": mod.ControlChannel(0),
            "m0": mod.MeasureChannel(0), "a0": mod.AcquireChannel(0)}[name]


def _random_ops(rng: random.Random, depth: int = 0) -> list[tuple[Any, ...]]:
    ops: list[tuple[Any, ...]] = []
    for _ in range(rng.randint(1, 5)):
        if depth < 3 and rng.random() < 0.3:
            kind = rng.choice(["left", "right", "seq", "equi", "phase_off"])
            ops.append(("ctx", kind, rng.randint(0, 3000), _random_ops(rng, depth + 1)))
        else:
            ops.append((rng.choice(["play", "delay", "shift", "barrier", "acq"]),
                        rng.choice(["d0", "d1", "u0", "m0", "a0"]), rng.choice([16, 32, 160, 48]), rng.random()))
    return ops


def _emit(mod: Any, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        if op[0] == "ctx":
            _, kind, duration, sub = op
            contexts = {"left": mod.align_left, "right": mod.align_right, "seq": mod.align_sequential,
                        "equi": lambda: mod.align_equispaced(duration),
                        "phase_off": lambda: mod.phase_offset(0.3, mod.DriveChannel(0))}
            with contexts[kind]():
                _emit(mod, sub)
            continue
        kind, name, duration, x = op
        channel = _channel(mod, name)
        if name == "a0":
            if kind == "acq":
                mod.acquire(duration, channel, mod.MemorySlot(0))
            else:
                mod.delay(duration, channel)
        elif kind == "play":
            mod.play(mod.Constant(duration, 0.5 * x), channel)
        elif kind == "delay":
            mod.delay(duration, channel)
        elif kind == "shift":
            mod.shift_phase(x, channel)
        elif kind == "barrier":
            mod.barrier(mod.DriveChannel(0), mod.DriveChannel(1), mod.ControlChannel(0))
        else:
            mod.play(mod.Constant(duration, 0.1), channel)


def _timeline(mod: Any, ops: list[tuple[Any, ...]], align: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mod.build(default_alignment=align) as block:
            _emit(mod, ops)
        sched = mod.transforms.block_to_schedule(block)
    return [(t, type(i).__name__, tuple(sorted(c.name for c in i.channels)), int(i.duration))
            for t, i in sched.instructions], sched.duration


@pytest.mark.parametrize("seed", range(4))
def test_random_nested_programs_time_out_as_in_qiskit(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        ops, align = _random_ops(rng), rng.choice(["left", "right", "sequential"])
        try:
            expected = _timeline(Q, ops, align)
        except Exception:  # noqa: BLE001 - Qiskit refused the program; so must we
            with pytest.raises(Exception):
                _timeline(L, ops, align)
            continue
        assert _timeline(L, ops, align) == expected


PULSES = {
    "Gaussian": dict(amp=0.3, sigma=11.0, angle=0.4),
    "GaussianSquare": dict(amp=0.3, sigma=7.0, width=41.0, angle=-0.2),
    "GaussianSquareDrag": dict(amp=0.3, sigma=7.0, beta=1.3, width=41.0, angle=0.1),
    "GaussianDeriv": dict(amp=0.3, sigma=11.0, angle=0.2),
    "Drag": dict(amp=0.3, sigma=11.0, beta=-2.5, angle=0.3),
    "Constant": dict(amp=0.3, angle=0.5),
    "Sin": dict(amp=0.3, phase=0.1, freq=0.02, angle=0.0),
    "Cos": dict(amp=0.3, phase=0.1, freq=0.02, angle=0.0),
    "Square": dict(amp=0.3, phase=0.1, freq=0.02, angle=0.0),
    "Sawtooth": dict(amp=0.3, phase=0.1, freq=0.02, angle=0.0),
    "Triangle": dict(amp=0.3, phase=0.1, freq=0.02, angle=0.0),
    "Sech": dict(amp=0.3, sigma=11.0, angle=0.0),
}


@pytest.mark.parametrize("name", sorted(PULSES))
@pytest.mark.parametrize("duration", [1, 2, 63, 64, 160])
def test_library_samples_equal_qiskits(name: str, duration: int) -> None:
    params = PULSES[name]
    if "width" in params and params["width"] >= duration:
        params = {**params, "width": 0.0}
    ours = getattr(L, name)(duration, **params).get_waveform().samples
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(Q, name)(duration, **params).get_waveform().samples
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
