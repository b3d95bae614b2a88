"""Bounded physical quantities of a lab file, as annotated types shared by the wiring and the device models.

A lab file is typed by hand; a slip (``5e19`` for ``5e9``, ``.nan``, a negative duration) must be refused at
load with the valid range in the message, never reach an instrument or the physics. Every float here is finite
(the models set ``allow_inf_nan=False``) and bounded by what a superconducting-qubit lab can physically use.
The bounds are deliberately generous: an instrument model's own, tighter range is checked in ``models.py``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_FREQUENCY = 100.0e9
"""Hz: microwave electronics and transmons stay well below this."""

Frequency = Annotated[float, Field(gt=0, le=MAX_FREQUENCY, description="Hz, in (0, 100 GHz].")]
SignedFrequency = Annotated[float, Field(ge=-10.0e9, le=10.0e9, description="Hz, in [-10 GHz, 10 GHz].")]
SampleRate = Annotated[float, Field(gt=0, le=1.0e12, description="S/s, in (0, 1e12].")]
Power = Annotated[float, Field(ge=-150.0, le=40.0, description="dBm, in [-150, 40].")]
GainDb = Annotated[float, Field(ge=-150.0, le=60.0, description="dB, in [-150, 60].")]
Voltage = Annotated[float, Field(gt=0, le=50.0, description="V, in (0, 50].")]
Fraction = Annotated[float, Field(gt=0, le=1, description="Fraction of full scale, in (0, 1].")]
SamplePeriod = Annotated[float, Field(ge=1.0e-12, le=1.0e-6, description="s, in [1 ps, 1 us].")]
PulseDuration = Annotated[float, Field(gt=0, le=1.0e-3, description="s, in (0, 1 ms].")]
Delay = Annotated[float, Field(ge=0, le=10.0, description="s, in [0, 10 s].")]
CoherenceTime = Annotated[float, Field(gt=0, le=3600.0, description="s, in (0, 3600 s].")]
Seconds = Annotated[float, Field(gt=0, le=10 * 365.25 * 86400, description="s, in (0, 10 years].")]
Samples = Annotated[int, Field(ge=1, le=1 << 32, description="Samples, in [1, 2^32].")]
QubitIndex = Annotated[int, Field(ge=0, lt=1024, description="Qubit index, in [0, 1024).")]
Phase = Annotated[float, Field(ge=-6.2832, le=6.2832, description="rad, in [-2 pi, 2 pi].")]
