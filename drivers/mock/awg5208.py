"""A Tektronix AWG5208 emulation good enough for QCoDeS' own, unmodified ``TektronixAWG5208`` driver.

It keeps what the real instrument keeps: a mass memory of files written with ``MMEMory:DATA``, a waveform
list filled by opening ``.wfmx`` files, a sequence list filled by opening ``.seqx`` bundles (their ``.sml``
sequence files and any ``.wfmx`` inside), the asset assigned to each channel, output states, amplitudes, the
clock and the run state. It parses the files the driver writes (``makeWFMXFile``'s XML header with its byte
offset, little-endian float32 samples, optional marker bytes; ``_makeSMLFile``'s steps) and refuses what the
real instrument would refuse, with an error in the queue: a file that does not exist, a waveform shorter
than the 2400-sample minimum, a step referring to a waveform not in the list, steps of unequal length.
Waveforms can also be made and filled without files (``WLISt:WAVeform:NEW``, ``WLISt:WAVeform:DATA`` with
float32 samples) and a loaded sequence's steps pointed at other waveforms
(``SLISt:SEQuence:STEP<n>:TASSet<m>:WAVeform``), as the AWG5200 programmer manual describes.

When it runs, :meth:`played` gives the volts each output plays for each sweep point (the steps between two
trigger waits), which the virtual lab feeds to the physics device.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.drivers.mock.scpi import (
    EXECUTION_ERROR,
    FILE_NOT_FOUND,
    ILLEGAL_PARAMETER,
    SETTINGS_CONFLICT,
    Call,
    ScpiError,
    ScpiInstrument,
)

CHANNELS = 8
MIN_SAMPLES = 2400
_NS = "{http://www.tektronix.com}"
_RUN_STATES = {"stopped": "0", "waiting": "1", "running": "2"}


@dataclass(frozen=True)
class Step:
    """One sequence step: the waveform of each track, how often it repeats, whether it waits for a trigger."""

    assets: tuple[str, ...]
    repeat: int
    wait: str


@dataclass
class Awg5208Emulation(ScpiInstrument):
    """The instrument state behind the SCPI commands; ``on_run`` is called when the AWG starts playing."""

    idn: str = "TEKTRONIX,AWG5208,B010000,FV:6.4.0242.0"
    max_block: int = 512 << 20
    """``.seqx`` bundles travel as one block: up to 512 MiB (the emulation holds files in memory)."""
    on_run: Callable[[], None] | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    waveforms: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    sequences: dict[str, list[Step]] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    cwd: str = "\\Users\\OEM\\Documents"
    run_state: str = "stopped"
    assets: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    """Channel -> (kind, name, track): what each channel plays."""
    _played: dict[tuple[int, int], NDArray[np.float64]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        c = self.commands
        s = self.settings
        for pattern, default in (
            ("INSTrument:MODE", "AWG"), ("CLOCk:SRATe", "2.5E9"), ("CLOCk:SOURce", "INT"),
            ("CLOCk:ECLock:FREQuency", "6.25E9"), ("TRIGger:INTerval", "1.0E-3"), ("OUTPut:OFF", "0"),
            ("SOURce#:VOLTage", "0.5"), ("SOURce#:VOLTage:LEVel:IMMediate:OFFSet", "0"),
            ("OUTPut#:STATe", "0"), ("OUTPut#:WVALUE:ANALOG:STATE", "FIRST"), ("SOURce#:DAC:RESolution", "16"),
            ("FGEN:CHANnel#:AMPLitude", "0.5"), ("FGEN:CHANnel#:OFFSet", "0"), ("FGEN:CHANnel#:FREQuency", "1E6"),
            ("FGEN:CHANnel#:DCLevel", "0"), ("FGEN:CHANnel#:PATH", "DCHB"), ("FGEN:CHANnel#:PERiod", "1E-6"),
            ("FGEN:CHANnel#:PHASe", "0"), ("FGEN:CHANnel#:SYMMetry", "100"), ("FGEN:CHANnel#:TYPE", "SINE"),
            ("SOURce#:MARKer#:VOLTage:HIGH", "1.0"), ("SOURce#:MARKer#:VOLTage:LOW", "0"),
            ("OUTPut#:WVALue:MARKer#", "LOW"), ("OUTPut#:SVALue:MARKer#", "LOW"),
        ):
            c.setting(pattern, s, default)
        c.add("MMEMory:CDIRectory", self._cd)
        c.add("MMEMory:CDIRectory", lambda call: f'"{self.cwd}"', query=True)
        c.add("MMEMory:DATA", self._store_file)
        c.add("MMEMory:DELete", self._delete_file)
        c.add("MMEMory:OPEN", self._open_waveform)
        c.add("MMEMory:OPEN:SASSet:SEQuence", self._open_sequence)
        c.add("WLISt:LIST", lambda call: ",".join(f'"{n}"' for n in self.waveforms), query=True)
        c.add("WLISt:SIZE", lambda call: str(len(self.waveforms)), query=True)
        c.add("WLISt:WAVeform:DELete", self._delete_waveform)
        c.add("WLISt:WAVeform:NEW", self._new_waveform)
        c.add("WLISt:WAVeform:DATA", self._waveform_data)
        c.add("SLISt:SEQuence:STEP#:TASSet#:WAVeform", self._step_waveform)
        c.add("SLISt:SIZE", lambda call: str(len(self.sequences)), query=True)
        c.add("SLISt:NAME", self._sequence_name, query=True)
        c.add("SLISt:SEQuence:DELete", self._delete_sequence)
        c.add("SOURce#:CASSet:SEQuence", self._assign_sequence)
        c.add("SOURce#:CASSet:WAVeform", self._assign_waveform)
        c.add("SOURce#:CASSet:CLEAR", lambda call: self._clear_asset(call.suffixes[0]))
        c.add("SOURce#:CASSet", self._asset_of, query=True)
        c.add("AWGControl:RUN", self._run)
        c.add("AWGControl:RUN:IMMediate", self._run)
        c.add("AWGControl:STOP", self._stop)
        c.add("AWGControl:STOP:IMMediate", self._stop)
        c.add("AWGControl:RSTATe", lambda call: _RUN_STATES[self.run_state], query=True)
        c.add("TRIGger:IMMediate", lambda call: None)

    def reset(self) -> None:
        self.settings.clear()
        self.assets.clear()
        self.run_state = "stopped"
        self._played.clear()

    # -- what it plays ---------------------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> float:
        return float(self.settings.get("CLOCk:SRATe", "2.5E9"))

    def output_on(self, channel: int) -> bool:
        return self.settings.get("OUTPut:OFF", "0") in ("0", "OFF") and \
            self.settings.get(f"OUTPut#:STATe/{channel}", "0") in ("1", "ON")

    def amplitude(self, channel: int) -> float:
        return float(self.settings.get(f"SOURce#:VOLTage/{channel}", "0.5"))

    def points(self) -> int:
        """How many trigger-started segments (sweep points) the assigned sequence has."""
        steps = self._assigned_steps()
        return max(1, sum(1 for step in steps if step.wait != "None")) if steps else 0

    def played(self, point: int) -> dict[str, NDArray[np.float64]]:
        """Output name -> volts of ``point`` (outputs that are off or unassigned are left out)."""
        if self.run_state == "stopped":
            return {}
        out = {}
        for channel in range(1, CHANNELS + 1):
            if not self.output_on(channel) or channel not in self.assets:
                continue
            key = (channel, point)
            samples = self._played.get(key)
            if samples is None:
                samples = self._played[key] = self._render(channel, point)
            out[str(channel)] = samples
        return out

    def _assigned_steps(self) -> list[Step]:
        for kind, name, _ in self.assets.values():
            if kind == "sequence":
                return self.sequences.get(name, [])
        return []

    def _render(self, channel: int, point: int) -> NDArray[np.float64]:
        kind, name, track = self.assets[channel]
        scale = self.amplitude(channel) / 2
        if kind == "waveform":
            return np.asarray(self.waveforms[name], dtype=np.float64) * scale
        parts: list[NDArray[np.float32]] = []
        current = -1
        for step in self.sequences[name]:
            if step.wait != "None":
                current += 1
            if max(current, 0) == point:
                parts.extend([self.waveforms[step.assets[track - 1]]] * step.repeat)
        return np.concatenate(parts).astype(np.float64) * scale if parts else np.zeros(0)

    # -- files ---------------------------------------------------------------------------------------------------
    def _cd(self, call: Call) -> None:
        self.cwd = call.one()

    def _path(self, name: str) -> str:
        path = PureWindowsPath(name)
        if not path.is_absolute() and not name.startswith("C:"):
            path = PureWindowsPath("C:" + self.cwd) / name
        return str(path).lower()

    def _store_file(self, call: Call) -> None:
        if call.block is None:
            raise ScpiError(ILLEGAL_PARAMETER, '"MMEMory:DATA needs a file name and a definite-length block"')
        self.files[self._path(call.one())] = call.block

    def _delete_file(self, call: Call) -> None:
        if self.files.pop(self._path(call.one()), None) is None:
            raise ScpiError(FILE_NOT_FOUND, f'"File name not found; {call.one()}"')

    def _read(self, call: Call) -> tuple[str, bytes]:
        name = call.one()
        data = self.files.get(self._path(name))
        if data is None:
            raise ScpiError(FILE_NOT_FOUND, f'"File name not found; {name}"')
        return PureWindowsPath(name).stem, data

    def _open_waveform(self, call: Call) -> None:
        stem, data = self._read(call)
        self.waveforms[stem] = parse_wfmx(data, stem)
        self._played.clear()

    def _open_sequence(self, call: Call) -> None:
        _, data = self._read(call)
        try:
            bundle = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise ScpiError(EXECUTION_ERROR, '"Not a .seqx bundle"') from None
        with bundle:
            for entry in bundle.namelist():
                if entry.startswith("Waveforms/") and entry.endswith(".wfmx"):
                    stem = PureWindowsPath(entry.split("/")[-1]).stem
                    self.waveforms[stem] = parse_wfmx(bundle.read(entry), stem)
            for entry in bundle.namelist():
                if entry.startswith("Sequences/") and entry.endswith(".sml"):
                    name, steps = parse_sml(bundle.read(entry))
                    self._check_steps(name, steps)
                    self.sequences[name] = steps
        self._played.clear()

    def _check_steps(self, name: str, steps: list[Step]) -> None:
        for number, step in enumerate(steps, start=1):
            lengths = set()
            for asset in step.assets:
                if asset not in self.waveforms:
                    raise ScpiError(EXECUTION_ERROR, f'"Sequence {name} step {number}: waveform {asset} not in the '
                                                     'waveform list"')
                lengths.add(len(self.waveforms[asset]))
            if len(lengths) > 1:
                raise ScpiError(SETTINGS_CONFLICT, f'"Sequence {name} step {number}: tracks of unequal length"')

    def _delete_waveform(self, call: Call) -> None:
        _delete(self.waveforms, call.one(), "waveform")
        self._played.clear()

    def _new_waveform(self, call: Call) -> None:
        """``WLISt:WAVeform:NEW "<name>",<size>``: an empty (zero) waveform of ``size`` samples."""
        args = call.args()
        if len(args) != 2 or not args[1].isdigit():
            raise ScpiError(ILLEGAL_PARAMETER, f'"{call.text}: expected a waveform name and a size"')
        name, size = args[0], int(args[1])
        if name in self.waveforms:
            raise ScpiError(ILLEGAL_PARAMETER, f'"Waveform {name} already exists"')
        if size < MIN_SAMPLES:
            raise ScpiError(EXECUTION_ERROR, f'"Waveform {name}: {size} samples, the minimum is {MIN_SAMPLES}"')
        self.waveforms[name] = np.zeros(size, dtype=np.float32)

    def _waveform_data(self, call: Call) -> None:
        """``WLISt:WAVeform:DATA "<name>",<block>``: every sample of an existing waveform, little-endian
        float32 fractions of full scale (the block must hold exactly its size)."""
        name = call.one()
        current = self.waveforms.get(name)
        if current is None:
            raise ScpiError(ILLEGAL_PARAMETER, f'"No waveform {name}"')
        if call.block is None or len(call.block) != 4 * current.shape[0]:
            got = "no block" if call.block is None else f"{len(call.block)} bytes"
            raise ScpiError(ILLEGAL_PARAMETER, f'"Waveform {name} holds {current.shape[0]} samples '
                                               f'({4 * current.shape[0]} bytes of float32), got {got}"')
        samples = np.frombuffer(call.block, dtype="<f4").copy()
        if not np.all(np.abs(samples) <= 1.0):
            raise ScpiError(ILLEGAL_PARAMETER, f'"Waveform {name}: samples outside -1 .. 1"')
        self.waveforms[name] = samples
        self._played.clear()

    def _step_waveform(self, call: Call) -> None:
        """``SLISt:SEQuence:STEP<n>:TASSet<m>:WAVeform "<sequence>","<waveform>"``: step n of track m plays
        another waveform, of the length of the step's other tracks."""
        step_number, track = call.suffixes[:2]
        args = call.args()
        if len(args) != 2 or args[0] not in self.sequences:
            raise ScpiError(ILLEGAL_PARAMETER, f'"{call.text}: expected a sequence in the list and a waveform"')
        steps = self.sequences[args[0]]
        if not 1 <= step_number <= len(steps) or not 1 <= track <= len(steps[step_number - 1].assets):
            raise ScpiError(ILLEGAL_PARAMETER, f'"Sequence {args[0]} has {len(steps)} steps of '
                                               f'{len(steps[0].assets) if steps else 0} tracks"')
        if args[1] not in self.waveforms:
            raise ScpiError(ILLEGAL_PARAMETER, f'"No waveform {args[1]}"')
        step = steps[step_number - 1]
        assets = list(step.assets)
        assets[track - 1] = args[1]
        edited = Step(tuple(assets), step.repeat, step.wait)
        self._check_steps(args[0], [edited])
        steps[step_number - 1] = edited
        self._played.clear()

    def _sequence_name(self, call: Call) -> str:
        index = int(call.number(1, len(self.sequences)))
        return f'"{list(self.sequences)[index - 1]}"'

    def _delete_sequence(self, call: Call) -> None:
        _delete(self.sequences, call.one(), "sequence")

    # -- assets and running --------------------------------------------------------------------------------------
    def _channel(self, call: Call) -> int:
        channel = call.suffixes[0]
        if not 1 <= channel <= CHANNELS:
            raise ScpiError(ILLEGAL_PARAMETER, f'"No channel {channel}; channels are 1..{CHANNELS}"')
        return channel

    def _assign_sequence(self, call: Call) -> None:
        channel = self._channel(call)
        args = call.args()
        if len(args) != 2 or args[0] not in self.sequences:
            raise ScpiError(ILLEGAL_PARAMETER, f'"{call.text}: expected a sequence in the list and a track"')
        track = int(args[1])
        steps = self.sequences[args[0]]
        if steps and not 1 <= track <= len(steps[0].assets):
            raise ScpiError(ILLEGAL_PARAMETER, f'"Sequence {args[0]} has {len(steps[0].assets)} tracks"')
        self.assets[channel] = ("sequence", args[0], track)
        self._played.clear()

    def _assign_waveform(self, call: Call) -> None:
        channel = self._channel(call)
        name = call.one()
        if name not in self.waveforms:
            raise ScpiError(ILLEGAL_PARAMETER, f'"No waveform {name}"')
        self.assets[channel] = ("waveform", name, 1)
        self._played.clear()

    def _clear_asset(self, channel: int) -> None:
        self.assets.pop(channel, None)
        self._played.clear()

    def _asset_of(self, call: Call) -> str:
        asset = self.assets.get(self._channel(call))
        if asset is None:
            return '""'
        kind, name, track = asset
        return f'"{name},{track}"' if kind == "sequence" else f'"{name}"'

    def _run(self, call: Call) -> None:
        if not self.assets:
            raise ScpiError(SETTINGS_CONFLICT, '"No asset assigned to any channel"')
        self.run_state = "running"
        self._played.clear()
        if self.on_run is not None:
            self.on_run()

    def _stop(self, call: Call) -> None:
        self.run_state = "stopped"


def _delete(table: dict[str, Any], name: str, kind: str) -> None:
    """``...:DELete ALL`` empties the list; a name not in it is an error."""
    if name.upper() == "ALL":
        table.clear()
    elif table.pop(name, None) is None:
        raise ScpiError(ILLEGAL_PARAMETER, f'"No {kind} {name}"')


def parse_wfmx(data: bytes, name: str) -> NDArray[np.float32]:
    """Samples of a ``.wfmx`` file (XML header whose ``offset`` gives its length, then float32 samples)."""
    match = re.search(rb'offset="(\d+)"', data[:200])
    if match is None:
        raise ScpiError(EXECUTION_ERROR, f'"Waveform {name}: no header offset, not a .wfmx file"')
    offset = int(match.group(1))
    try:
        header = ET.fromstring(data[:offset].decode("utf-8"))
    except (ET.ParseError, UnicodeDecodeError):
        raise ScpiError(EXECUTION_ERROR, f'"Waveform {name}: corrupt .wfmx header"') from None
    count = header.findtext(f".//{_NS}NumberSamples")
    if count is None or not count.isdigit():
        raise ScpiError(EXECUTION_ERROR, f'"Waveform {name}: header has no NumberSamples"')
    n = int(count)
    if n < MIN_SAMPLES:
        raise ScpiError(EXECUTION_ERROR, f'"Waveform {name}: {n} samples, the minimum is {MIN_SAMPLES}"')
    body = data[offset:]
    if len(body) < 4 * n:
        raise ScpiError(EXECUTION_ERROR, f'"Waveform {name}: {len(body)} bytes of data for {n} samples"')
    return np.frombuffer(body[: 4 * n], dtype="<f4").copy()


def parse_sml(data: bytes) -> tuple[str, list[Step]]:
    """Name and steps of an ``.sml`` sequence file (as written by QCoDeS' ``_makeSMLFile``)."""
    try:
        root = ET.fromstring(data.decode("utf-8"))
    except (ET.ParseError, UnicodeDecodeError):
        raise ScpiError(EXECUTION_ERROR, '"Corrupt .sml sequence file"') from None
    name = root.findtext(f".//{_NS}SequenceName") or "sequence"
    steps = []
    for element in root.iter(f"{_NS}Step"):
        repeat_kind = element.findtext(f"{_NS}Repeat", "Once")
        count = int(element.findtext(f"{_NS}RepeatCount", "1"))
        if repeat_kind == "Infinite":
            raise ScpiError(SETTINGS_CONFLICT, f'"Sequence {name}: infinite repeats are not supported here"')
        assets = tuple(a.findtext(f"{_NS}AssetName", "") for a in element.iter(f"{_NS}Asset"))
        steps.append(Step(assets, count if repeat_kind == "RepeatCount" else 1,
                          element.findtext(f"{_NS}WaitInput", "None")))
    return name, steps
