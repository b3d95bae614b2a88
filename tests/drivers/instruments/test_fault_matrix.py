"""Every fault kind of the virtual lab, on each instrument role, starting at each stage of a run.

Whatever the fault, the run must raise an error naming the instrument and the stage it was noticed in (never
earlier than the stage the fault began in), the safe-off must have been tried everywhere: every instrument
that still executes commands (all of them, except the faulted one under MUTE or DROP) is read back from the
*emulation* as safe -- AWGs stopped with every output off, LOs' RF off, digitizers not armed -- and the
faulted one is named as not confirmed safe (no fault kind lets a confirmation through: no answer, a late
one, no connection or a garbled one). Once healed, the next run first makes that instrument safe, then
succeeds and ends with every AWG stopped and its outputs off.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator

import numpy as np
import pytest
from instrument_sweeps import FRAMES, rabi
from fault_checks import awgs_unsafe, unsafe
from virtual_rig import Rig, started_rig

from qubitlab.drivers.executor import Stage
from qubitlab.drivers.mock.scpi import Fault
from qubitlab.drivers.payloads import CompiledProgram
from qubitlab.errors import DriverError
from qubitlab.pulse.compiler import compile

TIMEOUT = 0.4
"""VISA timeout of every instrument here (s): a silent instrument costs one per attempt."""
BOUND = 4 * TIMEOUT + 1.5
"""The failed run, safe-off included, must be over within this (two attempts time out at most)."""
FAULTS = [fault for fault in Fault if fault is not Fault.NONE]
UNREACHABLE = (Fault.MUTE, Fault.DROP)
"""Faults under which the instrument executes nothing: its state cannot be changed, only reported."""
SHOTS = 20
_amplitudes = itertools.count()


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with started_rig(timeout=TIMEOUT) as started:
        yield started


def fresh_program(rig: Rig) -> CompiledProgram:
    """A Rabi point with an amplitude not used before: its waveforms are new, so the upload stage uploads."""
    return compile(rabi(0.02 + 1e-4 * next(_amplitudes)), rig.lab, FRAMES)


@pytest.mark.parametrize("stage", list(Stage), ids=lambda s: s.value)
@pytest.mark.parametrize("role", ["awg", "lo_q0", "digitizer", *(pytest.param(lo, marks=pytest.mark.slow)
                                                              for lo in ("lo_q1", "lo_ro"))])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.value)
def test_a_fault_at_any_stage_is_named_and_leaves_every_reachable_instrument_safe(
        rig: Rig, fault: Fault, role: str, stage: Stage) -> None:
    def inject(now: Stage) -> None:
        if now is stage:
            rig.virtual.inject(role, fault, delay=3 * TIMEOUT)

    rig.executor.on_stage = inject
    start = time.perf_counter()
    try:
        with pytest.raises(DriverError) as caught:
            rig.executor.run(fresh_program(rig), shots=SHOTS)
        elapsed = time.perf_counter() - start
        left = unsafe(rig.virtual)
    finally:
        rig.executor.on_stage = None
        rig.virtual.inject(role, Fault.NONE)
    message = str(caught.value)
    assert f"'{role}'" in message
    noticed = re.match(r"run stage '(\w+)'", message)
    assert noticed is not None, message
    assert list(Stage).index(Stage(noticed.group(1))) >= list(Stage).index(stage), message
    assert re.search(rf"safe-off could not be confirmed on [\w, ]*\b{role}\b", message), message
    assert elapsed < BOUND, f"{elapsed:.2f} s"
    if fault in UNREACHABLE:
        left.pop(role, None)
    assert left == {}, message

    # healed: the next run makes the instrument safe before anything else, then runs and ends safe
    seen_at_configure: list[dict[str, str]] = []
    rig.executor.on_stage = lambda now: seen_at_configure.append(awgs_unsafe(rig.virtual)) \
        if now is Stage.CONFIGURE else None
    try:
        result = rig.executor.run(fresh_program(rig), shots=SHOTS)
    finally:
        rig.executor.on_stage = None
    assert seen_at_configure == [{}]
    assert result[0].shape == (1, SHOTS) and np.all(np.isfinite(result[0]))
    assert awgs_unsafe(rig.virtual) == {}

