"""Circuits: gate-level IR, Pauli observables, OpenQASM 3 input, Cliffords, and lowering to calibrated pulses.

Sits above ``qubitlab.pulse`` and below ``qubitlab.calibration``. Built by the circuits issue; empty for now.
"""
