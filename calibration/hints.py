"""What to change when a bring-up node fails: the lab-file key, and in which direction.

A failed gate says what was measured; an operator also needs to know what to try next. :func:`hint` maps a
failed node (and, where the remedy depends on it, the failed gate) to the lab-file key to change and the
direction, naming the optimisation node that can do it instead. The bring-up attaches it to the outcome, so
it reaches the command line, the store's run message and the report.
"""

from __future__ import annotations

from collections.abc import Sequence

from qubitlab.calibration.fitting import Gate

_READOUT = ("raise bringup.readout_amp (up to the readout line's limits.awgs.<awg>.max_amplitude shared by its "
            "tones) or bringup.readout_duration (while it stays well below T1), or run readout_amplitude and "
            "readout_duration")

_BY_GATE: dict[tuple[str, str], str] = {
    ("resonator_spectroscopy", "x0"): "move bringup.qubits.{q}.resonator_range so that it contains the dip "
                                      "(the fitted centre fell outside it)",
    ("resonator_spectroscopy", "linewidth"): "widen bringup.qubits.{q}.resonator_range (the scan must be at least "
                                             "three linewidths wide) or raise the number of points",
    ("qubit_spectroscopy", "x0"): "move bringup.qubits.{q}.qubit_range so that it contains the qubit line",
    ("qubit_spectroscopy", "R^2"): "the line is buried in the readout noise even at 6x the shots: raise "
                                   "bringup.readout_amp (the readout is not optimised before this node) or "
                                   "widen/move bringup.qubits.{q}.qubit_range if no line is there",
    ("readout_frequency", "maximum inside"): "the best probe lies outside +-3 MHz of the resonance: check "
                                             "q{q}.resonator_frequency (rerun resonator_spectroscopy)",
}

_BY_NODE: dict[str, str] = {
    "resonator_spectroscopy": "raise bringup.readout_amp if the dip is below the noise, or move/widen "
                              "bringup.qubits.{q}.resonator_range",
    "qubit_spectroscopy": "widen or move bringup.qubits.{q}.qubit_range; raise the drive (lower the line's "
                          "attenuation, wiring.lines.<line>.gain_db) if no line is seen",
    "rabi": "the pi pulse needs more drive: raise wiring.lines.<drive line>.gain_db or bringup.pulse_duration",
    "ramsey": "rerun qubit_spectroscopy (the detuning is outside Ramsey's range)",
    "readout_frequency": _READOUT,
    "readout_amplitude": _READOUT,
    "readout_duration": _READOUT,
    "readout_weights": "rerun readout_amplitude and readout_duration (the |0> and |1> traces must differ well "
                       "above the noise); without weights the readout integrates with the boxcar",
    "readout": _READOUT,
    "drag": "rerun rabi; lengthen bringup.pulse_duration if leakage dominates",
    "fine_amplitude": "rerun rabi and drag",
    "t1": "rerun readout (a poor discriminator flattens the decay)",
    "t2_ramsey": "rerun ramsey and readout",
    "t2_echo": "rerun fine_amplitude and readout",
    "rb": "rerun fine_amplitude and drag; lengthen bringup.pulse_duration if leakage dominates",
    "cross_resonance": "rerun fine_amplitude on both qubits; check the pair's control channel in wiring.channels",
    "bell": "rerun cross_resonance and readout on both qubits",
}


def hint(node: str, target: Sequence[int], failed: Sequence[Gate]) -> str:
    """The next thing to try after ``node`` failed ``failed`` on ``target`` ("" when nothing is known)."""
    q = target[0] if target else 0
    for gate in failed:
        for (name, fragment), text in _BY_GATE.items():
            if name == node and fragment in gate.name:
                return text.format(q=q)
    return _BY_NODE.get(node, "").format(q=q)
