"""The ``Awg`` role over QCoDeS' own, unmodified ``TektronixAWG5208`` driver.

A program travels as one ``.seqx`` bundle through ``MMEMory:DATA``, its files made by the driver's own
writers (the ``.wfmx`` header of ``makeWFMXFile``, and the private ``_makeSMLFile`` and ``_makeSetupFile``,
reached only through :func:`_sequence_files`). Each waveform is named by its content key (the compiler's hash),
so the adapter asks the instrument once per connection which waveforms it holds (``WLISt:LIST?``) and bundles
only the new ones as ``.wfmx`` beside the sequence (``.sml``), whose steps name waveforms by key: opening the
bundle adds its waveforms to the list. One transfer and one ``*OPC?`` per program, however many waveforms.
A program of the same shape as the loaded sequence (outputs, and per step its repeats, trigger wait and
length: a variational loop's next angles) edits that sequence in place instead: its new waveforms made and
filled without a file (``WLISt:WAVeform:NEW``/``DATA``) and only the changed steps re-pointed
(``SLISt:SEQuence:STEP<n>:TASSet<m>:WAVeform``), confirmed by ``*OPC?`` and an error count of 0. A sequence
already loaded and assigned is not sent again, and settings (sample rate, amplitudes) are written
only when they change, so a repeated run costs a handful of commands. Stopping and switching outputs off are
confirmed by reading the run state and every output's state back, in the same message; arming and stopping are
also two-phase exchanges (:func:`~qubitlab.drivers.visa.overlapped`), so the executor overlaps them with the
other instruments' round trips.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from qcodes.instrument_drivers.tektronix import TektronixAWG5208

from qubitlab.config.instruments import INSTRUMENT_MODELS
from qubitlab.drivers.payloads import AwgProgram, SequenceStep
from qubitlab.drivers.visa import (
    Exchange, differs, ieee_block, instrument_errors, overlapped, parsed, reopen, write_all,
)
from qubitlab.errors import DriverError

MIN_SAMPLES = INSTRUMENT_MODELS["tektronix_awg5208"].min_waveform_length
"""The AWG5208's shortest waveform (QCoDeS' ``makeWFMXFile`` refuses shorter ones too)."""
_INTERNAL_TRIGGER = 3  # WaitInput "Internal" in QCoDeS' _makeSMLFile


class Awg5208:
    """``Awg`` for a Tektronix AWG5208 (outputs ``"1"`` .. ``"8"``)."""

    def __init__(self, name: str, instrument: TektronixAWG5208, visalib: str | None = None) -> None:
        self.name = name
        self.instrument = instrument
        self.visalib = visalib
        self._held: set[str] | None = None
        self._made: set[str] = set()
        """Waveforms this connection made by in-place edits; the edit that stops using one deletes it."""
        self._sequence: _Loaded | None = None
        """The sequence this connection loaded and assigned to the outputs, and what its steps play now."""

    def reconnect(self) -> None:
        with instrument_errors(self.name, "reconnecting"):
            reopen(self.instrument, self.visalib)
        self._held = None  # the instrument may have been restarted: ask again
        self._made = set()
        self._sequence = None
        awg = self.instrument
        awg.sample_rate.cache.invalidate()
        for number in range(1, awg.num_channels + 1):
            channel = getattr(awg, f"ch{number}")
            channel.state.cache.invalidate()  # a write lost in a fault updated the cache all the same
            channel.awg_amplitude.cache.invalidate()

    # -- upload --------------------------------------------------------------------------------------------------
    def upload(self, program: AwgProgram) -> int:
        awg = self.instrument
        with instrument_errors(self.name, "reading the waveform list (WLISt:LIST?)"):
            if self._held is None:
                self._held = set(awg.waveformList)
        new: dict[str, np.ndarray] = {}
        for key, samples in program.waveforms.items():
            if key in self._held or key in new:
                continue
            if samples.shape[0] < MIN_SAMPLES:
                raise DriverError(f"AWG {self.name!r}: waveform {key} has {samples.shape[0]} samples; the AWG5208 "
                                  f"plays at least {MIN_SAMPLES}. Set timing.awgs.{self.name}.min_length: "
                                  f"{MIN_SAMPLES} in the lab file")
            new[key] = samples
        names = _step_names(self.name, program)
        shape = _shape(program)
        loaded = self._sequence
        if loaded is not None and loaded.shape == shape:
            self._edit_sequence(loaded, names, new)
        else:
            headers: dict[int, bytes] = {}
            self._load_sequence(program, names, shape, {k: wfmx_file(v, headers) for k, v in new.items()})
        self._held.update(new)
        self._settings(program)
        return len(new)

    def _load_sequence(self, program: AwgProgram, names: list[list[str]], shape: tuple[object, ...],
                       waveforms: dict[str, bytes]) -> None:
        """Send and load the program's sequence in one ``.seqx``, with the ``waveforms`` the AWG lacks inside
        (opening a ``.seqx`` adds its waveforms to the waveform list), and assign its tracks to the outputs."""
        awg = self.instrument
        steps = program.sequence
        digest = hashlib.blake2b(repr((shape, names)).encode(), digest_size=8)
        seqname = f"qubitlab_{digest.hexdigest()}"
        sml, setup = _sequence_files(steps, names, seqname, len(program.outputs))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, mode="w") as bundle:
            for key, wfmx in waveforms.items():
                bundle.writestr(f"Waveforms/{key}.wfmx", wfmx)
            bundle.writestr(f"Sequences/{seqname}.sml", sml)
            bundle.writestr("setup.xml", setup)
            bundle.writestr("userNotes.txt", b"")
        what = f"loading sequence {seqname}.seqx" + (f" with {len(waveforms)} new waveforms" if waveforms else "")
        self._sequence = None
        with instrument_errors(self.name, what):
            awg.sendSEQXFile(buffer.getvalue(), f"{seqname}.seqx")
            # loadSEQXFile's command, without its own *OPC?: the one after the track assignments covers both
            awg.write(f'MMEMory:OPEN:SASSet:SEQuence "C:{awg.seqxFileFolder}\\{seqname}.seqx"')
            for track, output in enumerate(program.outputs, start=1):
                self._channel(output).setSequenceTrack(seqname, track)
            self._opc()
        self._sequence = _Loaded(seqname, shape, names)

    def _edit_sequence(self, loaded: _Loaded, names: list[list[str]], waveforms: dict[str, np.ndarray]) -> None:
        """The loaded sequence, of the same shape, edited in place: new waveforms made and filled without a
        file (``WLISt:WAVeform:NEW`` + ``:DATA``), and only the steps whose waveform changed pointed at the new
        one (``SLISt:SEQuence:STEP<n>:TASSet<m>:WAVeform``); then the waveforms an earlier edit made that no
        step plays any more are deleted (``WLISt:WAVeform:DELete``: a variational loop's new angles would
        otherwise add 16 waveforms to the list every iteration, until the AWG's memory is full); then ``*OPC?``
        with the error count, which must be 0 (the queue is cleared first), or the next upload loads the whole
        sequence again."""
        changed = [(i, t, name) for i, row in enumerate(names) for t, name in enumerate(row)
                   if loaded.names[i][t] != name]
        if not changed and not waveforms:
            return
        playing = {name for row in names for name in row}
        dropped = sorted(({loaded.names[i][t] for i, t, _ in changed} & self._made) - playing)
        awg = self.instrument
        self._sequence = None                       # until confirmed: a failure leaves the sequence unknown
        with instrument_errors(self.name, f"editing sequence {loaded.name} ({len(changed)} steps, "
                                          f"{len(waveforms)} new waveforms)"):
            # every message in one send (a stream of newline-ended messages, blocks inside), then one query
            messages = [";:".join(["*CLS", *(f'WLISt:WAVeform:NEW "{key}",{samples.shape[0]}'
                                             for key, samples in waveforms.items())]).encode() + b"\n"]
            for key, samples in waveforms.items():
                block = ieee_block(_sample_bytes(samples))
                messages.append(f'WLISt:WAVeform:DATA "{key}",'.encode() + block + b"\n")
            if changed:
                messages.append(";:".join(f'SLISt:SEQuence:STEP{i + 1}:TASSet{t + 1}:WAVeform "{loaded.name}",'
                                          f'"{name}"' for i, t, name in changed).encode() + b"\n")
            if dropped:                             # after the steps stopped playing them
                messages.append(";:".join(f'WLISt:WAVeform:DELete "{key}"' for key in dropped).encode() + b"\n")
            messages.append(b"*OPC?;:SYSTem:ERRor:COUNt?\n")      # the confirmation, in the same send
            write_all(awg.visa_handle, b"".join(messages))
            reply = awg.visa_handle.read().strip()
            errors = [awg.ask("SYSTem:ERRor?").strip() for _ in range(min(_error_count(reply), 5))]
        if reply != "1;0":
            self._held = None
            raise DriverError(f"AWG {self.name!r} refused the edit of sequence {loaded.name} (*OPC? and error "
                              f"count read {reply!r}; errors: {'; '.join(errors) or 'none read'}); the next run "
                              "loads the whole sequence again")
        self._sequence = _Loaded(loaded.name, loaded.shape, names)
        self._made = (self._made - set(dropped)) | set(waveforms)
        if self._held is not None:
            self._held.difference_update(dropped)

    def _settings(self, program: AwgProgram) -> None:
        awg = self.instrument
        with instrument_errors(self.name, "setting the sample rate and output amplitudes"):
            if differs(awg.sample_rate, program.sample_rate):
                awg.sample_rate(program.sample_rate)
            for output in program.outputs:
                channel = self._channel(output)
                vpp = float(program.full_scale_vpp[output])
                if differs(channel.awg_amplitude, vpp):
                    channel.awg_amplitude(vpp)

    def _channel(self, output: str):  # type: ignore[no-untyped-def]
        try:
            return getattr(self.instrument, f"ch{int(output)}")
        except (ValueError, AttributeError):
            raise DriverError(f"AWG {self.name!r} has no output {output!r}; outputs are '1' .. "
                              f"'{self.instrument.num_channels}'") from None

    # -- running -------------------------------------------------------------------------------------------------
    def arm(self, program: AwgProgram, shot_period: float) -> None:
        overlapped([self.arming(program, shot_period)])

    def arming(self, program: AwgProgram, shot_period: float) -> Exchange:
        """:meth:`arm` as an exchange: the one message with its ``*OPC?`` sent, the reply checked when read."""
        awg = self.instrument
        states = {number: 1 if str(number) in program.outputs else 0 for number in range(1, awg.num_channels + 1)}
        changed = {n: state for n, state in states.items() if differs(getattr(awg, f"ch{n}").state, state)}
        commands = [f"TRIGger:INTerval {shot_period:.9g}", *(f"OUTPut{n}:STATe {v}" for n, v in changed.items())]
        action = "switching outputs on and setting the trigger interval"
        with instrument_errors(self.name, action):
            # one message, confirmed by its *OPC? before any AWG is started: each instrument has its own
            # connection, so without it an AWG could start while another's outputs were still being switched
            # on (and miss the trigger)
            awg.visa_handle.write(";:".join(commands) + ";*OPC?")
        yield
        with instrument_errors(self.name, action):
            reply = awg.visa_handle.read().strip()
        if reply != "1":
            for n in changed:
                getattr(awg, f"ch{n}").state.cache.invalidate()
            raise DriverError(f"AWG {self.name!r} answered {reply!r} to *OPC? after {'; '.join(commands)}, expected 1")
        for n, state in changed.items():
            getattr(awg, f"ch{n}").state.cache.set(state)

    def _opc(self) -> None:
        """``*OPC?`` must answer 1 (QCoDeS' ``wait_for_operation_to_complete`` accepts any answer)."""
        reply = self.instrument.ask("*OPC?").strip()
        if reply != "1":
            raise DriverError(f"AWG {self.name!r} answered {reply!r} to *OPC?, expected 1")

    def run(self) -> None:
        """``AWGControl:RUN`` and its run state read back, in one message."""
        awg = self.instrument
        with instrument_errors(self.name, "starting (AWGControl:RUN)"):
            state = parsed(awg.run_state, awg.ask("AWGControl:RUN;:AWGControl:RSTATe?"))
        if state not in ("Running", "Waiting for trigger"):
            raise DriverError(f"AWG {self.name!r} did not start: run state {state!r} after AWGControl:RUN; read its "
                              "error queue (SYSTem:ERRor?)")

    def stop(self) -> None:
        """``AWGControl:STOP``, confirmed by ``AWGControl:RSTATe?`` reading "Stopped"."""
        with instrument_errors(self.name, "stopping (AWGControl:STOP, confirmed by AWGControl:RSTATe?)"):
            self.instrument.stop()
            state = self.instrument.run_state()
        if state != "Stopped":
            raise DriverError(f"AWG {self.name!r} reads run state {state!r} after AWGControl:STOP; it may still be "
                              "playing: stop it from its front panel")

    def outputs_off(self) -> None:
        """Stopped and every output off (``AWGControl:STOP;:OUTPut1:STATe 0;...``), confirmed in the same
        message by reading each output's state and the run state back (so it has happened when this returns,
        whatever the driver's cache says); the driver's caches then hold what was read."""
        overlapped([self.stopping()])

    def stopping(self) -> Exchange:
        """:meth:`outputs_off` as an exchange: the one message sent, its reply checked when read."""
        awg = self.instrument
        numbers = range(1, awg.num_channels + 1)
        action = "stopping and switching every output off (confirmed by OUTPut<n>:STATe?)"
        with instrument_errors(self.name, action):
            awg.visa_handle.write("AWGControl:STOP;" + ";".join(f":OUTPut{n}:STATe 0" for n in numbers) + ";"
                                  + ";".join(f":OUTPut{n}:STATe?" for n in numbers) + ";:AWGControl:RSTATe?")
        yield
        with instrument_errors(self.name, action):
            reply = awg.visa_handle.read()
            *states, run_state = (int(value) for value in reply.split(";"))
        on = [str(n) for n, state in zip(numbers, states) if state != 0]
        if on or run_state != 0 or len(states) != len(numbers):
            raise DriverError(f"AWG {self.name!r} reads outputs {on or 'none'} on and run state {run_state} after "
                              f"being stopped with every output off (reply {reply!r}); switch it off by hand")
        for number in numbers:
            getattr(awg, f"ch{number}").state.cache.set(0)


@dataclass(frozen=True)
class _Loaded:
    name: str
    shape: tuple[object, ...]
    names: list[list[str]]
    """Per step, the waveform each track plays."""


def _shape(program: AwgProgram) -> tuple[object, ...]:
    """What a sequence edit cannot change: the outputs, and per step its repeats, trigger wait and length."""
    return (program.outputs, tuple((s.repeat, s.wait_trigger, int(program.waveforms[s.waveforms[0][1]].shape[0]))
                                   for s in program.sequence))


def _step_names(awg: str, program: AwgProgram) -> list[list[str]]:
    """Per step, the waveform key of each output in the program's output order; every step must give every
    output a waveform."""
    steps = program.sequence
    if not steps:
        raise DriverError(f"AWG {awg!r}: the program has no sequence steps")
    for number, step in enumerate(steps, start=1):
        missing = sorted(set(program.outputs) - set(step.outputs))
        if missing:
            raise DriverError(f"AWG {awg!r}: sequence step {number} has no waveform for outputs {missing}; "
                              "the compiler gives every output of a step a waveform (zeros when silent)")
    return [[step.outputs[o] for o in program.outputs] for step in steps]


def _error_count(reply: str) -> int:
    """The error count of a ``*OPC?;:SYSTem:ERRor:COUNt?`` reply (1 when it cannot be read)."""
    try:
        return int(reply.split(";")[-1])
    except ValueError:
        return 1


def wfmx_file(samples: np.ndarray, headers: dict[int, bytes] | None = None) -> bytes:
    """The ``.wfmx`` file of ``samples`` (fractions of full scale, no markers): what QCoDeS'
    ``makeWFMXFile(samples, amplitude=2.0)`` writes, byte for byte (tests/drivers/instruments/test_awg5208.py
    checks it), in a tenth of the time: the XML header, QCoDeS' own, is made once per length (``headers`` keeps
    them for one upload; its timestamp is the upload's) and the samples are packed by numpy, not ``struct``.

    A .wfmx holds fractions of full scale, which the payload's samples already are: amplitude 2.0 makes
    QCoDeS' rescaling (2 / amplitude) the identity, and float32 samples pack to their own bytes."""
    headers = {} if headers is None else headers
    count = int(samples.shape[0])
    header = headers.get(count)
    if header is None:
        header = headers[count] = TektronixAWG5208._makeWFMXFileHeader(
            num_samples=count, markers_included=False).encode("ascii")
    return header + _sample_bytes(samples)


def _sample_bytes(samples: np.ndarray) -> bytes:
    """Little-endian float32 samples, the data of a ``.wfmx`` and of ``WLISt:WAVeform:DATA``."""
    return np.asarray(samples, dtype="<f4").tobytes()


def _sequence_files(steps: Sequence[SequenceStep], names: list[list[str]], seqname: str, tracks: int
                    ) -> tuple[str, str]:
    """The ``.sml`` sequence file and ``setup.xml`` of a ``.seqx`` bundle, by QCoDeS' own writers.

    These two are private static methods of ``TektronixAWG70000Base``, used here and nowhere else on purpose.
    The public ``makeSEQXFile`` would be the way, but it packs every waveform into the bundle: it cannot refer
    to waveforms the AWG already holds by name, which is what makes a repeated program cost no waveform
    transfer. Writing our own XML would duplicate a format QCoDeS already keeps right for the real instrument;
    if QCoDeS renames them, this function is the one place to change (test_awg5208.py parses what they write).
    """
    count = len(steps)
    sml = TektronixAWG5208._makeSMLFile(
        trig_waits=[_INTERNAL_TRIGGER if s.wait_trigger else 0 for s in steps],
        nreps=[s.repeat for s in steps],
        event_jumps=[0] * count,
        event_jump_to=[0] * count,
        go_to=[0] * (count - 1) + [1],
        elem_names=names,
        seqname=seqname,
        chans=tracks,
    )
    return sml, TektronixAWG5208._makeSetupFile(seqname)
