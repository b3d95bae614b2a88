"""The SCPI servers as a client sees them: framing, header forms, the IEEE 488.2 error queue, and survival of
anything malformed. Real sockets: pyvisa-py sessions, and a raw socket where pyvisa would hide the framing."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Iterator

import pytest
import pyvisa
from virtual_rig import Rig

from qubitlab.drivers.station import open_resource
from qubitlab.drivers.visa import ieee_block


@pytest.fixture()
def lo(rig: Rig) -> Iterator[pyvisa.resources.MessageBasedResource]:
    resource = open_resource(rig.virtual.addresses["lo_q1"], timeout=1.0)
    resource.read_termination = resource.write_termination = "\n"
    resource.timeout = 1000
    resource.write("*CLS")
    yield resource
    resource.close()


def test_a_malformed_or_unknown_command_leaves_the_server_running_with_the_error_queued(lo) -> None:
    lo.write("FOO:BAR 1")
    lo.write("SOUR:FREQ banana")
    lo.write("SOUR:FREQ 99e9")             # outside the SGS100A's 1 MHz .. 12.75 GHz
    assert lo.query("*IDN?").startswith("Rohde&Schwarz,SGS100A")
    assert lo.query("SYST:ERR?").startswith("-113,")
    assert lo.query("SYST:ERR?").startswith("-104,")
    assert lo.query("SYSTem:ERRor?").startswith("-222,")
    assert lo.query("SYST:ERR?") == '0,"No error"'


def test_short_and_long_forms_and_compound_commands(lo) -> None:
    lo.write("SOURce:FREQuency 5.1e9;:SOUR:POW -3.5")
    assert float(lo.query("sour:freq?")) == 5.1e9
    assert float(lo.query(":SOURCE:POWER?")) == -3.5
    assert lo.query("SOUR:FREQ?;POW?") == "5100000000.0;-3.5"   # POW continues SOUR's path
    assert lo.query("*OPC?") == "1"


def test_the_error_queue_overflows_as_ieee_488_2_says(lo) -> None:
    for _ in range(40):
        lo.write("NOT:A:COMMAND")
    codes = [int(lo.query("SYST:ERR?").split(",")[0]) for _ in range(33)]
    assert codes[:31] == [-113] * 31    # a 32-place queue ...
    assert codes[31] == -350            # ... whose last place says "Queue overflow"
    assert codes[32] == 0


def test_a_definite_length_block_ends_a_message_without_a_terminator(rig: Rig) -> None:
    # MMEMory:DATA "name",#<n><len><data> and nothing after it, then a query in a second packet.
    host, port = "127.0.0.1", int(rig.virtual.addresses["awg"].split("::")[2])
    payload = b"binary\ndata with newlines\n and #hashes"
    with socket.create_connection((host, port), timeout=2.0) as sock:
        sock.sendall(b'MMEMory:DATA "blob.bin",' + ieee_block(payload))
        time.sleep(0.05)
        sock.sendall(b"*OPC?\n")
        assert sock.recv(100) == b"1\n"
    awg = rig.virtual.instruments["awg"]
    assert payload in awg.files.values()  # type: ignore[attr-defined]


def test_set_then_get_round_trip_is_well_under_5_ms_with_nodelay(rig: Rig) -> None:
    lo = rig.executor.station.components["lo_q1"]
    times = []
    for i in range(60):
        start = time.perf_counter()
        lo.frequency(5.0e9 + i * 1e3)
        assert lo.frequency() == 5.0e9 + i * 1e3
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 5e-3
