"""Shared by the physics-engine tests: instrument-level inputs (AWG output voltages, LO states) for virtual_2q."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qubitlab import load_lab
from qubitlab.config.models import LabConfig
from qubitlab.config.device import DeviceConfig
from qubitlab.drivers.mock.physics.drive import LoState
from qubitlab.drivers.mock.physics.engine import VirtualDevice

ROOT = Path(__file__).resolve().parents[1]
LAB = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
OUTPUTS = {"q0_drive": ("1", "2"), "q1_drive": ("3", "4"), "readout": ("5", "6")}
GAIN = {"q0_drive": 10 ** (-30 / 20), "q1_drive": 10 ** (-30 / 20), "readout": 10 ** (-40 / 20)}


def lab_with(qubits: Mapping[int, Mapping[str, Any]] | None = None, **device: Any) -> LabConfig:
    """``virtual_2q`` with some device parameters replaced."""
    assert LAB.device is not None
    section = LAB.device.model_dump()
    section["qubits"] = {q: {**p, **dict((qubits or {}).get(q, {}))} for q, p in section["qubits"].items()}
    section.update(device)
    return LAB.model_copy(update={"device": DeviceConfig.model_validate(section)})


def quiet(**extra: Any) -> LabConfig:
    """No decoherence worth the name (T1 = T2 = 1 s), no crosstalk."""
    return lab_with({q: {"t1": 1.0, "t2": 1.0} for q in (0, 1)}, crosstalk=[], **extra)


def lo_states(lab: LabConfig, **frequency: float) -> dict[str, LoState]:
    out = {line.lo: LoState(line.lo_frequency, line.lo_power) for line in lab.wiring.lines.values()}
    for lo, f in frequency.items():
        out[lo] = LoState(f, out[lo].power)
    return out


def tone(envelope: np.ndarray, if_hz: float, start: int, phase: float = 0.0) -> np.ndarray:
    """Complex AWG samples (volts) of an envelope modulated at ``if_hz`` in absolute time from ``start`` ns.

    The phase is taken at each sample's midpoint: a held sample acts as the tone at its centre, so pulses at
    different IFs keep their intended relative phase (a hold delays a tone by half a sample, pi IF dt)."""
    t = (start + np.arange(envelope.shape[0]) + 0.5) * 1e-9
    return envelope * np.exp(1j * (2 * math.pi * if_hz * t + phase))


def outputs(length: int, **lines: list[tuple[int, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """AWG output voltages: per line, complex pieces placed at their start samples."""
    played: dict[str, np.ndarray] = {}
    for line, pieces in lines.items():
        s = np.zeros(length, dtype=np.complex128)
        for start, piece in pieces:
            s[start: start + piece.shape[0]] += piece
        i, q = OUTPUTS[line]
        played[i], played[q] = s.real.copy(), s.imag.copy()
    return {"awg": played}


def volts_for(lab: LabConfig, qubit: int, rabi_hz: float) -> float:
    """AWG volts giving a resonant Rabi frequency ``rabi_hz`` on ``qubit`` (the line's gain undone)."""
    rabi_per_volt = params(lab).qubits[qubit].rabi_per_volt
    return rabi_hz / rabi_per_volt / GAIN[f"q{qubit}_drive"]


def lifted_gaussian(n: int, sigma: float) -> np.ndarray:
    t = np.arange(n) + 0.5
    c = n / 2
    g0 = math.exp(-0.5 * ((n + 1 - c) / sigma) ** 2)  # zero one sample past each end, as Qiskit's Gaussian
    return np.asarray((np.exp(-0.5 * ((t - c) / sigma) ** 2) - g0) / (1 - g0))


def pi_volts(lab: LabConfig, qubit: int, envelope: np.ndarray) -> float:
    """Peak volts of ``envelope`` making a pi rotation: area 2 pi rabi * t = pi."""
    return volts_for(lab, qubit, 0.5 / (float(np.sum(envelope)) * 1e-9))


def params(lab: LabConfig) -> DeviceConfig:
    """The lab's device section (typed, validated at load)."""
    assert lab.device is not None
    return lab.device


def device(lab: LabConfig, seed: int | None = None) -> VirtualDevice:
    return VirtualDevice(lab, seed=seed)
