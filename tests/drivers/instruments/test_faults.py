"""Faults the fault matrix (test_fault_matrix.py) does not spell out: a digitizer going silent mid-wait is
reported with the time actually waited, corrupt data blocks are ``DriverError`` (never a raw ``ValueError``),
an LO that is dead or was reset is noticed even when none of its settings change, the run's tail is confirmed,
and the run record carries the calibration snapshot id."""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np
import pytest
from fault_checks import unsafe
from instrument_sweeps import FRAMES, rabi
from virtual_rig import TIMEOUT

from qubitlab.drivers.executor import Executor, Stage
from qubitlab.drivers.mock.digitizer import DigitizerEmulation
from qubitlab.drivers.mock.scpi import Fault
from qubitlab.drivers.mock.sgs100a import Sgs100aEmulation
from qubitlab.drivers.payloads import CompiledProgram
from qubitlab.drivers.virtual_digitizer import VirtualDigitizer
from qubitlab.errors import DriverError, InstrumentTimeout
from qubitlab.pulse.compiler import compile


def program(rig, amp: float = 0.05) -> CompiledProgram:
    return compile(rabi(amp), rig.lab, FRAMES)


def run_faulted_at(rig, stage: Stage, instrument: str, fault: Fault) -> DriverError:
    rig.executor.on_stage = lambda now: rig.virtual.inject(instrument, fault, 3 * TIMEOUT) if now is stage else None
    try:
        with pytest.raises(DriverError) as caught:
            rig.executor.run(program(rig), shots=20)
    finally:
        rig.executor.on_stage = None
        rig.virtual.inject(instrument, Fault.NONE)
    return caught.value


def test_a_digitizer_that_goes_silent_mid_wait_says_so_with_the_time_it_actually_waited(rig) -> None:
    digitizer = rig.executor.roles.digitizers["digitizer"]
    assert isinstance(digitizer, VirtualDigitizer)
    digitizer.configure(program(rig).digitizer_programs()["digitizer"], 20)
    digitizer.arm()                                   # external trigger, and no AWG runs: it stays armed
    silence = threading.Timer(0.5, rig.virtual.inject, ("digitizer", Fault.MUTE))
    silence.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InstrumentTimeout, match="went silent") as caught:
            digitizer.wait(30.0)
        elapsed = time.perf_counter() - start
    finally:
        silence.join()
        rig.virtual.inject("digitizer", Fault.NONE)
        rig.executor.make_safe()
    message = str(caught.value)
    waited = float(re.search(r"after ([\d.]+) s of waiting", message).group(1))  # type: ignore[union-attr]
    assert abs(waited - elapsed) < 0.05                  # the time it waited, by the test's own clock ...
    assert 0.5 + TIMEOUT - 0.05 < waited < 0.5 + TIMEOUT + 1.0  # ... silence after 0.5 s, one VISA timeout
    assert f"within its {TIMEOUT:g} s VISA timeout" in message and "given 30 s" in message


def test_a_corrupt_block_header_is_a_driver_error_naming_the_fetch(rig) -> None:
    error = run_faulted_at(rig, Stage.FETCH, "digitizer", Fault.CORRUPT)
    assert "FETCh:DATA?" in str(error) and "run stage 'fetch'" in str(error)
    assert not isinstance(error, ValueError)
    assert unsafe(rig.virtual) == {}
    rig.executor.run(program(rig), shots=20)


@pytest.mark.parametrize("payload, why", [(b"\x00" * 12, "not whole complex64"),   # 3 float32: half a pair
                                          (b"\x00" * 7, "FETCh:DATA")])             # not even whole floats
def test_a_well_framed_block_of_the_wrong_size_is_a_driver_error(rig, payload: bytes, why: str) -> None:
    emulation = rig.virtual.instruments["digitizer"]
    assert isinstance(emulation, DigitizerEmulation)
    original = emulation.commands.lookup("FETCh:DATA?")
    assert original is not None
    emulation.commands.add("FETCh:DATA", lambda call: payload, query=True)
    try:
        with pytest.raises(DriverError, match=why) as caught:
            rig.executor.run(program(rig), shots=20)
    finally:
        emulation.commands.add("FETCh:DATA", original[0], query=True)
    assert "'digitizer'" in str(caught.value) and not isinstance(caught.value, ValueError)
    rig.executor.run(program(rig), shots=20)


def test_a_dead_lo_is_noticed_although_none_of_its_settings_change(rig) -> None:
    rig.executor.run(program(rig), shots=20)          # every LO set: the next run writes nothing to them
    rig.virtual.inject("lo_q1", Fault.MUTE)           # lo_q1 is not even used by the program's pulses
    try:
        with pytest.raises(InstrumentTimeout, match=r"run stage 'configure': instrument 'lo_q1'.*answers"):
            rig.executor.run(program(rig), shots=20)
    finally:
        rig.virtual.inject("lo_q1", Fault.NONE)
    rig.executor.run(program(rig), shots=20)


def test_an_lo_reset_behind_the_drivers_back_is_set_again(rig) -> None:
    rig.executor.run(program(rig), shots=20)
    lo = rig.virtual.instruments["lo_q0"]
    assert isinstance(lo, Sgs100aEmulation)
    lo.reset()                                        # power cycled: RF off, 1 GHz, -30 dBm
    rig.executor.run(program(rig), shots=20)
    assert (lo.output, lo.frequency, lo.power) == (True, 4.9e9, 13.0)   # lab_configs/virtual_2q.yaml's q0_drive


def test_an_lo_that_switches_off_during_the_acquisition_fails_the_run(rig) -> None:
    lo = rig.virtual.instruments["lo_q0"]
    assert isinstance(lo, Sgs100aEmulation)
    rig.executor.on_stage = lambda now: lo.settings.update({"OUTPut:STATe": "0"}) if now is Stage.FETCH else None
    try:
        with pytest.raises(DriverError, match=r"run stage 'stop'.*'lo_q0' reads RF off after the run"):
            rig.executor.run(program(rig), shots=20)
    finally:
        rig.executor.on_stage = None
    rig.executor.run(program(rig), shots=20)


def test_a_healthy_run_ends_with_every_awg_stopped_and_its_outputs_off(rig) -> None:
    result = rig.executor.run(program(rig, 0.06), shots=20)
    assert np.all(np.isfinite(result[0]))
    assert {n: why for n, why in unsafe(rig.virtual).items() if n == "awg"} == {}
    assert all(rig.virtual.instruments[lo].output for lo in ("lo_q0", "lo_q1", "lo_ro"))  # type: ignore[attr-defined]
    assert result.timings["stop"] < 0.1               # the confirmed tail: a few queries


def test_the_run_record_names_the_calibration_snapshot(rig, tmp_path) -> None:
    executor = Executor(rig.executor.station, rig.lab, runs_dir=tmp_path)
    result = executor.run(program(rig), shots=10, snapshot_id="snap-0042")
    assert result.snapshot_id == "snap-0042"
    (record,) = tmp_path.glob("*.json")
    assert json.loads(record.read_text())["snapshot_id"] == "snap-0042"
    result = executor.run(program(rig), shots=10)
    assert result.snapshot_id is None


def test_faults_can_be_rehearsed_over_the_instruments_own_port(rig) -> None:
    """``VIRTual:FAULt`` is what a second terminal sends to a lab served by ``qubitlab lab start``."""
    import socket

    emulation = rig.virtual.instruments["lo_q1"]

    def send(line: bytes, expect: Fault) -> None:
        with socket.create_connection(("127.0.0.1", rig.virtual.servers["lo_q1"].port), timeout=2.0) as sock:
            sock.sendall(line + b"\n")
            sock.sendall(b"*OPC?\n")       # the fault command itself is obeyed under any fault ...
            if expect is not Fault.MUTE:
                assert sock.recv(64) == b"1\n"
        deadline = time.perf_counter() + 2.0   # (a muted instrument answers nothing: watch the emulation)
        while emulation.fault is not expect and time.perf_counter() < deadline:
            time.sleep(0.005)
        assert emulation.fault is expect

    try:
        send(b"VIRTual:FAULt MUTE", Fault.MUTE)
        send(b"VIRT:FAUL NONE", Fault.NONE)     # ... so a muted instrument can be healed the same way
        send(b"VIRT:FAUL SLOW,0.25", Fault.SLOW)
        assert emulation.fault_delay == 0.25
        send(b"VIRT:FAUL NONE", Fault.NONE)
        send(b"VIRT:FAUL BOGUS", Fault.NONE)
        assert emulation.errors[-1][0] == -224
    finally:
        rig.virtual.inject("lo_q1", Fault.NONE)
        emulation.errors.clear()
    rig.executor.run(program(rig), shots=10)


def test_ctrl_c_after_the_outputs_are_armed_still_switches_everything_off(rig) -> None:
    def interrupt(now: Stage) -> None:
        if now is Stage.ACQUIRE:
            assert rig.virtual.instruments["awg"].output_on(1)      # armed: outputs on
            raise KeyboardInterrupt

    rig.executor.on_stage = interrupt
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            rig.executor.run(program(rig), shots=20)
    finally:
        rig.executor.on_stage = None
    assert caught.value.__cause__ is None              # propagated as it was, not wrapped
    assert unsafe(rig.virtual) == {}                   # AWG stopped, outputs off, every LO's RF off
    rig.executor.run(program(rig), shots=20)


def test_a_run_after_an_unconfirmed_safe_off_stops_before_sending_anything_while_the_fault_lasts(rig) -> None:
    error = run_faulted_at(rig, Stage.ACQUIRE, "awg", Fault.MUTE)   # healed on return ...
    assert "could not be confirmed on awg" in str(error)
    rig.virtual.inject("awg", Fault.MUTE)                            # ... and silent again
    try:
        with pytest.raises(InstrumentTimeout, match=r"run stage 'configure': instrument 'awg'.*left unconfirmed.*"
                                                    r"nothing of this run was sent"):
            rig.executor.run(program(rig), shots=20)
        assert not any(rig.virtual.instruments[lo].output for lo in ("lo_q0", "lo_q1", "lo_ro"))  # type: ignore[attr-defined]
    finally:
        rig.virtual.inject("awg", Fault.NONE)
    rig.executor.run(program(rig), shots=20)
    assert unsafe(rig.virtual) == {n: "RF on" for n in ("lo_q0", "lo_q1", "lo_ro")}   # LOs on, as a run leaves them
