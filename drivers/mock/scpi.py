"""An asyncio SCPI server: the transport, parser and IEEE 488.2 error queue every virtual instrument shares.

Real drivers talk to the virtual lab over real sockets, so this module does what an instrument's firmware
does with bytes: it splits the stream into messages (a newline ends a message, and so does a definite-length
block ``#<n><length><data>`` even without a newline after it, as on Tektronix AWGs), splits a message into
``;``-separated commands, matches each header in short or long form (``MMEM:DATA`` = ``MMEMory:DATA``, with
numeric suffixes as in ``OUTPut3:STATe``), runs the handler and answers queries. A malformed or unknown
command never kills the server: it puts an error in the queue (``-113,"Undefined header"``), read back with
``SYSTem:ERRor?``. Every server binds 127.0.0.1 only, one TCP port per instrument.

Fault injection (:class:`Fault`) lets tests make an instrument stop answering, answer slowly, drop the
connection or corrupt its replies; ``VIRTual:FAULt <kind>[,<delay>]`` does the same over the instrument's own
port (it is obeyed whatever fault is active), so faults can be rehearsed from outside the process
(docs/instruments/fault_injection.md).

Every connection is bounded: a text message longer than ``max_line`` bytes without a newline, or a block
declaring more than ``max_block`` bytes, gets ``-223,"Too much data"`` written back and the connection
closed; the instrument's other connections (and the lab's other instruments) are served as before.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Union

from qubitlab.drivers.visa import ieee_block

log = logging.getLogger(__name__)

Reply = Union[str, bytes, None]
"""What a handler returns: text (a newline is added), a binary block's payload (framed here), or nothing."""
Handler = Callable[["Call"], Union[Reply, Awaitable[Reply]]]

MAX_ERRORS = 32
MAX_LINE = 1 << 20
"""Longest text message (bytes up to a newline or a block) a connection may send by default."""
MAX_BLOCK = 64 << 20
"""Largest definite-length block a connection may send by default (instruments holding files allow more)."""


class ScpiError(Exception):
    """Raised by a handler: the command is refused and ``code, message`` goes into the error queue."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code},{message}")
        self.code = code
        self.message = message


# Standard SCPI error codes used by the virtual instruments (SCPI-99, chapter 21).
UNDEFINED_HEADER = -113
DATA_TYPE_ERROR = -104
PARAMETER_NOT_ALLOWED = -108
MISSING_PARAMETER = -109
ILLEGAL_PARAMETER = -224
DATA_OUT_OF_RANGE = -222
SETTINGS_CONFLICT = -221
EXECUTION_ERROR = -200
FILE_NOT_FOUND = -256
BLOCK_DATA_ERROR = -160
QUEUE_OVERFLOW = -350
TOO_MUCH_DATA = -223
DEVICE_ERROR = -300


@dataclass(frozen=True)
class Call:
    """One parsed command: its numeric suffixes (``OUTPut3`` -> ``(3,)``) and its parameter text or block."""

    header: str
    suffixes: tuple[int, ...]
    text: str
    block: bytes | None = None

    def args(self) -> list[str]:
        """The comma-separated parameters, unquoted (commas inside quotes are kept)."""
        parts = [p.strip() for p in re.findall(r'"[^"]*"|\'[^\']*\'|[^,]+', self.text)]
        return [p[1:-1] if len(p) >= 2 and p[0] == p[-1] and p[0] in "\"'" else p for p in parts if p]

    def one(self) -> str:
        values = self.args()
        if len(values) != 1:
            raise ScpiError(MISSING_PARAMETER if not values else PARAMETER_NOT_ALLOWED,
                            f'"{self.header} takes one parameter, got {len(values)}"')
        return values[0]

    def number(self, low: float | None = None, high: float | None = None) -> float:
        text = self.one()
        try:
            value = float(text)
        except ValueError:
            raise ScpiError(DATA_TYPE_ERROR, f'"{self.header}: {text!r} is not a number"') from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ScpiError(DATA_OUT_OF_RANGE, f'"{self.header}: {value:g} outside [{low:g}, {high:g}]"')
        return value

    def boolean(self) -> bool:
        text = self.one().upper()
        if text in ("1", "ON"):
            return True
        if text in ("0", "OFF"):
            return False
        raise ScpiError(ILLEGAL_PARAMETER, f'"{self.header}: {text!r} is not ON, OFF, 1 or 0"')


class Fault(enum.Enum):
    """What an instrument can be told to do wrong, for tests."""

    NONE = "none"
    MUTE = "mute"
    """Reads commands and never answers nor executes them (a hung firmware)."""
    SLOW = "slow"
    """Executes commands but answers each query after ``fault_delay`` seconds."""
    DROP = "drop"
    """Closes the connection on the next command it receives."""
    CORRUPT = "corrupt"
    """Executes commands but corrupts every answer: binary blocks get a malformed header and half their data,
    text answers are replaced by garbage."""


CORRUPT_TEXT = b"\x15?GARBLED?"
"""What a text answer becomes under ``Fault.CORRUPT`` (no number, no enum value, no list parses from it)."""


class MessageTooLong(Exception):
    """A connection sent more than its instrument accepts in one message (``max_line`` / ``max_block``)."""


class CommandTable:
    """Headers in SCPI notation (``SOURce#:CASSet:SEQuence``; ``#`` marks a numeric suffix) -> handlers.

    Incoming headers are normalised to the short forms of the known mnemonics, so lookup is one dict access.
    """

    def __init__(self) -> None:
        self._handlers: dict[tuple[tuple[str, ...], bool], Handler] = {}
        self._vocabulary: dict[str, str] = {}

    def add(self, pattern: str, handler: Handler, *, query: bool = False) -> None:
        key = []
        for node in pattern.strip(":").split(":"):
            suffixed = node.endswith("#")
            node = node.rstrip("#")
            short = "".join(ch for ch in node if ch.isupper() or ch.isdigit() or ch in "*?") or node.upper()
            # one canonical name per word, whichever spelling came first (STATe and STATE are the same node)
            canonical = self._vocabulary.setdefault(node.upper(), self._vocabulary.get(short, short))
            self._vocabulary.setdefault(short, canonical)
            key.append(canonical + ("#" if suffixed else ""))
        self._handlers[(tuple(key), query)] = handler

    def setting(self, pattern: str, state: dict[str, str], default: str,
                parse: Callable[[Call], str] | None = None) -> None:
        """A plain setting: the set form stores (optionally checked by ``parse``), the query returns it."""
        def store(call: Call) -> None:
            state[_state_key(pattern, call.suffixes)] = parse(call) if parse else call.one()

        def read(call: Call) -> str:
            return state.get(_state_key(pattern, call.suffixes), default)

        self.add(pattern, store)
        self.add(pattern, read, query=True)

    def lookup(self, header: str) -> tuple[Handler, tuple[int, ...]] | None:
        query = header.endswith("?")
        nodes: list[str] = []
        suffixes: list[int] = []
        for token in header.rstrip("?").lstrip(":").split(":"):
            match = re.fullmatch(r"([*A-Za-z_]+)(\d*)", token)
            if match is None:
                return None
            name, digits = match.groups()
            short = self._vocabulary.get(name.upper())
            if short is None:
                return None
            if digits:
                suffixes.append(int(digits))
                nodes.append(short + "#")
            else:
                nodes.append(short)
        handler = self._handlers.get((tuple(nodes), query))
        if handler is None and len(suffixes) < len(nodes):  # a suffix left out means 1 (SOUR:FREQ = SOUR1:FREQ)
            for i, node in enumerate(nodes):
                candidate = tuple(n + "#" if j == i and not n.endswith("#") else n for j, n in enumerate(nodes))
                handler = self._handlers.get((candidate, query))
                if handler is not None:
                    suffixes.insert(sum(1 for n in nodes[:i] if n.endswith("#")), 1)
                    break
        return None if handler is None else (handler, tuple(suffixes))


def _state_key(pattern: str, suffixes: Iterable[int]) -> str:
    return pattern + "".join(f"/{s}" for s in suffixes)


@dataclass
class ScpiInstrument:
    """An instrument's SCPI personality: identity, commands and IEEE 488.2 status. Subclasses add commands."""

    idn: str
    commands: CommandTable = field(default_factory=CommandTable)
    errors: deque[tuple[int, str]] = field(default_factory=deque)
    fault: Fault = Fault.NONE
    fault_delay: float = 0.0
    max_line: int = MAX_LINE
    max_block: int = MAX_BLOCK

    def __post_init__(self) -> None:
        c = self.commands
        c.add("VIRTual:FAULt", self._set_fault)
        c.add("VIRTual:FAULt", lambda call: f"{self.fault.value.upper()},{self.fault_delay!r}", query=True)
        c.add("*IDN", lambda call: self.idn, query=True)
        c.add("*OPC", lambda call: "1", query=True)
        c.add("*OPC", lambda call: None)
        c.add("*WAI", lambda call: None)
        c.add("*CLS", lambda call: self.errors.clear())
        c.add("*ESR", lambda call: "0", query=True)
        c.add("*RST", lambda call: self.reset())
        c.add("*TST", lambda call: "0", query=True)
        c.add("SYSTem:ERRor", lambda call: self._pop_error(), query=True)
        c.add("SYSTem:ERRor:NEXT", lambda call: self._pop_error(), query=True)
        c.add("SYSTem:ERRor:CODE", lambda call: self._pop_error().split(",")[0], query=True)
        c.add("SYSTem:ERRor:COUNt", lambda call: str(len(self.errors)), query=True)

    def reset(self) -> None:
        """``*RST``: back to the power-on settings (subclasses extend)."""

    def _set_fault(self, call: Call) -> None:
        """``VIRTual:FAULt NONE|MUTE|SLOW|DROP|CORRUPT[,<delay s>]``: the fault rehearsal back door."""
        args = call.args()
        try:
            fault = Fault(args[0].lower())
            delay = float(args[1]) if len(args) > 1 else 0.0
        except (IndexError, ValueError):
            raise ScpiError(ILLEGAL_PARAMETER, '"VIRTual:FAULt takes NONE, MUTE, SLOW, DROP or CORRUPT and an '
                                               'optional delay in seconds"') from None
        if not 0.0 <= delay <= 3600.0:
            raise ScpiError(DATA_OUT_OF_RANGE, f'"VIRTual:FAULt delay {delay:g} s outside [0, 3600]"')
        self.fault, self.fault_delay = fault, delay

    def is_fault_command(self, text: str) -> bool:
        """Whether a message is ``VIRTual:FAULt`` (obeyed whatever fault is active)."""
        found = self.commands.lookup(text.strip().partition(" ")[0])
        return found is not None and found[0] == self._set_fault

    def push_error(self, code: int, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS - 1:
            if len(self.errors) == MAX_ERRORS - 1:
                self.errors.append((QUEUE_OVERFLOW, '"Queue overflow"'))
            return
        self.errors.append((code, message))

    def _pop_error(self) -> str:
        if not self.errors:
            return '0,"No error"'
        code, message = self.errors.popleft()
        return f"{code},{message}"

    async def execute(self, command: str, block: bytes | None) -> Reply:
        """Run one command; errors go into the queue, never out of here."""
        header, _, text = command.strip().partition(" ")
        found = self.commands.lookup(header)
        if found is None:
            self.push_error(UNDEFINED_HEADER, f'"Undefined header; {header[:60]}"')
            return None
        handler, suffixes = found
        try:
            reply = handler(Call(header, suffixes, text.strip(), block))
            if asyncio.iscoroutine(reply):
                reply = await reply
            return reply  # type: ignore[return-value]
        except ScpiError as exc:
            self.push_error(exc.code, exc.message)
        except Exception as exc:  # a bug in a handler must not take the instrument down
            log.exception("virtual instrument: command %r failed", command)
            self.push_error(DEVICE_ERROR, f'"Device-specific error; {type(exc).__name__}: {exc}"'[:250])
        return None


class ScpiServer:
    """Serves one :class:`ScpiInstrument` on 127.0.0.1:``port`` (0: an ephemeral port)."""

    def __init__(self, instrument: ScpiInstrument, port: int = 0) -> None:
        self.instrument = instrument
        self.port = port
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        """The VISA resource name of this instrument."""
        return f"TCPIP0::127.0.0.1::{self.port}::SOCKET"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, host="127.0.0.1", port=self.port, limit=2**24)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, close every client connection and let their handlers finish (no cancellation)."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=2.0)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._writers.add(writer)
        try:
            messages = MessageReader(reader, self.instrument.max_line, self.instrument.max_block)
            while True:
                message = await messages.next()
                if message is None:
                    break
                if not await self._handle(message, writer):
                    break
        except MessageTooLong as exc:
            await self._refuse(writer, str(exc))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _refuse(self, writer: asyncio.StreamWriter, reason: str) -> None:
        """Tell an offending connection why it is closed (if it reads), queue the error, close it."""
        message = f'"Too much data; {reason}, connection closed"'
        self.instrument.push_error(TOO_MUCH_DATA, message)
        log.warning("virtual instrument on port %d: %s", self.port, reason)
        writer.write(f"{TOO_MUCH_DATA},{message}\n".encode())
        try:
            await asyncio.wait_for(writer.drain(), timeout=1.0)
        except (ConnectionError, asyncio.TimeoutError):
            pass

    async def _handle(self, message: tuple[str, bytes | None], writer: asyncio.StreamWriter) -> bool:
        """Execute one message; False closes the connection."""
        inst = self.instrument
        if inst.fault is not Fault.NONE and message[1] is None and inst.is_fault_command(message[0]):
            await inst.execute(message[0], None)
            return True
        if inst.fault is Fault.DROP:
            return False
        if inst.fault is Fault.MUTE:
            return True
        text, block = message
        commands = split_commands(text) if block is None else [text]
        replies: list[bytes] = []
        path = ""
        for command in commands:
            # SCPI path rule: in a compound message, a header without a leading colon continues from the
            # previous header's path (SOUR:FREQ 1e9;POW -3 sets SOUR:POW); common commands (*XXX) do not count.
            if path and not command.startswith((":", "*")):
                command = path + command
            header = command.split(" ", 1)[0].lstrip(":")
            if not header.startswith("*"):
                path = header.rpartition(":")[0] + ":" if ":" in header else ""
            reply = await inst.execute(command, block)
            if isinstance(reply, bytes):
                replies.append(_corrupt(reply) if inst.fault is Fault.CORRUPT else ieee_block(reply))
            elif reply is not None:
                replies.append(CORRUPT_TEXT if inst.fault is Fault.CORRUPT else reply.encode("ascii", "replace"))
        if replies:
            if inst.fault is Fault.SLOW:
                await asyncio.sleep(inst.fault_delay)
            writer.write(b";".join(replies) + b"\n")
            await writer.drain()
        return True


class MessageReader:
    """Splits a byte stream into messages: text up to a newline, or text plus the definite-length block that
    ends it (``#<n><length><data>``, newline optional). Reads in chunks; never byte by byte."""

    _DELIMITER = re.compile(rb'"[^"]*"|\'[^\']*\'|[\n#]')

    def __init__(self, reader: asyncio.StreamReader, max_line: int = MAX_LINE, max_block: int = MAX_BLOCK) -> None:
        self._reader = reader
        self._buffer = bytearray()
        self.max_line = max_line
        self.max_block = max_block

    async def _more(self) -> bool:
        chunk = await self._reader.read(1 << 20)
        self._buffer += chunk
        return bool(chunk)

    async def next(self) -> tuple[str, bytes | None] | None:
        pos = 0
        while True:
            match = self._DELIMITER.search(self._buffer, pos)
            while match is not None and match.group() not in (b"\n", b"#"):
                pos = match.end()
                match = self._DELIMITER.search(self._buffer, pos)
            if match is None:
                if len(self._buffer) > self.max_line:
                    raise MessageTooLong(f"more than {self.max_line} bytes without a newline")
                pos = max(0, len(self._buffer) - 1) if b'"' not in self._buffer and b"'" not in self._buffer else 0
                if not await self._more():
                    text = self._buffer.decode("ascii", "replace").strip()
                    self._buffer.clear()
                    return (text, None) if text else None
                continue
            if match.start() > self.max_line:
                raise MessageTooLong(f"a message of {match.start()} bytes, more than {self.max_line}")
            head = self._buffer[: match.start()].decode("ascii", "replace").strip()
            if match.group() == b"\n":
                del self._buffer[: match.end()]
                return head, None
            block = await self._block(match.start())
            return head.rstrip(",").strip(), block

    async def _block(self, at: int) -> bytes:
        while len(self._buffer) < at + 2:
            if not await self._more():
                raise asyncio.IncompleteReadError(bytes(self._buffer), None)
        digits = chr(self._buffer[at + 1])
        if not digits.isdigit() or digits == "0":
            raise asyncio.IncompleteReadError(b"", None)  # indefinite or malformed blocks close the connection
        n = int(digits)
        while len(self._buffer) < at + 2 + n:
            if not await self._more():
                raise asyncio.IncompleteReadError(bytes(self._buffer), None)
        size_text = bytes(self._buffer[at + 2: at + 2 + n])
        if not size_text.isdigit():
            raise asyncio.IncompleteReadError(b"", None)
        begin = at + 2 + n
        if int(size_text) > self.max_block:
            raise MessageTooLong(f"a block of {int(size_text)} bytes declared, more than {self.max_block}")
        end = begin + int(size_text)
        while len(self._buffer) < end:
            if not await self._more():
                raise asyncio.IncompleteReadError(bytes(self._buffer), None)
        block = bytes(self._buffer[begin:end])
        if len(self._buffer) > end and self._buffer[end] == ord("\n"):
            end += 1
        del self._buffer[:end]
        return block


def split_commands(text: str) -> list[str]:
    """``A 1;B?`` -> ``["A 1", "B?"]`` (semicolons inside quotes are kept)."""
    parts = re.findall(r'(?:"[^"]*"|\'[^\']*\'|[^;])+', text)
    return [p.strip() for p in parts if p.strip()]


def _corrupt(payload: bytes) -> bytes:
    return b"#9XYZ" + payload[: len(payload) // 2]
