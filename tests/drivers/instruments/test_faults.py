"""Injected faults: each gives a clear error within the configured timeout, leaves the AWG stopped and its
outputs off (when the AWG itself can still be reached), and the next run, once the fault is gone, succeeds."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from instrument_sweeps import FRAMES, rabi
from virtual_rig import TIMEOUT

from qubitlab.drivers.mock.awg5208 import Awg5208Emulation
from qubitlab.drivers.mock.scpi import Fault
from qubitlab.drivers.payloads import CompiledProgram, LoSettings
from qubitlab.errors import DriverError, InstrumentTimeout
from qubitlab.pulse.compiler import compile

BOUND = 4 * TIMEOUT + 2.0
"""No fault may take longer than this to be reported (a few VISA timeouts, the clean-up included)."""


def program(rig, amp: float = 0.05, lo_q0: float | None = None) -> CompiledProgram:
    compiled = compile(rabi(amp), rig.lab, FRAMES)
    if lo_q0 is not None:
        payloads = dict(compiled.payloads)
        lo = payloads["lo_q0"]
        assert isinstance(lo, LoSettings)
        payloads["lo_q0"] = replace(lo, frequency=lo_q0)
        compiled = replace(compiled, payloads=payloads)
    return compiled


def awg_state(rig) -> tuple[str, list[bool]]:
    awg = rig.virtual.instruments["awg"]
    assert isinstance(awg, Awg5208Emulation)
    return awg.run_state, [awg.output_on(ch) for ch in range(1, 9)]


def run_with_fault(rig, instrument: str, fault: Fault, expected: type[Exception], match: str, **kwargs) -> str:
    rig.executor.run(program(rig), shots=50)                       # a healthy run: outputs on
    assert any(awg_state(rig)[1])
    rig.virtual.inject(instrument, fault, delay=3 * TIMEOUT)
    start = time.perf_counter()
    try:
        with pytest.raises(expected, match=match) as caught:
            rig.executor.run(program(rig, **kwargs), shots=50)
        assert time.perf_counter() - start < BOUND
    finally:
        rig.virtual.inject(instrument, Fault.NONE)
    result = rig.executor.run(program(rig), shots=50)             # healed: reconnects and runs
    assert result[0].shape == (1, 50) and np.all(np.isfinite(result[0]))
    return str(caught.value)


@pytest.mark.parametrize("fault", [Fault.MUTE, Fault.SLOW])
def test_a_digitizer_that_does_not_answer_times_out_and_the_awg_is_left_safe(rig, fault: Fault) -> None:
    message = run_with_fault(rig, "digitizer", fault, InstrumentTimeout, "digitizer")
    assert "did not answer" in message


def test_outputs_are_off_and_the_awg_stopped_after_a_fault(rig) -> None:
    rig.executor.run(program(rig), shots=50)
    rig.virtual.inject("digitizer", Fault.MUTE)
    try:
        with pytest.raises(InstrumentTimeout):
            rig.executor.run(program(rig, amp=0.06), shots=50)
        assert awg_state(rig) == ("stopped", [False] * 8)
        assert not any(rig.virtual.instruments[lo].output for lo in ("lo_q0", "lo_q1", "lo_ro"))  # type: ignore[attr-defined]
    finally:
        rig.virtual.inject("digitizer", Fault.NONE)
    rig.executor.run(program(rig), shots=50)
    assert awg_state(rig)[1] == [True] * 6 + [False] * 2


def test_a_dropped_connection_is_an_error_naming_the_instrument(rig) -> None:
    run_with_fault(rig, "digitizer", Fault.DROP, DriverError, "digitizer")


def test_a_corrupt_data_block_is_an_error_naming_the_command(rig) -> None:
    run_with_fault(rig, "digitizer", Fault.CORRUPT, DriverError, r"digitizer.*FETCh:DATA\?")


def test_an_lo_that_drops_the_connection_is_named(rig) -> None:
    run_with_fault(rig, "lo_q0", Fault.DROP, DriverError, "lo_q0", lo_q0=4.9001e9)


def test_an_awg_that_stops_answering_times_out_and_says_the_clean_up_failed(rig) -> None:
    message = run_with_fault(rig, "awg", Fault.MUTE, InstrumentTimeout, "awg", amp=0.07)
    assert "awg" in message
