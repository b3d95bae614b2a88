"""The instrument models a lab file may name, as light data (no driver imports).

A lab file names each instrument's driver by key (``tektronix_awg5208``); the loader checks the key, the role
it can play and the channel names a wire may use against this table. The drivers layer registers its classes
under the same keys (an explicit registry: no dotted import strings in configuration).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.Enum):
    AWG = "awg"
    LO = "lo"
    DIGITIZER = "digitizer"


@dataclass(frozen=True)
class InstrumentModel:
    """What the configuration needs to know about a model: its role, channel names and ranges."""

    key: str
    description: str
    role: Role
    channels: tuple[str, ...]
    """Output names (AWG, LO) or input names (digitizer) a wire may use."""
    max_sample_rate: float = 0.0
    """Hz (AWG, digitizer)."""
    frequency_range: tuple[float, float] = (0.0, 0.0)
    """Hz (LO)."""
    power_range: tuple[float, float] = (0.0, 0.0)
    """dBm (LO)."""
    max_full_scale_vpp: float = 0.0
    """V peak to peak (AWG)."""
    min_waveform_length: int = 1
    """Shortest waveform the instrument plays, samples (AWG)."""
    waveform_granularity: int = 1
    """Waveform lengths must be multiples of this, samples (AWG)."""
    max_sequence_steps: int = 0
    """Longest sequence the sequencer holds, steps (AWG; 0: not modelled)."""
    waveform_memory: int = 0
    """Waveform memory per output, samples (AWG; 0: not modelled)."""


INSTRUMENT_MODELS: dict[str, InstrumentModel] = {
    model.key: model
    for model in (
        InstrumentModel(
            "tektronix_awg5208", "Tektronix AWG5208, 8 analog outputs, 16 bit, up to 2.5 GS/s",
            Role.AWG, tuple(str(i) for i in range(1, 9)), max_sample_rate=2.5e9, max_full_scale_vpp=1.5,
            # Figures of the Tektronix AWG5200 series datasheet (AWG5202/5204/5208): waveform length 2400
            # samples minimum (also QCoDeS' AWG5208 example: "no waveform can be shorter than 2400 points"),
            # granularity 1 sample, waveform memory 2 GSample per channel (standard), sequencer up to 16,383
            # steps. Not re-read from the datasheet text in this session (no copy was at hand): check the
            # datasheet of your unit and its options before relying on the memory figure.
            min_waveform_length=2400, waveform_granularity=1, max_sequence_steps=16_383,
            waveform_memory=2_000_000_000,  # "2 GSample" read as 2 x 10^9, the smaller of its two readings
        ),
        InstrumentModel(
            "rs_sgs100a", "Rohde & Schwarz SGS100A RF source, 1 MHz - 12.75 GHz",
            Role.LO, ("RF",), frequency_range=(1.0e6, 12.75e9), power_range=(-120.0, 25.0),
        ),
        InstrumentModel(
            "qubitlab_virtual_digitizer", "qubitlab's virtual SCPI digitizer, 4 inputs, up to 1 GS/s",
            Role.DIGITIZER, ("1", "2", "3", "4"), max_sample_rate=1.0e9,
        ),
    )
}
"""Known driver keys; the drivers layer maps each to its class."""
