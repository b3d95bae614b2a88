"""The virtual device's parameters: the ``device:`` section of a virtual lab file (SI units, validated).

The physics engine answers with these; a test can hide "true" values here and check that calibration finds
them. Kept free of numerics (pydantic only) so the lab-configuration loader can validate a ``device:``
section without importing the engine.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QubitParams(_Model):
    """One transmon and its readout resonator."""

    frequency: float = Field(gt=0, description="0-1 transition frequency, Hz.")
    anharmonicity: float = Field(lt=0, description="f12 - f01, Hz (negative for a transmon).")
    t1: float = Field(gt=0, description="Energy relaxation time, s.")
    t2: float = Field(gt=0, description="Ramsey dephasing time T2*, s (at most 2 T1).")
    rabi_per_volt: float = Field(gt=0, description="Rabi frequency, Hz, for 1 V of resonant drive at the line's "
                                                   "input into the fridge (after the line's gain_db).")
    resonator_frequency: float = Field(gt=0, description="Readout resonator frequency with the qubit in |0>, Hz.")
    dispersive_shift: float = Field(description="Shift of the resonator frequency per qubit excitation, Hz "
                                                "(f_r(n) = resonator_frequency + n * dispersive_shift).")
    resonator_linewidth: float = Field(gt=0, description="Resonator energy decay rate kappa / 2 pi, Hz.")
    readout_gain: float = Field(gt=0, description="Amplitude at the digitizer per volt of resonant probe, V/V.")
    readout_noise: float = Field(ge=0, description="Noise per quadrature per digitizer sample at the digitizer, V.")

    @model_validator(mode="after")
    def _t2_at_most_twice_t1(self) -> QubitParams:
        if self.t2 > 2 * self.t1 * (1 + 1e-12):
            raise ValueError(f"t2 = {self.t2:g} s exceeds 2 t1 = {2 * self.t1:g} s, which no dephasing allows")
        return self


class CouplingParams(_Model):
    """Exchange coupling ``J (a^dag b + a b^dag)`` between two transmons (static ZZ and cross-resonance)."""

    qubits: tuple[int, int]
    j: float = Field(description="Coupling strength J / 2 pi, Hz.")


class CrosstalkParams(_Model):
    """Classical crosstalk: the drive line of ``line`` also reaches transmon ``reaches``.

    The drive ``reaches`` sees is the one ``line`` sees times ``amplitude * exp(i phase)`` (before each
    transmon's own ``rabi_per_volt``), so a control line playing at its target's frequency also drives the
    target directly -- the term that cross-resonance calibration cancels.
    """

    line: int
    reaches: int
    amplitude: float = Field(ge=0, description="Relative drive amplitude at ``reaches``.")
    phase: float = Field(0.0, description="Relative phase, rad.")


class DeviceConfig(_Model):
    """The whole virtual device."""

    qubits: dict[int, QubitParams]
    couplings: list[CouplingParams] = Field(default_factory=list)
    crosstalk: list[CrosstalkParams] = Field(default_factory=list)
    levels: int = Field(3, ge=2, le=5, description="Levels kept per transmon.")
    seed: int = Field(1234, description="Seed of every random draw (shots, noise): equal seeds, equal shots.")

    @model_validator(mode="after")
    def _couplings_join_known_qubits(self) -> DeviceConfig:
        for c in self.couplings:
            a, b = c.qubits
            if a == b or a not in self.qubits or b not in self.qubits:
                raise ValueError(f"coupling {c.qubits} must join two different qubits of {sorted(self.qubits)}")
        for x in self.crosstalk:
            if x.line == x.reaches or x.line not in self.qubits or x.reaches not in self.qubits:
                raise ValueError(f"crosstalk from line {x.line} to {x.reaches} must join two different qubits of "
                                 f"{sorted(self.qubits)}")
        return self
