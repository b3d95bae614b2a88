"""VISA plumbing shared by every adapter: fast sockets, reconnection, and errors that name the instrument.

pyvisa-py opens raw sockets with Nagle's algorithm on, so a write followed by another write waits for the
peer's delayed ACK (~40 ms): a 201-point set/get sweep took 8.9 s instead of 0.08 s. :func:`set_nodelay`
turns it off on each session's socket after connecting (and again after every reconnect); :func:`fast_session`
does that and lets a socket session receive up to 1 MiB per ``recv`` (pyvisa-py's default is 4 kB).
:func:`differs` is the one test of "must this setting be written". :func:`instrument_errors` turns pyvisa and
QCoDeS exceptions into ``InstrumentTimeout``/``DriverError`` messages that say which instrument, which action
and what to check. :func:`overlapped` runs two-phase exchanges (send, then read) on several instruments so
their round trips overlap.
"""

from __future__ import annotations

import socket
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pyvisa
from pyvisa import constants
from qcodes.instrument import VisaInstrument
from qcodes.parameters import Parameter

from qubitlab.errors import DriverError, InstrumentTimeout, QubitlabError


def _socket_of(session: Any) -> socket.socket | None:
    interface = getattr(session, "interface", None)
    if isinstance(interface, socket.socket):
        return interface
    for attribute in ("sock", "_sock", "socket"):  # VXI-11 and HiSLIP sessions keep theirs inside a client
        candidate = getattr(interface, attribute, None)
        if isinstance(candidate, socket.socket):
            return candidate
    return None


def set_nodelay(target: VisaInstrument | pyvisa.resources.Resource) -> bool:
    """Set TCP_NODELAY on a VISA session's pyvisa-py socket (of a QCoDeS instrument or a pyvisa resource);
    False when it has none (another VISA library, a serial or USB session)."""
    handle = target.visa_handle if isinstance(target, VisaInstrument) else target
    sessions = getattr(handle.visalib, "sessions", None)
    if not isinstance(sessions, dict):
        return False
    sock = _socket_of(sessions.get(handle.session))
    if sock is None:
        return False
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return True


RECEIVE_SIZE = 1 << 20
"""Bytes a pyvisa-py socket session asks the kernel for per ``recv`` (its own default is 4096: a 400 kB data
block took ~100 select + recv rounds, 0.7 ms, instead of a few, 0.4 ms)."""


def fast_session(target: VisaInstrument | pyvisa.resources.Resource) -> None:
    """:func:`set_nodelay`, and a pyvisa-py socket session's receive size raised to :data:`RECEIVE_SIZE` (a
    larger ``recv`` returns what has arrived, as a smaller one does; nothing changes for other sessions)."""
    set_nodelay(target)
    handle = target.visa_handle if isinstance(target, VisaInstrument) else target
    sessions = getattr(handle.visalib, "sessions", None)
    session = sessions.get(handle.session) if isinstance(sessions, dict) else None
    size = getattr(session, "max_recv_size", None)
    if session is not None and isinstance(size, int) and _socket_of(session) is not None:
        session.max_recv_size = max(size, RECEIVE_SIZE)


def write_all(handle: pyvisa.resources.MessageBasedResource, data: bytes) -> None:
    """Send ``data`` as it is (no termination added): on a pyvisa-py socket session by one ``sendall`` (its
    ``write`` sends 4 kB per select + send round, 40 rounds for a variational step's waveforms), otherwise by
    ``write_raw``. Both block until the instrument has taken every byte (pyvisa-py's sockets have no send timeout)."""
    sessions = getattr(handle.visalib, "sessions", None)
    sock = _socket_of(sessions.get(handle.session)) if isinstance(sessions, dict) else None
    if sock is None or sock.gettimeout() is not None:
        handle.write_raw(data)
        return
    sock.sendall(data)


def reopen(instrument: VisaInstrument, visalib: str | None) -> None:
    """Close the VISA session and open a fresh one to the same address (no stale bytes from a fault), with the
    same terminator and timeout."""
    handle = instrument.visa_handle
    address, terminator, timeout = instrument.address, handle.read_termination, handle.timeout
    if address is None:
        raise DriverError(f"instrument {instrument.name!r} has no address to reconnect to")
    try:
        handle.close()
    except Exception:  # a dead session may refuse to close; the new one replaces it anyway
        pass
    instrument.set_address(address, visalib)
    instrument.set_terminator(terminator)
    instrument.visa_handle.timeout = timeout
    fast_session(instrument)


def differs(parameter: Parameter, value: Any) -> bool:
    """Whether ``parameter`` must be written to hold ``value``: its cache is invalid (after a reconnect or a
    fault: the write may have been lost) or holds another value. QCoDeS' ``cache.get(get_if_invalid=False)``
    returns the stale value of an invalidated cache, so the validity is checked first."""
    return not parameter.cache.valid or parameter.cache.get(get_if_invalid=False) != value


Exchange = Generator[None, None, None]
"""A two-phase step on one instrument: up to its one ``yield`` it sends, after it reads and checks the replies."""


def overlapped(exchanges: Iterable[Exchange]) -> None:
    """Run ``exchanges`` so that their round trips overlap: each sends, in order, before any reply is read, then
    each reads its replies, in the same order (every instrument has its own connection, so N instruments cost
    about one round trip, not N). The first error, sending or reading, propagates with the replies of the
    exchanges after it left unread: whoever catches it must reopen those sessions (the executor's safe-off
    reopens every instrument's)."""
    sent = []
    for exchange in exchanges:
        next(exchange)
        sent.append(exchange)
    for exchange in sent:
        try:
            next(exchange)
        except StopIteration:
            continue
        raise RuntimeError("an exchange must yield exactly once (between sending and reading)")


def parsed(parameter: Parameter, raw: str) -> Any:
    """What ``parameter.get()`` returns for the reply ``raw`` (its parser or value mapping applied), which the
    parameter's cache then holds, as after a get: for a query sent in one message with others."""
    parameter.cache._set_from_raw_value(raw)
    return parameter.cache.get(get_if_invalid=False)


def ieee_block(payload: bytes) -> bytes:
    """IEEE 488.2 definite-length block: ``#<digits><length><payload>``."""
    size = str(len(payload))
    return b"#" + str(len(size)).encode() + size.encode() + payload


def query_block(handle: pyvisa.resources.MessageBasedResource, command: str) -> bytes:
    """The payload of the IEEE 488.2 definite-length block that answers ``command`` (the newline ending the
    message is read and checked too).

    The block is read with the termination character off: with it on, pyvisa-py's socket session returns at
    every 0x0A byte inside the binary data and rescans its buffer each time (one read per ~256 bytes of random
    data: 7 ms for a 256 kB fetch instead of under 1 ms). A reply that is not a block raises ``ValueError``.
    """
    handle.write(command)
    enabled = handle.get_visa_attribute(constants.ResourceAttribute.termchar_enabled)
    handle.set_visa_attribute(constants.ResourceAttribute.termchar_enabled, constants.VI_FALSE)
    try:
        head = handle.read_bytes(2)
        if head[:1] != b"#" or not head[1:2].isdigit() or head[1:2] == b"0":
            raise ValueError(f"{command} answered {head!r}..., not a definite-length block (#<n><length>)")
        size = handle.read_bytes(int(head[1:2]))
        if not size.isdigit():
            raise ValueError(f"{command} answered a block whose length field {size!r} is not a number")
        payload = handle.read_bytes(int(size), chunk_size=max(int(size), 1))   # one read call, not 20 kB ones
        end = handle.read_bytes(1)
        if end != b"\n":
            raise ValueError(f"{command}'s {int(size)}-byte block is followed by {end!r}, not the newline that "
                             "ends the message: the block's length field is wrong")
    finally:
        handle.set_visa_attribute(constants.ResourceAttribute.termchar_enabled, enabled)
    return payload


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (TimeoutError, socket.timeout)) or (
        isinstance(exc, pyvisa.errors.VisaIOError) and exc.error_code == constants.StatusCode.error_timeout)


@contextmanager
def instrument_errors(name: str, action: str, timeout: float | None = None) -> Iterator[None]:
    """Re-raise anything that goes wrong inside as ``InstrumentTimeout`` or ``DriverError`` naming ``name``
    and ``action`` (the command or step)."""
    try:
        yield
    except QubitlabError:
        raise
    except Exception as exc:
        detail = " ".join(str(a) for a in exc.args) or type(exc).__name__
        if _is_timeout(exc):
            limit = f" within {timeout:g} s" if timeout is not None else ""
            raise InstrumentTimeout(f"instrument {name!r} did not answer{limit} while {action} ({detail}); check "
                                    "that it is on and reachable, then run again (the connection is reopened)"
                                    ) from exc
        raise DriverError(f"instrument {name!r} failed while {action}: {type(exc).__name__}: {detail}") from exc
