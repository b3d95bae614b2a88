"""Pass 4: mapping to instrument outputs -- each line's complex baseband goes to its AWG's I and Q outputs.

An IQ mixer up-converts ``I + iQ`` with the LO: ``RF = Re[(I + iQ) exp(i 2 pi f_LO t)]``, so I is the real
part and Q the imaginary part. Amplitude 1 of a pulse is the output's full scale; the line's attenuation sits
after the AWG and is the physics' (and calibration's) business, never the compiler's.
"""

from __future__ import annotations

from dataclasses import dataclass

from qubitlab.pulse.passes.hardware import HardwareView
from qubitlab.pulse.passes.modulate import Contribution


@dataclass(frozen=True)
class OutputContribution:
    """A contribution routed to a pair of outputs of one AWG."""

    awg: str
    i_output: str
    q_output: str
    source: Contribution


def map_to_outputs(per_line: dict[str, list[Contribution]], hw: HardwareView) -> dict[str, list[OutputContribution]]:
    """Per AWG, the contributions of all its lines with their output pair."""
    out: dict[str, list[OutputContribution]] = {}
    for line_name, contributions in per_line.items():
        line = hw.lines[line_name]
        i_output, q_output = line.outputs
        bucket = out.setdefault(line.awg, [])
        bucket.extend(OutputContribution(line.awg, i_output, q_output, c) for c in contributions)
    return out
