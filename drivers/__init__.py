"""Instruments: payload types, role protocols (AWG, digitizer, LO), QCoDeS drivers, station and executor.

Drivers never see a schedule: they take the payload dataclasses the pulse compiler emits
(``drivers/payloads.py``). Built by the instruments issue; empty for now.
"""
