"""The virtual device's parameters: the typed ``device:`` section of a virtual lab file (SI units, validated).

The config layer owns this schema so that loading a lab file imports no layer above the shell; the physics
engine (``qubitlab.drivers.mock.physics``) reads ``LabConfig.device``. A test can hide "true" values here and
check that calibration finds them. Every number is finite and bounded (``quantities.py``); the cross-checks
against the lab's topology are in ``models.py``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qubitlab.config.quantities import (
    Anharmonicity,
    CoherenceTime,
    Coupling,
    Frequency,
    Linewidth,
    NoiseVoltage,
    Phase,
    QubitIndex,
    RabiPerVolt,
    Ratio,
    SignedFrequency,
    Voltage,
    VoltageGain,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class QubitParams(_Model):
    """One transmon and its readout resonator."""

    frequency: Frequency = Field(description="0-1 transition frequency, Hz.")
    anharmonicity: Anharmonicity = Field(description="f12 - f01, Hz (negative for a transmon).")
    t1: CoherenceTime = Field(description="Energy relaxation time, s.")
    t2: CoherenceTime = Field(description="Ramsey dephasing time T2*, s (at most 2 T1).")
    rabi_per_volt: RabiPerVolt = Field(description="Rabi frequency, Hz, for 1 V of resonant drive at the line's "
                                                   "input into the fridge (after the line's gain_db).")
    resonator_frequency: Frequency = Field(description="Readout resonator frequency with the qubit in |0>, Hz.")
    dispersive_shift: SignedFrequency = Field(description="Shift of the resonator frequency per qubit excitation, Hz "
                                                          "(f_r(n) = resonator_frequency + n * dispersive_shift).")
    resonator_linewidth: Linewidth = Field(description="Resonator energy decay rate kappa / 2 pi, Hz.")
    readout_gain: VoltageGain = Field(description="Amplitude at the digitizer per volt of resonant probe, V/V.")
    readout_noise: NoiseVoltage = Field(description="Noise per quadrature per digitizer sample at the digitizer, V.")
    photon_voltage: Voltage | None = Field(None, description=(
        "Probe amplitude at the device, V, whose resonant steady state holds one photon in the resonator. Given, "
        "the readout drives measurement-induced transitions above a few photons (rate ~ n / 2 n_crit times the "
        "pure dephasing rate, n_crit = (Delta / 2g)^2; drivers/mock/physics/readout.py); omitted, the readout "
        "has no back-action."))

    @model_validator(mode="after")
    def _t2_at_most_twice_t1(self) -> QubitParams:
        if self.t2 > 2 * self.t1 * (1 + 1e-12):
            raise ValueError(f"t2 = {self.t2:g} s exceeds 2 t1 = {2 * self.t1:g} s, which no dephasing allows")
        return self


class CouplingParams(_Model):
    """Exchange coupling ``J (a^dag b + a b^dag)`` between two transmons (static ZZ and cross-resonance)."""

    qubits: tuple[QubitIndex, QubitIndex]
    j: Coupling = Field(description="Coupling strength J / 2 pi, Hz.")


class CrosstalkParams(_Model):
    """Classical crosstalk: the drive line of ``line`` also reaches transmon ``reaches``.

    The drive ``reaches`` sees is the one ``line`` sees times ``amplitude * exp(i phase)`` (before each
    transmon's own ``rabi_per_volt``), so a control line playing at its target's frequency also drives the
    target directly -- the term that cross-resonance calibration cancels.
    """

    line: QubitIndex
    reaches: QubitIndex
    amplitude: Ratio = Field(description="Relative drive amplitude at ``reaches``.")
    phase: Phase = Field(0.0, description="Relative phase, rad.")


class DeviceConfig(_Model):
    """The whole virtual device."""

    qubits: dict[QubitIndex, QubitParams]
    couplings: list[CouplingParams] = Field(default_factory=list)
    crosstalk: list[CrosstalkParams] = Field(default_factory=list)
    levels: int = Field(3, ge=2, le=5, description="Levels kept per transmon, 2 to 5.")
    seed: int = Field(1234, ge=0, lt=2**63, description="Seed of every random draw (shots, noise): equal seeds, "
                                                        "equal shots; 0 to 2^63 - 1.")

    @field_validator("qubits", mode="before")
    @classmethod
    def _distinct_qubits(cls, value: Any) -> Any:
        return distinct_int_keys(value)

    @model_validator(mode="after")
    def _couplings_join_known_qubits(self) -> DeviceConfig:
        seen: set[frozenset[int]] = set()
        for i, c in enumerate(self.couplings):
            a, b = c.qubits
            if a == b or a not in self.qubits or b not in self.qubits:
                raise ValueError(f"couplings[{i}]: {c.qubits} must join two different qubits of "
                                 f"{sorted(self.qubits)}")
            if frozenset(c.qubits) in seen:
                raise ValueError(f"couplings[{i}]: qubits {c.qubits} are coupled twice; give each pair one j")
            seen.add(frozenset(c.qubits))
        reach: set[tuple[int, int]] = set()
        for i, x in enumerate(self.crosstalk):
            if x.line == x.reaches or x.line not in self.qubits or x.reaches not in self.qubits:
                raise ValueError(f"crosstalk[{i}]: from line {x.line} to {x.reaches} must join two different "
                                 f"qubits of {sorted(self.qubits)}")
            if (x.line, x.reaches) in reach:
                raise ValueError(f"crosstalk[{i}]: line {x.line} reaching {x.reaches} is given twice; give it once")
            reach.add((x.line, x.reaches))
        return self


def distinct_int_keys(value: Any) -> Any:
    """``value`` unchanged; a mapping whose keys name the same integer twice (``0`` and ``"0"``) is refused."""
    if not isinstance(value, dict):
        return value
    seen: dict[int, Any] = {}
    for key in value:
        try:
            number = int(key)
        except (TypeError, ValueError, OverflowError):
            continue  # pydantic reports the key itself
        if number in seen:
            raise ValueError(f"qubit {number} is given twice (keys {seen[number]!r} and {key!r}); give each qubit once")
        seen[number] = key
    return value
