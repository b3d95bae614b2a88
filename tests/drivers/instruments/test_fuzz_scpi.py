"""Fuzzing every emulated instrument of the virtual lab over a real socket with hypothesis.

Messages are built from each instrument's own command table (every header it knows, as set and as query, with
random suffixes and arguments: numbers, NaN, huge values, quoted strings, junk), mixed with raw bytes and
definite-length blocks whose declared length may lie. Properties, per example: the instrument answers ``*IDN?``
on a fresh connection within a second afterwards (the serving thread survived), the fuzzing connection ends
within the deadline, and every error queued is a well-formed IEEE 488.2 entry ``<negative code>,"<text>"``
that is not -300 "Device-specific error" (which is what a handler's unexpected Python exception becomes).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from fuzz_budget import budget
from hypothesis import given
from hypothesis import strategies as st

from qubitlab import load_lab
from qubitlab.drivers.mock.lab import VirtualLab
from qubitlab.drivers.mock.scpi import MAX_ERRORS

LAB = load_lab(__import__("virtual_rig").VIRTUAL_2Q)
INSTRUMENTS = sorted(LAB.instruments)
ENTRY = re.compile(r'^(0|-\d{3}),".*"$', re.DOTALL)


@pytest.fixture(scope="module")
def virtual() -> Iterator[VirtualLab]:
    with VirtualLab(LAB, seed=3) as started:
        yield started


def headers_of(virtual: VirtualLab, name: str) -> list[str]:
    """Every header the instrument knows (its command table), '#' marking a numeric suffix; not the fault door."""
    table = virtual.servers[name].instrument.commands._handlers      # the emulation's own list, read-only
    found = {":".join(nodes) + ("?" if query else "") for nodes, query in table}
    return sorted(h for h in found if not h.startswith("VIRT"))


arguments = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["ON", "OFF", "1", "0", "MAX", "MIN", "nan", "-inf", "1e400", "", ",", "#", "'", '"']),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12).map(lambda t: f'"{t}"'),
    st.text(max_size=12))


def command(header: str, data: st.DataObject) -> str:
    while "#" in header:
        header = header.replace("#", str(data.draw(st.integers(0, 9))), 1)
    args = data.draw(st.lists(arguments, max_size=3))
    return header + (" " + ",".join(args) if args else "")


def block(data: st.DataObject) -> bytes:
    payload = data.draw(st.binary(max_size=64))
    declared = data.draw(st.sampled_from([len(payload), len(payload) + 5, max(0, len(payload) - 3)]))
    digits = str(declared)
    return b"#" + str(len(digits)).encode() + digits.encode() + payload


def exchange(port: int, message: bytes, timeout: float = 3.0) -> bytes:
    """Send ``message``, close our side, read until the instrument closes its side."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(message)
        conn.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := conn.recv(1 << 16):
            received += chunk
        return received


def query(port: int, text: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
        conn.sendall(text.encode() + b"\n")
        received = b""
        while not received.endswith(b"\n"):
            chunk = conn.recv(4096)
            assert chunk, f"the instrument closed the connection instead of answering {text!r}"
            received += chunk
        return received.decode("ascii", "replace").strip()


def drained_errors(port: int) -> list[str]:
    entries = []
    for _ in range(MAX_ERRORS + 2):
        entry = query(port, "SYSTem:ERRor?")
        if entry.startswith("0,"):
            return entries
        entries.append(entry)
    raise AssertionError(f"the error queue did not empty after {MAX_ERRORS + 2} reads: {entries[-3:]}")


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_each_instrument_survives_hostile_traffic_with_well_formed_errors(virtual: VirtualLab, name: str) -> None:
    headers = headers_of(virtual, name)
    port = virtual.servers[name].port
    idn = query(port, "*IDN?")
    seen: list[str] = []

    @budget(60, deadline_ms=8000)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["commands", "raw", "block"]))
        if kind == "commands":
            picked = data.draw(st.lists(st.sampled_from(headers), min_size=1, max_size=4))
            message = ";".join(command(h, data) for h in picked).encode("utf-8", "replace") + b"\n"
        elif kind == "raw":
            message = data.draw(st.binary(max_size=200))
        else:
            header = data.draw(st.sampled_from(headers)).replace("#", "1").rstrip("?")
            message = header.encode() + b" " + block(data) + b"\n"
        exchange(port, message)
        assert query(port, "*IDN?") == idn                # a fresh connection is served as before
        errors = drained_errors(port)
        seen.extend(errors)
        for entry in errors:
            assert ENTRY.match(entry), f"{name}: malformed error entry {entry!r} after {message!r:.200}"
            assert not entry.startswith("-300,"), f"{name}: a handler crashed on {message!r:.300}: {entry}"

    one()
    query(port, "*RST;*CLS;*OPC?")
    assert len(headers) > 10 and any(e.startswith(("-1", "-2")) for e in seen), seen[:5]   # errors were reached
