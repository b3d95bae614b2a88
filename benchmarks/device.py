"""Whole-device benchmarks: instrument-level programs through the virtual device, with decoherence and shots.

D1 (virtual_2q): a Bell-type program -- single-qubit pulses on both qubits at once (40 ns), a 300 ns
cross-resonance pulse on q0's line at q1's frequency, then simultaneous multiplexed readout (1 us window, two
tones) -- 4000 shots. Target 10 ms.
D2 (virtual_5q): the same kind of program on pairs (0, 1) and (3, 4) with q2 idle, five readout tones and five
windows, 4000 shots. Target: within 10x of D1.
Warm rows reuse one ``VirtualDevice`` (its cached pulse unitaries, as repeated shots and sweep points do);
cold rows build a new one per run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmarks._harness import Row, measure
from benchmarks.sim import lifted_gaussian
from qubitlab import load_lab
from qubitlab.config.models import LabConfig
from qubitlab.config.device import DeviceConfig
from qubitlab.drivers.mock.physics.drive import LoState
from qubitlab.drivers.mock.physics.engine import Acquisition, VirtualDevice

ROOT = Path(__file__).resolve().parents[1]
SHOTS = 4000
WINDOW = 500


def _gaussian(n: int, sigma: float) -> np.ndarray:
    return lifted_gaussian(np.arange(n) + 0.5, n / 2, n + 1, sigma)


def _tone(envelope: np.ndarray, if_hz: float, start: int) -> np.ndarray:
    return envelope * np.exp(2j * math.pi * if_hz * (start + np.arange(envelope.shape[0]) + 0.5) * 1e-9)


def program(lab: LabConfig, pairs: list[tuple[int, int]]) -> tuple[dict[str, dict[str, np.ndarray]],
                                                                   dict[str, LoState], list[Acquisition]]:
    """AWG voltages, LO states and windows for single-qubit pulses plus a CR pulse on each pair, then readout."""
    device = DeviceConfig.model_validate(lab.device)
    length = 48 + 300 + 8 + 2 * WINDOW
    signals: dict[str, np.ndarray] = {name: np.zeros(length, dtype=complex) for name in lab.wiring.lines}
    g = _gaussian(40, 10.0)
    flat = np.concatenate([_gaussian(40, 10.0)[:20], np.ones(260), _gaussian(40, 10.0)[20:]])
    for control, target in pairs:
        for q in (control, target):
            name = lab.wiring.channels[f"d{q}"].line
            assert name is not None
            line = lab.wiring.lines[name]
            volts = 0.25 / (device.qubits[q].rabi_per_volt * 10 ** (line.gain_db / 20) * g.sum() * 1e-9)
            signals[name][:40] += _tone(volts * g, device.qubits[q].frequency - line.lo_frequency, 0)
        name = lab.wiring.channels[f"d{control}"].line
        assert name is not None
        line = lab.wiring.lines[name]
        volts = 30e6 / (device.qubits[control].rabi_per_volt * 10 ** (line.gain_db / 20))
        signals[name][48:348] += _tone(volts * flat, device.qubits[target].frequency - line.lo_frequency, 48)
    readout = lab.wiring.lines["readout"]
    windows = []
    for q in sorted(device.qubits):
        tone_if = device.qubits[q].resonator_frequency + device.qubits[q].dispersive_shift / 2 - readout.lo_frequency
        signals["readout"][356:] += _tone(np.full(2 * WINDOW, 0.15), tone_if, 356)
        windows.append(Acquisition("digitizer", "1", 356e-9, WINDOW, tone_if, np.full(WINDOW, 1 / WINDOW, complex)))
    outputs: dict[str, dict[str, np.ndarray]] = {}
    for name, line in lab.wiring.lines.items():
        played = outputs.setdefault(line.awg, {})
        played[line.outputs[0]], played[line.outputs[1]] = signals[name].real.copy(), signals[name].imag.copy()
    los = {line.lo: LoState(line.lo_frequency, line.lo_power) for line in lab.wiring.lines.values()}
    return outputs, los, windows


def run(repeat: int = 20) -> list[Row]:
    rows = []
    d1 = None
    for name, lab_file, pairs in (("D1 Bell-type, virtual_2q", "virtual_2q.yaml", [(0, 1)]),
                                  ("D2 two pairs, virtual_5q", "virtual_5q.yaml", [(0, 1), (3, 4)])):
        lab = load_lab(ROOT / "lab_configs" / lab_file)
        outputs, los, windows = program(lab, pairs)
        warm = VirtualDevice(lab)
        timing = measure(lambda: warm.run(outputs, los, windows, SHOTS), repeat=repeat)
        cold = measure(lambda: VirtualDevice(lab).run(outputs, los, windows, SHOTS), repeat=max(3, repeat // 4))
        target = 10e-3 if d1 is None else 10 * d1
        rows.append(Row("device", f"{name}, {SHOTS} shots (warm)", timing, target=target,
                        reference=d1, reference_name=None if d1 is None else "D1"))
        rows.append(Row("device", f"{name}, {SHOTS} shots (cold: new device)", cold))
        if d1 is None:
            d1 = timing.median
    return rows
