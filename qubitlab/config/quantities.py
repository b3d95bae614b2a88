"""Bounded physical quantities of a lab file, as annotated types shared by the wiring and the device models.

A lab file is typed by hand; a slip (``5e19`` for ``5e9``, ``.nan``, a negative duration) must be refused at
load with the valid range in the message, never reach an instrument or the physics. Every float here is finite
(the models set ``allow_inf_nan=False``) and bounded by what a superconducting-qubit lab can physically use.
The bounds are deliberately generous: an instrument model's own, tighter range is checked in ``models.py``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

MAX_FREQUENCY = 100.0e9
"""Hz: microwave electronics and transmons stay well below this."""


def _within(low: float, high: float, unit: str, shown: str, *, open_low: bool = False,
            open_high: bool = False) -> AfterValidator:
    """A check that ``low <= value <= high`` (or strict), refusing with the whole valid range ``shown``."""

    def check(value: float) -> float:
        below = value <= low if open_low else value < low
        above = value >= high if open_high else value > high
        if below or above:
            given = f"{value:g}" if isinstance(value, float) else str(value) if abs(value) < 10**30 else "a huge number"
            raise ValueError(f"{given}{' ' + unit if unit else ''} is outside the valid range {shown}")
        return value

    check.__name__ = f"within_{unit or 'number'}"
    return AfterValidator(check)


Frequency = Annotated[float, _within(0, MAX_FREQUENCY, "Hz", "(0, 100e9] Hz", open_low=True)]
SignedFrequency = Annotated[float, _within(-10e9, 10e9, "Hz", "[-10e9, 10e9] Hz")]
Anharmonicity = Annotated[float, _within(-10e9, 0, "Hz", "[-10e9, 0) Hz (negative for a transmon)", open_high=True)]
Linewidth = Annotated[float, _within(0, 1e9, "Hz", "(0, 1e9] Hz", open_low=True)]
Coupling = Annotated[float, _within(-1e9, 1e9, "Hz", "[-1e9, 1e9] Hz")]
RabiPerVolt = Annotated[float, _within(0, 1e12, "Hz/V", "(0, 1e12] Hz/V", open_low=True)]
SampleRate = Annotated[float, _within(0, 1e12, "S/s", "(0, 1e12] S/s", open_low=True)]
Power = Annotated[float, _within(-150, 40, "dBm", "[-150, 40] dBm")]
GainDb = Annotated[float, _within(-150, 60, "dB", "[-150, 60] dB")]
Voltage = Annotated[float, _within(0, 50, "V", "(0, 50] V", open_low=True)]
NoiseVoltage = Annotated[float, _within(0, 1e3, "V", "[0, 1000] V")]
VoltageGain = Annotated[float, _within(0, 1e6, "V/V", "(0, 1e6] V/V", open_low=True)]
Fraction = Annotated[float, _within(0, 1, "", "(0, 1] (a fraction of full scale)", open_low=True)]
Ratio = Annotated[float, _within(0, 10, "", "[0, 10]")]
SamplePeriod = Annotated[float, _within(1e-12, 1e-6, "s", "[1e-12, 1e-6] s")]
PulseDuration = Annotated[float, _within(0, 1e-3, "s", "(0, 1e-3] s", open_low=True)]
Delay = Annotated[float, _within(0, 10, "s", "[0, 10] s")]
CoherenceTime = Annotated[float, _within(0, 3600, "s", "(0, 3600] s", open_low=True)]
Seconds = Annotated[float, _within(0, 3.2e8, "s", "(0, 3.2e8] s (ten years)", open_low=True)]
Phase = Annotated[float, _within(-6.2832, 6.2832, "rad", "[-2 pi, 2 pi] rad")]
Samples = Annotated[int, _within(1, 1 << 32, "samples", "[1, 2^32] samples")]
QubitIndex = Annotated[int, _within(0, 1023, "", "[0, 1023] (a qubit index)")]
