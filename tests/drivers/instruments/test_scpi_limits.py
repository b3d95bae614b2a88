"""Bounded messages: a client that sends a 100 MB line without a newline, or declares a huge block, has its own
connection refused (-223 "Too much data") and closed, while the other connections of the same virtual lab --
to another instrument and to the same one -- are answered as before, and the server's memory stays flat."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from virtual_rig import Rig

from qubitlab.drivers.mock.scpi import MAX_BLOCK, MAX_LINE, TOO_MUCH_DATA

HUNDRED_MB = 100 * 10**6
CHUNK = 1 << 20


def port(rig: Rig, name: str) -> int:
    return rig.virtual.servers[name].port


def rss_bytes() -> int:
    """Resident memory of this process (the virtual lab serves from a thread of it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def ask(sock: socket.socket, query: bytes) -> bytes:
    sock.sendall(query + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, "connection closed"
        reply += chunk
    return reply


def stream_without_newline(address: tuple[str, int], sent: list[int], received: list[bytes]) -> None:
    """Send up to 100 MB of 'A' in 1 MiB chunks, no newline; stop when the server closes the connection."""
    chunk = b"A" * CHUNK
    with socket.create_connection(address, timeout=5.0) as sock:
        try:
            while sent[0] < HUNDRED_MB:
                sock.sendall(chunk)
                sent[0] += CHUNK
        except OSError:                                   # reset or broken pipe: refused, as it should be
            pass
        try:
            received.append(sock.recv(4096))
        except OSError:
            received.append(b"")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_a_100_mb_line_is_refused_on_its_connection_while_the_lab_keeps_answering(rig: Rig) -> None:
    baseline = rss_bytes()
    sent, received = [0], []
    other = socket.create_connection(("127.0.0.1", port(rig, "awg")), timeout=5.0)
    same = socket.create_connection(("127.0.0.1", port(rig, "digitizer")), timeout=5.0)
    flood = threading.Thread(target=stream_without_newline,
                             args=(("127.0.0.1", port(rig, "digitizer")), sent, received))
    start = time.perf_counter()
    flood.start()
    latencies, peak = [], baseline
    try:
        while flood.is_alive() or not latencies:
            for sock, idn in ((other, b"TEKTRONIX,AWG5208"), (same, b"qubitlab,VirtualDigitizer")):
                asked = time.perf_counter()
                assert ask(sock, b"*IDN?").startswith(idn)
                latencies.append(time.perf_counter() - asked)
            peak = max(peak, rss_bytes())
            time.sleep(0.005)
        flood.join(10.0)
        assert not flood.is_alive()
        elapsed = time.perf_counter() - start
        assert max(latencies) < 1.0, f"{max(latencies):.3f} s"
        assert peak - baseline < 16 * CHUNK, f"grew {(peak - baseline) / 1e6:.1f} MB"
        assert sent[0] < HUNDRED_MB / 2 and elapsed < 10.0     # refused early, not after reading it all
        assert received[0] == b"" or received[0].startswith(f"{TOO_MUCH_DATA},".encode())
        assert ask(same, b"SYST:ERR?").startswith(f'{TOO_MUCH_DATA},"Too much data; more than {MAX_LINE}'.encode())
    finally:
        other.close()
        same.close()


@pytest.mark.parametrize("instrument, header, limit", [("digitizer", b"WEIGhts1 ", MAX_BLOCK),
                                                       ("awg", b'MMEMory:DATA "huge.seqx",', 512 << 20)])
def test_a_block_declaring_more_than_the_instrument_takes_is_refused_before_it_is_read(
        rig: Rig, instrument: str, header: bytes, limit: int) -> None:
    size = str(limit + 1).encode()
    with socket.create_connection(("127.0.0.1", port(rig, instrument)), timeout=5.0) as sock:
        sock.sendall(header + b"#" + str(len(size)).encode() + size + b"\0" * 1000)
        reply = sock.recv(4096)
        assert reply.startswith(f'{TOO_MUCH_DATA},"Too much data; a block of {limit + 1} bytes'.encode())
        assert sock.recv(4096) == b""                     # and closed
    with socket.create_connection(("127.0.0.1", port(rig, instrument)), timeout=5.0) as sock:
        assert ask(sock, b"SYST:ERR?").startswith(f"{TOO_MUCH_DATA},".encode())
        assert ask(sock, b"*OPC?") == b"1\n"
