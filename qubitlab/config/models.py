"""The lab configuration schema: pydantic models, ``extra="forbid"``, cross-checked when loaded.

A lab file says what is in the rack and how it is wired -- instruments, physical lines, logical channels,
limits and timing -- never calibrated values (those live in the calibration store). Physical *lines* and
logical *channels* are kept apart because real labs sum several channels on one line: a cross-resonance
channel ``u0`` plays on the control qubit's drive line next to ``d0``, and ``m0``, ``m1`` share one readout line
at different IFs. Every cross-reference is checked here, with the key path and the valid choices in the error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from qubitlab.config.device import DeviceConfig, distinct_int_keys
from qubitlab.config.instruments import INSTRUMENT_MODELS, InstrumentModel, Role
from qubitlab.config.quantities import (
    Anharmonicity,
    Delay,
    Fraction,
    Frequency,
    GainDb,
    Power,
    PulseDuration,
    QubitIndex,
    SampleRate,
    SamplePeriod,
    Samples,
    Seconds,
    Voltage,
)
from qubitlab.errors import ConfigError

_CHANNEL = re.compile(r"^(?P<kind>[dmua])(?P<index>0|[1-9][0-9]{0,3})$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Instrument(_Model):
    """One instrument: which driver talks to it, where, and driver options passed through as they are."""

    driver: str = Field(description="Driver key, one of qubitlab.config.INSTRUMENT_MODELS.")
    address: str | None = Field(None, description="VISA resource; optional for virtual labs (assigned at start).")
    options: dict[str, Any] = Field(default_factory=dict, description="Driver options (e.g. timeout in s).")

    @field_validator("driver")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value not in INSTRUMENT_MODELS:
            raise ValueError(f"unknown driver {value!r}; known drivers: {', '.join(sorted(INSTRUMENT_MODELS))}")
        return value

    @property
    def model(self) -> InstrumentModel:
        return INSTRUMENT_MODELS[self.driver]


class Topology(_Model):
    qubits: list[QubitIndex] = Field(description="Qubit indices.")
    couplings: list[tuple[QubitIndex, QubitIndex]] = Field(default_factory=list,
                                                           description="Coupled pairs (either order).")
    native_gates: list[str] = Field(default_factory=lambda: ["rz", "sx", "x", "ecr"],
                                    description="The device's native gate basis.")

    @model_validator(mode="after")
    def _pairs_of_known_qubits(self) -> Topology:
        qubits: set[int] = set()
        for i, q in enumerate(self.qubits):
            if q in qubits:
                raise ValueError(f"qubits[{i}]: qubit {q} is listed twice in {self.qubits}; list each qubit once")
            qubits.add(q)
        pairs: set[frozenset[int]] = set()
        for i, (a, b) in enumerate(self.couplings):
            if a not in qubits or b not in qubits or a == b:
                raise ValueError(f"couplings[{i}]: ({a}, {b}) must join two different qubits of {self.qubits}")
            if frozenset((a, b)) in pairs:
                raise ValueError(f"couplings[{i}]: qubits {a} and {b} are coupled twice; list each pair once")
            pairs.add(frozenset((a, b)))
        return self


class Line(_Model):
    """A physical line: an AWG's I and Q outputs into an IQ mixer driven by an LO, then attenuation."""

    kind: Literal["drive", "readout"]
    awg: str = Field(description="Name of the AWG instrument.")
    outputs: tuple[str, str] = Field(description="The AWG outputs carrying I and Q, e.g. ['1', '2'].")
    lo: str = Field(description="Name of the LO instrument that up-converts this line.")
    lo_frequency: Frequency = Field(description="LO frequency, Hz.")
    lo_power: Power = Field(description="LO power, dBm.")
    gain_db: GainDb = Field(0.0, description="Gain from the AWG output to the device (negative: attenuation), dB.")

    @field_validator("outputs", mode="before")
    @classmethod
    def _as_strings(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else value


class Channel(_Model):
    """A logical channel: ``d<q>``/``u<n>``/``m<q>`` on a line, or ``a<q>`` on a digitizer input."""

    line: str | None = Field(None, description="Line name (d, u, m channels).")
    control: QubitIndex | None = Field(None, description="Control qubit (u channels).")
    target: QubitIndex | None = Field(None, description="Target qubit whose frequency the u channel drives at.")
    digitizer: str | None = Field(None, description="Digitizer instrument (a channels).")
    input: str | None = Field(None, description="Digitizer input (a channels).")

    @field_validator("input", mode="before")
    @classmethod
    def _input_as_string(cls, value: Any) -> Any:
        return None if value is None else str(value)


class Wiring(_Model):
    lines: dict[str, Line]
    channels: dict[str, Channel]


class OutputLimit(_Model):
    full_scale_vpp: Voltage = Field(description="Peak-to-peak voltage at full scale, V.")
    max_amplitude: Fraction = Field(description="Largest fraction of full scale the compiler may use.")


class AwgLimits(OutputLimit):
    """Limits of every output of an AWG, with per-output overrides under ``outputs``."""

    outputs: dict[str, OutputLimit] = Field(default_factory=dict)


class LoLimits(_Model):
    frequency_range: tuple[Frequency, Frequency] = Field(description="Allowed frequencies, Hz.")
    power_range: tuple[Power, Power] = Field(description="Allowed powers, dBm.")


class Limits(_Model):
    awgs: dict[str, AwgLimits]
    los: dict[str, LoLimits]


class AwgTiming(_Model):
    sample_rate: SampleRate = Field(description="Samples per second; a whole multiple of 1/dt.")
    granularity: Samples = Field(1, description="Waveform lengths must be multiples of this.")
    min_length: Samples = Field(1, description="Shortest waveform, samples.")
    max_if_bandwidth: Frequency = Field(description="Largest |IF| the compiler may modulate at, Hz.")


class DigitizerTiming(_Model):
    sample_rate: SampleRate = Field(description="Samples per second.")


class Timing(_Model):
    dt: SamplePeriod = Field(description="Sample period of pulse programs, s.")
    awgs: dict[str, AwgTiming]
    digitizers: dict[str, DigitizerTiming]


class Store(_Model):
    path: str | None = Field(None, description="Calibration store folder; default .qubitlab/ next to the lab file.")


class QubitGuess(_Model):
    """Where the bring-up starts looking for one qubit: ranges and rough guesses, never calibrated values."""

    resonator_range: tuple[Frequency, Frequency] = Field(description="Readout resonator search range, Hz.")
    qubit_range: tuple[Frequency, Frequency] = Field(description="Qubit (0-1) frequency search range, Hz.")
    anharmonicity: Anharmonicity = Field(-3.0e8, description="Rough anharmonicity, Hz (for DRAG's first guess).")

    @model_validator(mode="after")
    def _ordered(self) -> QubitGuess:
        for name in ("resonator_range", "qubit_range"):
            low, high = getattr(self, name)
            if not 0 < low < high:
                raise ValueError(f"{name}: [{low:g}, {high:g}] must be increasing positive frequencies in Hz")
        return self


class BringUp(_Model):
    """Search ranges, starting points and staleness limits for ``qubitlab calibrate``."""

    qubits: dict[QubitIndex, QubitGuess]
    readout_amp: Fraction = Field(0.1, description="Readout tone amplitude, fraction of full scale.")
    readout_duration: PulseDuration = Field(2.0e-6, description="Readout tone and window, s.")
    pulse_duration: PulseDuration = Field(4.0e-8, description="Single-qubit gate duration, s.")
    pulse_sigma: PulseDuration = Field(1.0e-8, description="Gaussian sigma of single-qubit gates, s.")
    rep_delay: Delay = Field(3.0e-4, description="Wait between shots, s (several T1).")
    staleness: dict[str, Seconds] = Field(default_factory=dict,
                                          description="Node name -> seconds after which its values are stale.")

    @field_validator("qubits", mode="before")
    @classmethod
    def _distinct_qubits(cls, value: Any) -> Any:
        return distinct_int_keys(value)


class LabConfig(_Model):
    """A whole lab file, validated; ``source`` is the file it came from."""

    name: str
    kind: Literal["virtual", "real"]
    description: str = ""
    instruments: dict[str, Instrument]
    topology: Topology
    wiring: Wiring
    limits: Limits
    timing: Timing
    store: Store = Field(default_factory=Store)
    device: DeviceConfig | None = Field(None, description="The virtual lab's device (physics) parameters.")
    bringup: BringUp | None = Field(None, description="Search ranges and rough guesses for the bring-up.")
    _source: Path | None = PrivateAttr(None)

    # -- cross-references ---------------------------------------------------------------------------------------
    @model_validator(mode="after")
    def _cross_check(self) -> LabConfig:
        for check in (_check_instruments, _check_lines, _check_channels, _check_limits, _check_timing, _check_bringup,
                      _check_device):
            check(self)
        return self

    # -- lookups --------------------------------------------------------------------------------------------------
    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def dt(self) -> float:
        return self.timing.dt

    @property
    def qubits(self) -> list[int]:
        return list(self.topology.qubits)

    @property
    def couplings(self) -> list[tuple[int, int]]:
        return list(self.topology.couplings)

    @property
    def coupling_map(self) -> list[tuple[int, int]]:
        return self.couplings

    @property
    def num_qubits(self) -> int:
        return len(self.topology.qubits)

    def channel(self, name: str) -> Channel:
        try:
            return self.wiring.channels[name]
        except KeyError:
            raise KeyError(f"{self.name}: no channel {name!r}; channels: {', '.join(sorted(self.wiring.channels))}")

    def line_of(self, channel: str) -> Line:
        line = self.channel(channel).line
        if line is None:
            raise KeyError(f"{self.name}: channel {channel!r} is not on a line")
        return self.wiring.lines[line]

    def control_channels(self) -> dict[int, tuple[int, int]]:
        """Every control channel: ``u`` index -> (control qubit, target qubit), in index order.

        The one place that reads ``u<k>`` channel names; the loader guarantees at most one channel per
        (control, target) direction."""
        out: dict[int, tuple[int, int]] = {}
        for name, ch in self.wiring.channels.items():
            if name.startswith("u") and ch.control is not None and ch.target is not None:
                out[int(name[1:])] = (ch.control, ch.target)
        return dict(sorted(out.items()))

    def control_channel_for(self, control: int, target: int) -> int:
        """The index ``k`` of the channel ``u<k>`` that drives ``control`` at ``target``'s frequency."""
        for index, pair in self.control_channels().items():
            if pair == (control, target):
                return index
        have = ", ".join(f"u{k} ({c}->{t})" for k, (c, t) in self.control_channels().items()) or "none"
        raise ConfigError(f"lab {self.name!r}: no control channel drives qubit {control} at qubit {target}'s "
                          f"frequency; control channels: {have}")

    def control_channel(self, qubits: tuple[int, int] | list[int]) -> list[int]:
        """Qiskit's ``backend.control_channel(qubits)``: the indices of the channels driving ``qubits[0]`` at
        ``qubits[1]``'s frequency (zero or one here)."""
        control, target = qubits
        return [k for k, pair in self.control_channels().items() if pair == (control, target)]

    def output_limits(self, awg: str, output: str) -> OutputLimit:
        limits = self.limits.awgs[awg]
        return limits.outputs.get(output) or OutputLimit(full_scale_vpp=limits.full_scale_vpp,
                                                         max_amplitude=limits.max_amplitude)

    def store_path(self) -> Path:
        base = self._source.parent if self._source is not None else Path.cwd()
        return (base / self.store.path) if self.store.path else base / ".qubitlab"


# -- cross-checks, each raising ValueError with the dotted key and the valid choices ----------------------------
def _names(items: Any) -> str:
    return ", ".join(sorted(items)) or "none"


def _role(lab: LabConfig, name: str, role: Role, key: str) -> InstrumentModel:
    instrument = lab.instruments.get(name)
    if instrument is None:
        raise ValueError(f"{key}: no instrument named {name!r}; instruments: {_names(lab.instruments)}")
    if instrument.model.role is not role:
        candidates = [n for n, i in lab.instruments.items() if i.model.role is role]
        raise ValueError(f"{key}: {name!r} is a {instrument.model.role.value}, not a {role.value}; "
                         f"{role.value}s: {_names(candidates)}")
    return instrument.model


def _check_instruments(lab: LabConfig) -> None:
    if lab.kind == "real":
        for name, instrument in lab.instruments.items():
            if not instrument.address:
                raise ValueError(f"instruments.{name}.address: a real lab needs a VISA address for every instrument")


def _check_lines(lab: LabConfig) -> None:
    used: dict[tuple[str, str], str] = {}
    pumped: dict[str, tuple[str, Line]] = {}
    for name, line in lab.wiring.lines.items():
        key = f"wiring.lines.{name}"
        model = _role(lab, line.awg, Role.AWG, f"{key}.awg")
        for i, output in enumerate(line.outputs):
            if output not in model.channels:
                raise ValueError(f"{key}.outputs[{i}]: {line.awg} ({model.key}) has no output {output!r}; "
                                 f"its outputs: {', '.join(model.channels)}")
            if i == 1 and output == line.outputs[0]:
                raise ValueError(f"{key}.outputs[1]: output {line.awg}.{output} is already this line's I output; "
                                 "I and Q need two different outputs")
            other = used.setdefault((line.awg, output), name)
            if other != name:
                raise ValueError(f"{key}.outputs[{i}]: output {line.awg}.{output} is already wired to line {other!r}; "
                                 "an output can feed one line only")
        lo = _role(lab, line.lo, Role.LO, f"{key}.lo")
        low, high = lo.frequency_range
        if not low <= line.lo_frequency <= high:
            raise ValueError(f"{key}.lo_frequency: {line.lo_frequency:g} Hz is outside {lo.key}'s range "
                             f"{low:g} .. {high:g} Hz")
        _check_shared_lo(name, line, pumped.setdefault(line.lo, (name, line)))


def _check_shared_lo(name: str, line: Line, first_line: tuple[str, Line]) -> None:
    """An LO has one frequency and one power: every line it pumps must ask for the same ones."""
    first, ref = first_line
    for what, unit in (("lo_frequency", "Hz"), ("lo_power", "dBm")):
        if getattr(line, what) != getattr(ref, what):
            raise ValueError(f"wiring.lines.{name}.{what}: LO {line.lo!r} also pumps line {first!r} at "
                             f"{getattr(ref, what):g} {unit}; one LO has one setting, so give both lines "
                             f"{getattr(ref, what):g} {unit} or wire a second LO")


def _check_channels(lab: LabConfig) -> None:
    couplings = {frozenset(c) for c in lab.topology.couplings}
    qubits = set(lab.topology.qubits)
    directions: dict[tuple[int, int], str] = {}
    present = set()
    for name, ch in lab.wiring.channels.items():
        key = f"wiring.channels.{name}"
        match = _CHANNEL.match(name)
        if match is None:
            raise ValueError(f"{key}: channel names are d<qubit>, u<index>, m<qubit> or a<qubit> (a number without "
                             f"leading zeros, below 10000), got {name!r}")
        kind, index = match["kind"], int(match["index"])
        if kind == "a":
            if ch.digitizer is None or ch.input is None or ch.line is not None:
                raise ValueError(f"{key}: an acquisition channel takes 'digitizer' and 'input' (no 'line')")
            model = _role(lab, ch.digitizer, Role.DIGITIZER, f"{key}.digitizer")
            if ch.input not in model.channels:
                raise ValueError(f"{key}.input: {ch.digitizer} has no input {ch.input!r}; inputs: "
                                 f"{', '.join(model.channels)}")
        else:
            if ch.line is None or ch.digitizer is not None or ch.input is not None:
                raise ValueError(f"{key}: a {kind} channel takes 'line' (no digitizer or input)")
            line = lab.wiring.lines.get(ch.line)
            if line is None:
                raise ValueError(f"{key}.line: no line {ch.line!r}; lines: {_names(lab.wiring.lines)}")
            wanted = "readout" if kind == "m" else "drive"
            if line.kind != wanted:
                raise ValueError(f"{key}.line: {ch.line!r} is a {line.kind} line; {name} needs a {wanted} line")
        if kind == "u":
            if ch.control is None or ch.target is None:
                raise ValueError(f"{key}: a control channel needs 'control' and 'target' qubits")
            if frozenset((ch.control, ch.target)) not in couplings:
                raise ValueError(f"{key}: qubits {ch.control} and {ch.target} are not coupled; couplings: "
                                 f"{lab.topology.couplings}")
            drive = lab.wiring.channels.get(f"d{ch.control}")
            if drive is not None and drive.line != ch.line:
                raise ValueError(f"{key}.line: a control channel plays on its control qubit's drive line "
                                 f"{drive.line!r}, not {ch.line!r}")
            other = directions.setdefault((ch.control, ch.target), name)
            if other != name:
                raise ValueError(f"{key}: {other} already drives qubit {ch.control} at qubit {ch.target}'s frequency; "
                                 "one control channel per direction")
        elif ch.control is not None or ch.target is not None:
            raise ValueError(f"{key}: only control (u) channels take 'control' and 'target'")
        elif index not in qubits:
            raise ValueError(f"{key}: qubit {index} is not in topology.qubits {lab.topology.qubits}")
        present.add(name)
    for q in lab.topology.qubits:
        missing = [f"{k}{q}" for k in "dma" if f"{k}{q}" not in present]
        if missing:
            raise ValueError(f"wiring.channels: qubit {q} has no {', '.join(missing)} channel")


def _check_limits(lab: LabConfig) -> None:
    for awg in {line.awg for line in lab.wiring.lines.values()}:
        if awg not in lab.limits.awgs:
            raise ValueError(f"limits.awgs: no limits for AWG {awg!r}; every AWG that is wired needs them")
    for name, limits in lab.limits.awgs.items():
        model = _role(lab, name, Role.AWG, f"limits.awgs.{name}")
        for output, spec in [("", limits), *limits.outputs.items()]:
            key = f"limits.awgs.{name}" + (f".outputs.{output}" if output else "")
            if output and output not in model.channels:
                raise ValueError(f"{key}: {name} has no output {output!r}; outputs: {', '.join(model.channels)}")
            if spec.full_scale_vpp > model.max_full_scale_vpp:
                raise ValueError(f"{key}.full_scale_vpp: {spec.full_scale_vpp} V exceeds {model.key}'s "
                                 f"{model.max_full_scale_vpp} V")
    for lo in {line.lo for line in lab.wiring.lines.values()}:
        if lo not in lab.limits.los:
            raise ValueError(f"limits.los: no limits for LO {lo!r}; every LO that is wired needs them")
    for name, lo_limits in lab.limits.los.items():
        model = _role(lab, name, Role.LO, f"limits.los.{name}")
        for what, (low, high), (mlow, mhigh) in (("frequency_range", lo_limits.frequency_range, model.frequency_range),
                                                 ("power_range", lo_limits.power_range, model.power_range)):
            if not mlow <= low <= high <= mhigh:
                raise ValueError(f"limits.los.{name}.{what}: [{low:g}, {high:g}] must be ordered and inside "
                                 f"{model.key}'s [{mlow:g}, {mhigh:g}]")
    for name, line in lab.wiring.lines.items():
        allowed = lab.limits.los[line.lo]
        if not allowed.frequency_range[0] <= line.lo_frequency <= allowed.frequency_range[1]:
            raise ValueError(f"wiring.lines.{name}.lo_frequency: {line.lo_frequency:g} Hz is outside "
                             f"limits.los.{line.lo}.frequency_range {list(allowed.frequency_range)}")
        if not allowed.power_range[0] <= line.lo_power <= allowed.power_range[1]:
            raise ValueError(f"wiring.lines.{name}.lo_power: {line.lo_power:g} dBm is outside "
                             f"limits.los.{line.lo}.power_range {list(allowed.power_range)}")


def _check_timing(lab: LabConfig) -> None:
    dt = lab.timing.dt
    for awg in {line.awg for line in lab.wiring.lines.values()}:
        if awg not in lab.timing.awgs:
            raise ValueError(f"timing.awgs: no timing for AWG {awg!r}")
    for name, timing in lab.timing.awgs.items():
        key = f"timing.awgs.{name}"
        model = _role(lab, name, Role.AWG, key)
        ratio = timing.sample_rate * dt
        if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-9 * max(ratio, 1):
            raise ValueError(f"{key}.sample_rate: {timing.sample_rate:g} S/s is not a whole multiple of 1/dt = "
                             f"{1 / dt:g} S/s; use {max(round(ratio), 1) / dt:g}")
        if timing.sample_rate > model.max_sample_rate:
            raise ValueError(f"{key}.sample_rate: {timing.sample_rate:g} S/s exceeds {model.key}'s "
                             f"{model.max_sample_rate:g}")
        if timing.min_length % timing.granularity:
            raise ValueError(f"{key}.min_length: {timing.min_length} must be a multiple of the granularity "
                             f"{timing.granularity}")
        if timing.min_length < model.min_waveform_length:
            raise ValueError(f"{key}.min_length: {timing.min_length} samples is shorter than {model.key}'s shortest "
                             f"waveform, {model.min_waveform_length} samples")
        if timing.max_if_bandwidth > timing.sample_rate / 2:
            raise ValueError(f"{key}.max_if_bandwidth: {timing.max_if_bandwidth:g} Hz exceeds Nyquist "
                             f"({timing.sample_rate / 2:g} Hz)")
    for name in {ch.digitizer for ch in lab.wiring.channels.values() if ch.digitizer}:
        if name not in lab.timing.digitizers:
            raise ValueError(f"timing.digitizers: no timing for digitizer {name!r}")
    for name, digitizer in lab.timing.digitizers.items():
        model = _role(lab, name, Role.DIGITIZER, f"timing.digitizers.{name}")
        if digitizer.sample_rate > model.max_sample_rate:
            raise ValueError(f"timing.digitizers.{name}.sample_rate: {digitizer.sample_rate:g} exceeds "
                             f"{model.key}'s {model.max_sample_rate:g}")


def _check_bringup(lab: LabConfig) -> None:
    if lab.bringup is None:
        return
    for q in lab.bringup.qubits:
        if q not in lab.topology.qubits:
            raise ValueError(f"bringup.qubits.{q}: no qubit {q} in topology.qubits {lab.topology.qubits}")


def _check_device(lab: LabConfig) -> None:
    """The virtual device simulates exactly the topology's qubits and couplings."""
    device = lab.device
    if device is None:
        return
    if sorted(device.qubits) != sorted(lab.topology.qubits):
        raise ValueError(f"device.qubits {sorted(device.qubits)} must be the topology's qubits "
                         f"{sorted(lab.topology.qubits)}")
    pairs = {frozenset(c.qubits) for c in device.couplings}
    wired = {frozenset(c) for c in lab.topology.couplings}
    if pairs != wired:
        raise ValueError(f"device.couplings {sorted(map(sorted, pairs))} must be the topology's couplings "
                         f"{sorted(map(sorted, wired))}")
