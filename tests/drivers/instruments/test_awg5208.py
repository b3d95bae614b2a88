"""The Awg role over QCoDeS' unmodified TektronixAWG5208 driver, checked against the emulation's state."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from instrument_sweeps import FRAMES, rabi
from virtual_rig import Rig

from qubitlab.drivers.mock.awg5208 import Awg5208Emulation
from qubitlab.drivers.payloads import AwgProgram
from qubitlab.drivers.tektronix import wfmx_file
from qubitlab.errors import DriverError
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes.hardware import hardware_view


def emulation(rig: Rig) -> Awg5208Emulation:
    awg = rig.virtual.instruments["awg"]
    assert isinstance(awg, Awg5208Emulation)
    return awg


def awg_program(rig: Rig, amp: float) -> AwgProgram:
    program = compile(rabi(amp), rig.lab, FRAMES).payloads["awg"]
    assert isinstance(program, AwgProgram)
    return program


def test_the_instrument_holds_exactly_the_uploaded_waveforms_and_sequence(rig: Rig) -> None:
    program = awg_program(rig, 0.031)
    rig.executor.roles.awgs["awg"].upload(program)
    awg = emulation(rig)
    for key, samples in program.waveforms.items():
        np.testing.assert_array_equal(awg.waveforms[key], samples)   # float32 through .wfmx, bit for bit
    (kind, name, _), = {awg.assets[ch] for ch in (1,)}
    assert kind == "sequence"
    steps = awg.sequences[name]
    assert [s.repeat for s in steps] == [s.repeat for s in program.sequence]
    assert [s.wait != "None" for s in steps] == [s.wait_trigger for s in program.sequence]
    for track, output in enumerate(program.outputs, start=1):
        assert awg.assets[int(output)] == ("sequence", name, track)
        assert [s.assets[track - 1] for s in steps] == [s.outputs[output] for s in program.sequence]


@pytest.mark.parametrize("count", [2400, 2560, 4801])
def test_the_wfmx_writer_writes_what_qcodes_makewfmxfile_writes(count: int) -> None:
    """Byte for byte QCoDeS' own file (its header's millisecond timestamp aside), for float32 samples at full
    scale's edges, tiny and rounded values."""
    import re

    from qcodes.instrument_drivers.tektronix import TektronixAWG5208

    rng = np.random.default_rng(count)
    samples = rng.uniform(-1, 1, count).astype(np.float32)
    samples[:4] = [-1.0, 1.0, 0.0, np.float32(1e-30)]
    reference = TektronixAWG5208.makeWFMXFile(samples.astype(np.float64), amplitude=2.0)
    ours = wfmx_file(samples)
    stamp = re.compile(rb"<Timestamp>[^<]*</Timestamp>")
    assert stamp.sub(b"", ours) == stamp.sub(b"", reference) and len(ours) == len(reference)
    headers: dict[int, bytes] = {}
    assert wfmx_file(samples, headers) == wfmx_file(samples, headers) and list(headers) == [count]


def test_only_waveforms_the_instrument_does_not_hold_are_sent(rig: Rig) -> None:
    adapter = rig.executor.roles.awgs["awg"]
    adapter.upload(awg_program(rig, 0.032))
    assert adapter.upload(awg_program(rig, 0.032)) == 0
    assert adapter.upload(awg_program(rig, 0.033)) == 2        # the drive's I and Q; the readout is held
    adapter.reconnect()                                          # a new session asks WLISt:LIST? again
    assert adapter.upload(awg_program(rig, 0.033)) == 0


def test_a_program_of_the_same_shape_edits_the_loaded_sequence_in_place(rig: Rig) -> None:
    """New angles of a variational loop: no new .seqx, the same sequence name, its steps re-pointed at the new
    waveforms, which hold the payload's samples bit for bit; the instrument's error queue stays empty."""
    adapter = rig.executor.roles.awgs["awg"]
    awg = emulation(rig)
    adapter.upload(awg_program(rig, 0.034))
    files, (_, name, _) = set(awg.files), awg.assets[1]
    program = awg_program(rig, 0.035)
    assert adapter.upload(program) == 2                          # the drive's I and Q
    assert set(awg.files) == files and awg.assets[1][1] == name and not awg.errors
    steps = awg.sequences[name]
    for track, output in enumerate(program.outputs, start=1):
        assert awg.assets[int(output)] == ("sequence", name, track)
        assert [s.assets[track - 1] for s in steps] == [s.outputs[output] for s in program.sequence]
    for key, samples in program.waveforms.items():
        np.testing.assert_array_equal(awg.waveforms[key], samples)
    assert adapter.upload(program) == 0                          # nothing changed: nothing sent


def test_the_waveforms_an_edit_stops_playing_are_deleted_so_a_long_loop_does_not_fill_the_awg(rig: Rig) -> None:
    """A variational loop's 30 new angles: the list stays at the first program's size plus nothing (each edit
    deletes what the previous edit made and no step plays any more); what the steps play is there, bit for bit,
    and the first program's waveforms, loaded by its .seqx, are kept."""
    adapter = rig.executor.roles.awgs["awg"]
    awg = emulation(rig)
    adapter.reconnect()                                          # a new session: the first upload loads a .seqx
    first = awg_program(rig, 0.040)
    adapter.upload(first)
    size = len(awg.waveforms)
    made: list[set[str]] = []
    for k in range(30):
        program = awg_program(rig, 0.041 + 0.001 * k)
        assert adapter.upload(program) == 2                      # the drive's I and Q, as before
        made.append(set(program.waveforms) - set(first.waveforms))
        assert len(made[-1]) == 2 and len(awg.waveforms) == size + 2 and not awg.errors
        for key, samples in program.waveforms.items():
            np.testing.assert_array_equal(awg.waveforms[key], samples)
    assert set(first.waveforms) <= set(awg.waveforms)          # the loaded program's own: not the edits' to delete
    assert not set().union(*made[:-1]) & set(awg.waveforms)     # every earlier edit's waveforms are gone
    assert adapter.upload(awg_program(rig, 0.041)) == 2         # a deleted one wanted again is sent again


def test_a_refused_edit_is_an_error_and_the_next_upload_loads_the_whole_sequence(rig: Rig) -> None:
    adapter = rig.executor.roles.awgs["awg"]
    awg = emulation(rig)
    adapter.upload(awg_program(rig, 0.036))
    _, name, _ = awg.assets[1]
    del awg.sequences[name]                                      # deleted behind the driver's back
    with pytest.raises(DriverError, match=rf"AWG 'awg' refused the edit of sequence {name}") as refused:
        adapter.upload(awg_program(rig, 0.037))
    assert "expected a sequence in the list" in str(refused.value)        # the instrument's own error, read back
    program = awg_program(rig, 0.037)
    adapter.upload(program)                                      # a whole .seqx again, and it plays
    _, name, _ = awg.assets[1]
    assert [s.assets[0] for s in awg.sequences[name]] == [s.outputs[program.outputs[0]] for s in program.sequence]


def test_outputs_play_the_fractions_of_full_scale_in_volts(rig: Rig) -> None:
    program = compile(rabi(0.04), rig.lab, FRAMES)
    rig.executor.run(program, shots=10)
    awg = emulation(rig)
    payload = program.payloads["awg"]
    assert isinstance(payload, AwgProgram)
    # the run ends stopped with every output off: look at what it plays as if still running, outputs on
    saved = dict(awg.settings)
    awg.run_state = "running"
    awg.settings.update({f"OUTPut#:STATe/{output}": "1" for output in payload.outputs})
    try:
        played = awg.played(0)
    finally:
        awg.run_state = "stopped"
        awg.settings.clear()
        awg.settings.update(saved)
    for output in payload.outputs:
        expected = payload.played(output, 0).astype(np.float64) * payload.full_scale_vpp[output] / 2
        np.testing.assert_allclose(played[output], expected, rtol=0, atol=1e-7)


def test_a_waveform_shorter_than_the_awg5208_minimum_is_refused_naming_the_lab_key(rig: Rig) -> None:
    hw = hardware_view(rig.lab)
    short = replace(hw, awgs={n: replace(a, min_length=64) for n, a in hw.awgs.items()})
    program = compile(rabi(0.05, duration=64, sigma=16), short, FRAMES).payloads["awg"]
    assert isinstance(program, AwgProgram)
    program = replace(program, waveforms={k: v[:2000] for k, v in program.waveforms.items()})
    with pytest.raises(DriverError, match=r"at least 2400.*timing\.awgs\.awg\.min_length"):
        rig.executor.roles.awgs["awg"].upload(program)


def test_a_corrupt_wfmx_file_is_refused_with_an_error_in_the_queue(rig: Rig) -> None:
    awg = rig.executor.station.components["awg"]
    awg.write("*CLS")
    awg.sendWFMXFile(b"not a waveform file at all", "broken.wfmx")
    awg.loadWFMXFile("broken.wfmx")
    assert awg.ask("SYSTem:ERRor?").startswith("-200,")
    assert "broken" not in awg.waveformList
