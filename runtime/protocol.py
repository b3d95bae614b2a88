"""The daemon's wire protocol: a versioned msgpack envelope plus raw array buffers, over ZeroMQ multipart frames.

A message is one header frame and zero or more buffer frames::

    frame 0   msgpack map {protocol_version, msg_id, msg_type, session, sent_at, parent_id, content}
    frame k   the bytes of the k-th numpy array in ``content`` (C order), sent without a copy

Inside ``content`` an array is the map ``{"__nd__": k, "dtype": "<c16", "shape": [100, 1000]}``; decoding checks
the dtype against an allow-list (numbers and booleans only, never objects), the shape against the buffer's
length, and every index, so a truncated or forged buffer is a :class:`~qubitlab.errors.ProtocolError` and
never a numpy view past the end. Nothing is ever unpickled: msgpack gives maps, lists, strings, bytes, numbers
and booleans, and the decoder refuses msgpack extension types. Errors travel as ``{"type", "message"}`` and are
rebuilt only from :data:`qubitlab.errors.WIRE_ERRORS`.

As in jupyter_client the header names the protocol version and the message it answers (``parent_id``), and a
handler table (not ``getattr``) maps ``msg_type`` to code on each side.
"""

from __future__ import annotations

import enum
import math
import os
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np

from qubitlab.errors import WIRE_ERRORS, ProtocolError, QubitlabError, error_from_wire

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 2**20
"""Default limit on one message (header and buffers together); the daemon's ``--max-message`` changes it."""
MAX_HEADER_BYTES = 16 * 2**20
ALLOWED_DTYPES = frozenset(np.dtype(t).str for t in (
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64",
    "complex64", "complex128")) | frozenset(np.dtype(t).newbyteorder(">").str for t in (
        "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "complex64", "complex128"))
MAX_DEPTH = 100
"""Nesting limit of maps and lists in ``content`` (deeper would exhaust the decoder's stack)."""
_ND = "__nd__"
_NDC = _ND + "c"
_PACKED = "__packed__"


@dataclass(frozen=True)
class Packed:
    """A value already in :func:`pack` form (a stored result): sent as its own frame as it is, unpacked by
    the receiver, so the daemon never decodes and re-encodes what it only passes on."""

    data: bytes


class MsgType(enum.Enum):
    """Every message the daemon understands; a reply carries the request's type and its ``parent_id``."""

    HELLO = "hello"
    SUBMIT = "submit"
    STATUS = "status"
    RESULT = "result"
    CANCEL = "cancel"
    JOBS = "jobs"
    SESSION_OPEN = "session_open"
    SESSION_CLOSE = "session_close"
    SESSION_CANCEL = "session_cancel"
    SESSION_DETAILS = "session_details"
    SESSIONS = "sessions"
    BACKEND = "backend"
    STREAM = "stream"
    """A job's interim results after a sequence number (long poll, as ``result``)."""
    ERROR = "error"


@dataclass(frozen=True)
class Message:
    """One decoded message; ``content`` holds numpy arrays where the sender put them."""

    msg_type: MsgType
    content: Mapping[str, Any] = field(default_factory=dict)
    msg_id: str = field(default_factory=lambda: os.urandom(16).hex())    # as random as uuid4, 4x cheaper
    session: str | None = None
    parent_id: str | None = None
    sent_at: float = field(default_factory=time.time)
    protocol_version: int = PROTOCOL_VERSION

    def reply(self, content: Mapping[str, Any] | None = None) -> Message:
        return Message(self.msg_type, content or {}, session=self.session, parent_id=self.msg_id)

    def error_reply(self, exc: BaseException) -> Message:
        return Message(MsgType.ERROR, {"error": error_to_wire(exc)}, session=self.session, parent_id=self.msg_id)

    def raise_for_error(self) -> Message:
        """``self``, or the error it carries raised as the allow-listed qubitlab error."""
        if self.msg_type is MsgType.ERROR:
            error = self.content.get("error") or {}
            raise error_from_wire(str(error.get("type", "QubitlabError")), str(error.get("message", "")))
        return self


def error_to_wire(exc: BaseException) -> dict[str, str]:
    """``{type, message}``; the type is the nearest class of ``exc`` on the allow-list (a private subclass
    travels as its public base), anything not ours as ``QubitlabError`` with its class in the message."""
    name = next((cls.__name__ for cls in type(exc).__mro__ if WIRE_ERRORS.get(cls.__name__) is cls),
                "QubitlabError")
    text = str(exc) if isinstance(exc, QubitlabError) else f"internal error ({type(exc).__name__}): {exc}"
    return {"type": name, "message": text}


# -- encoding --------------------------------------------------------------------------------------------------------
def encode(message: Message) -> list[bytes | memoryview]:
    """The frames of ``message``: the header, then one buffer per array (views of the arrays, no copy)."""
    buffers: list[memoryview] = []
    header = {"protocol_version": message.protocol_version, "msg_id": message.msg_id,
              "msg_type": message.msg_type.value, "session": message.session, "sent_at": message.sent_at,
              "parent_id": message.parent_id, "content": _strip(message.content, buffers)}
    head: bytes = msgpack.packb(header, use_bin_type=True)
    return [head, *buffers]


_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
"""Types msgpack takes as they are (exact types: an IntEnum or a numpy scalar goes the long way)."""


def _strip(value: Any, buffers: list[memoryview]) -> Any:
    kind = type(value)
    if kind in _PLAIN:                       # most of a message: checked first, without the isinstance chain
        return value
    if kind is dict:
        return {str(k): _strip(v, buffers) for k, v in value.items()}
    if isinstance(value, Packed):
        if memoryview(value.data)[:4] != MAGIC:                  # stored before QLV1: sent as one frame
            buffers.append(memoryview(value.data))
            return {_PACKED: len(buffers) - 1}
        first = len(buffers)
        buffers.extend(frames_of(value.data))
        return {_PACKED: list(range(first, len(buffers)))}
    if isinstance(value, np.ndarray):
        array = value if value.flags.c_contiguous else np.ascontiguousarray(value)   # keeps a 0-d array 0-d
        if array.dtype.str not in ALLOWED_DTYPES:
            raise ProtocolError(f"cannot send an array of dtype {array.dtype}; numbers and booleans only")
        buffers.append(array.data.cast("B") if array.size else memoryview(b""))
        return {_ND: len(buffers) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, Mapping):
        return {str(k): _strip(v, buffers) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strip(v, buffers) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.complexfloating) or isinstance(value, complex):
        return {_NDC: [float(value.real), float(value.imag)]}
    return value


def decode(frames: Sequence[bytes | memoryview | Any], max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """A :class:`Message` from the frames of :func:`encode`; a :class:`ProtocolError` saying what is wrong
    otherwise (size, msgpack, version, type, buffers)."""
    if not frames:
        raise ProtocolError("empty message: expected a header frame")
    raw = [memoryview(f.buffer if hasattr(f, "buffer") else f) for f in frames]
    total = sum(f.nbytes for f in raw)
    if total > max_bytes:
        raise ProtocolError(f"message of {total} bytes exceeds the limit of {max_bytes} bytes "
                            f"({max_bytes / 2**20:g} MiB); send less per message or raise the daemon's limit")
    if raw[0].nbytes > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {raw[0].nbytes} bytes exceeds {MAX_HEADER_BYTES} bytes")
    try:
        header = msgpack.unpackb(raw[0], raw=False, strict_map_key=True, ext_hook=_no_ext)
    except ProtocolError:
        raise
    except Exception as exc:     # msgpack raises ValueError, ExtraData, FormatError, StackError, ...
        raise ProtocolError(f"header is not valid msgpack: {type(exc).__name__}: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header must be a map, got {type(header).__name__}")
    version = header.get("protocol_version")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r} is not supported: this side speaks version "
                            f"{PROTOCOL_VERSION}; upgrade the older of client and daemon")
    try:
        msg_type = MsgType(header.get("msg_type"))
    except ValueError:
        raise ProtocolError(f"unknown message type {header.get('msg_type')!r}; known: "
                            f"{', '.join(t.value for t in MsgType)}") from None
    msg_id, session, parent = header.get("msg_id"), header.get("session"), header.get("parent_id")
    if not isinstance(msg_id, str) or not (session is None or isinstance(session, str)) or not (
            parent is None or isinstance(parent, str)):
        raise ProtocolError("header fields msg_id, session and parent_id must be strings (session, parent_id "
                            "may be null)")
    sent_at = header.get("sent_at")
    if not isinstance(sent_at, (int, float)):
        raise ProtocolError("header field sent_at must be a number (seconds since the epoch)")
    content = header.get("content")
    if not isinstance(content, dict):
        raise ProtocolError(f"content must be a map, got {type(content).__name__}")
    used: set[int] = set()
    content = _restore(content, raw[1:], used)
    if len(used) != len(raw) - 1:
        raise ProtocolError(f"message carries {len(raw) - 1} buffers but its content refers to {len(used)}")
    return Message(msg_type, content, msg_id, session, parent, float(sent_at), PROTOCOL_VERSION)


def _no_ext(code: int, data: bytes) -> Any:
    raise ProtocolError(f"msgpack extension type {code} is not accepted (plain data only)")


def _restore(value: Any, buffers: Sequence[Any], used: set[int], depth: int = 0) -> Any:
    kind = type(value)                       # msgpack gives exactly dict and list for its containers
    if kind is not dict and kind is not list:
        return value
    if depth > MAX_DEPTH:
        raise ProtocolError(f"content nests maps and lists more than {MAX_DEPTH} levels deep")
    if kind is list:
        return [_restore(v, buffers, used, depth + 1) for v in value]
    if _ND in value:
        return _array(value, buffers, used)
    if _PACKED in value:
        return _packed(value[_PACKED], buffers, used)
    if _NDC in value:
        re_im = value[_NDC]
        if not (isinstance(re_im, list) and len(re_im) == 2 and all(isinstance(x, (int, float)) for x in re_im)):
            raise ProtocolError("a complex number must be [real, imag]")
        return complex(re_im[0], re_im[1])
    return {k: _restore(v, buffers, used, depth + 1) for k, v in value.items()}


def _packed(indices: Any, buffers: Sequence[Any], used: set[int]) -> Any:
    """A stored value sent by :class:`Packed`: its frames (head, then arrays) are message buffers ``indices``."""
    listed = indices if isinstance(indices, list) else [indices]
    if not listed or not all(isinstance(i, int) and 0 <= i < len(buffers) and i not in used for i in listed) or \
            len(set(listed)) != len(listed):
        raise ProtocolError(f"packed value refers to buffers {indices!r}; the message has {len(buffers)}")
    used.update(listed)
    try:
        if isinstance(indices, int):
            return _unpack_legacy(buffers[indices])
        return _unpack_frames(buffers[listed[0]], [buffers[i] for i in listed[1:]])
    except ProtocolError:
        raise
    except Exception as exc:
        raise ProtocolError(f"packed value in buffers {indices!r} is not a valid document: {exc}") from None


def _array(spec: dict[str, Any], buffers: Sequence[Any], used: set[int]) -> np.ndarray:
    index, dtype, shape = spec.get(_ND), spec.get("dtype"), spec.get("shape")
    if not isinstance(index, int) or not 0 <= index < len(buffers) or index in used:
        raise ProtocolError(f"array refers to buffer {index!r}; the message has {len(buffers)} buffers "
                            "(each used once)")
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype {dtype!r} is not accepted; numbers and booleans only")
    if not (isinstance(shape, list) and len(shape) <= 32 and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise ProtocolError(f"array shape {shape!r} must be a list of at most 32 non-negative integers")
    used.add(index)
    buffer = memoryview(buffers[index])
    expected = math.prod(shape) * np.dtype(dtype).itemsize          # Python integers: no overflow
    if buffer.nbytes != expected:
        raise ProtocolError(f"array buffer {index} holds {buffer.nbytes} bytes; dtype {dtype} and shape "
                            f"{tuple(shape)} need {expected} (truncated or corrupt)")
    try:
        return np.frombuffer(buffer, dtype=np.dtype(dtype)).reshape(shape)
    except (ValueError, OverflowError, TypeError) as exc:     # an empty array, a dimension beyond numpy's range
        raise ProtocolError(f"array shape {tuple(shape)} is not one numpy can hold: {exc}") from None


# -- plain values for storage ------------------------------------------------------------------------------------------
# A stored value is its frames end to end: MAGIC, the number of frames (u32), each frame's length (u64), then
# the frames -- the msgpack head first, then one raw buffer per array. The daemon sends a stored result as
# memoryview slices of the blob (one zmq frame each, no copy) and the receiver makes numpy arrays on the
# frames it received (no copy either); msgpack never sees the array bytes.
MAGIC = b"QLV1"
_COUNT = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")


def pack(value: Any) -> bytes:
    """``value`` (maps, lists, numbers, strings, numpy arrays) as one blob: what the job store keeps and the
    worker sends. The inverse is :func:`unpack`."""
    buffers: list[memoryview] = []
    head: bytes = msgpack.packb(_strip(value, buffers), use_bin_type=True)
    frames = [memoryview(head), *buffers]
    index = b"".join(_LENGTH.pack(f.nbytes) for f in frames)
    return b"".join([MAGIC, _COUNT.pack(len(frames)), index, *frames])


def frames_of(data: bytes | memoryview) -> list[memoryview]:
    """The frames inside a :func:`pack` blob, as views of it; a :class:`ProtocolError` if it is not one."""
    view = memoryview(data).cast("B")
    if view[:4] != MAGIC or view.nbytes < 8:
        raise ProtocolError("not a packed value: it does not start with the QLV1 marker")
    (count,) = _COUNT.unpack_from(view, 4)
    offset = 8 + count * _LENGTH.size
    if count < 1 or offset > view.nbytes:
        raise ProtocolError(f"packed value claims {count} frames but holds {view.nbytes} bytes")
    frames = []
    for k in range(count):
        (length,) = _LENGTH.unpack_from(view, 8 + k * _LENGTH.size)
        if offset + length > view.nbytes:
            raise ProtocolError(f"packed value: frame {k} of {length} bytes runs past its end (truncated)")
        frames.append(view[offset:offset + length])
        offset += length
    if offset != view.nbytes:
        raise ProtocolError(f"packed value: {view.nbytes - offset} bytes after its last frame")
    return frames


def unpack(data: bytes | memoryview) -> Any:
    """The value of a :func:`pack` blob; its arrays are read-only views of ``data``. A value stored by an
    earlier qubitlab (one msgpack document) is read too."""
    if memoryview(data)[:4] != MAGIC:
        try:
            return _unpack_legacy(data)
        except ProtocolError:
            raise
        except Exception as exc:
            raise ProtocolError(f"not a packed value (neither QLV1 nor a msgpack document): {exc}") from None
    frames = frames_of(data)
    return _unpack_frames(frames[0], frames[1:])


def _unpack_frames(head: Any, buffers: Sequence[Any]) -> Any:
    try:
        stripped = msgpack.unpackb(head, raw=False, ext_hook=_no_ext)
    except ProtocolError:
        raise
    except Exception as exc:
        raise ProtocolError(f"packed value is not valid msgpack: {type(exc).__name__}: {exc}") from None
    used: set[int] = set()
    value = _restore(stripped, buffers, used)
    if len(used) != len(buffers):
        raise ProtocolError(f"packed value carries {len(buffers)} buffers but refers to {len(used)}")
    return value


def _unpack_legacy(data: bytes | memoryview) -> Any:
    """A value stored before the QLV1 format (one msgpack document, arrays inline)."""
    document = msgpack.unpackb(data, raw=False, ext_hook=_no_ext)
    if not isinstance(document, dict) or not isinstance(document.get("buffers"), list) or "value" not in document:
        raise ProtocolError("not a packed document: expected a map with 'value' and 'buffers'")
    used: set[int] = set()
    return _restore(document["value"], document["buffers"], used)
