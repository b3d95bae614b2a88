"""Fuzzing the wire-protocol decoder, first as a function, then through a live daemon over a real CURVE socket.

Properties: :func:`decode` returns a :class:`Message` or raises :class:`ProtocolError` with a message, never
anything else, within hypothesis' deadline; an accepted message's arrays are exactly as long as their buffers say
(checked here with integer arithmetic, not numpy); valid content survives a round trip. Against the daemon every
hostile message gets one error reply, the daemon process stays alive, and a well-behaved client is served after.
Hand-written regressions pin the three decoder crashes this fuzzing found (overflowing shapes, an empty array
with a dimension numpy cannot hold, nesting deeper than the interpreter's stack).
"""

from __future__ import annotations

import math
import time
from typing import Any

import msgpack
import numpy as np
import pytest
import zmq
from daemon_lab import Lab
from fuzz_budget import budget
from hypothesis import given
from hypothesis import strategies as st

from qubitlab.errors import ProtocolError
from qubitlab.runtime import keys as keyfiles
from qubitlab.runtime.protocol import ALLOWED_DTYPES, Message, MsgType, decode, encode

LIMIT = 1 << 16
DTYPES = sorted(ALLOWED_DTYPES) + ["|O", "<U4", "<V8", "float128", "", "<f8x", "<M8[s]"]
FIELDS = ("protocol_version", "msg_id", "msg_type", "session", "sent_at", "parent_id", "content")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1), st.floats(), st.text(max_size=8),
                    st.binary(max_size=8))
array_specs = st.fixed_dictionaries({"__nd__": st.one_of(st.integers(-2, 4), scalars),
                                     "dtype": st.one_of(st.sampled_from(DTYPES), scalars),
                                     "shape": st.one_of(st.lists(st.integers(-1, 2**64 - 1), max_size=4), scalars)})
values = st.recursive(st.one_of(scalars, array_specs,
                                st.fixed_dictionaries({"__nd__c": st.lists(scalars, max_size=3)}),
                                st.fixed_dictionaries({"__packed__": st.integers(-1, 3)})),
                      lambda inner: st.one_of(st.lists(inner, max_size=4),
                                              st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=20)


def valid_header(**overrides: Any) -> dict[str, Any]:
    header: dict[str, Any] = {"protocol_version": 1, "msg_id": "m1", "msg_type": "hello", "session": None,
                              "sent_at": 1.0, "parent_id": None, "content": {}}
    header.update(overrides)
    return header


headers = st.builds(lambda base, drop, extra, content: {**{k: v for k, v in base.items() if k not in drop},
                                                         **extra, "content": content},
                    st.just(valid_header()), st.sets(st.sampled_from(FIELDS), max_size=2),
                    st.dictionaries(st.sampled_from(FIELDS[:-1]), scalars, max_size=2),
                    st.one_of(st.dictionaries(st.text(max_size=6), values, max_size=4), values))
buffers = st.lists(st.binary(max_size=64), max_size=4)


def arrays_in(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [a for v in value.values() for a in arrays_in(v)]
    if isinstance(value, list):
        return [a for v in value for a in arrays_in(v)]
    return []


def decoded_or_refused(frames: list[bytes]) -> Message | None:
    """The property every input must have: a Message or a ProtocolError with a message; nothing else."""
    try:
        message = decode(frames, max_bytes=LIMIT)
    except ProtocolError as exc:
        assert str(exc).strip(), "a ProtocolError without a message"
        return None
    assert isinstance(message.msg_type, MsgType) and isinstance(message.content, dict)
    return message


def packed(header: Any) -> bytes:
    data: bytes = msgpack.packb(header, use_bin_type=True)
    return data


@budget(300)
@given(st.lists(st.binary(max_size=200), min_size=0, max_size=5))
def test_random_frames_are_decoded_or_refused(frames: list[bytes]) -> None:
    decoded_or_refused(frames)


@budget(400)
@given(headers, buffers)
def test_forged_envelopes_are_refused_or_carry_consistent_arrays(header: dict[str, Any], extra: list[bytes]) -> None:
    message = decoded_or_refused([packed(header), *extra])
    if message is None:
        return
    arrays = arrays_in(message.content)
    assert len(arrays) <= len(extra)
    sizes = sorted(len(b) for b in extra)
    for array in arrays:                                   # shape x itemsize, in Python integers, is a buffer
        assert math.prod(array.shape) * array.dtype.itemsize in sizes
        assert array.dtype.str in ALLOWED_DTYPES and not array.dtype.hasobject


def valid_frames(seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    content = {"kind": "sleep", "inputs": {"seconds": 0.0, "iq": rng.normal(size=(3, 2)) + 0j,
                                           "bits": rng.integers(0, 2, size=5, dtype=np.uint8)},
               "nested": [{"a": [1, 2.5, "x", None, True]}]}
    return [bytes(f) for f in encode(Message(MsgType.SUBMIT, content))]


@budget(400)
@given(st.integers(0, 3), st.data())
def test_mutated_valid_messages_are_decoded_or_refused(seed: int, data: st.DataObject) -> None:
    frames = valid_frames(seed)
    action = data.draw(st.sampled_from(["flip", "truncate", "extend", "drop_frame", "add_frame", "swap"]))
    index = data.draw(st.integers(0, len(frames) - 1))
    target = bytearray(frames[index])
    if action == "flip" and target:
        for position in data.draw(st.lists(st.integers(0, len(target) - 1), min_size=1, max_size=8)):
            target[position] = data.draw(st.integers(0, 255))
    elif action == "truncate":
        del target[data.draw(st.integers(0, len(target))):]
    elif action == "extend":
        target += data.draw(st.binary(min_size=1, max_size=32))
    frames[index] = bytes(target)
    if action == "drop_frame":
        del frames[index]
    elif action == "add_frame":
        frames.insert(index, data.draw(st.binary(max_size=32)))
    elif action == "swap" and len(frames) > 2:
        frames[1], frames[2] = frames[2], frames[1]
    decoded_or_refused(frames)


contents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False),
              st.text(max_size=10),
              st.builds(lambda dtype, shape, seed: np.random.default_rng(seed).integers(0, 100, size=shape)
                        .astype(dtype), st.sampled_from(["<f8", "<c16", "|u1", "<i4", "|b1", ">f4"]),
                        st.lists(st.integers(0, 3), max_size=3), st.integers(0, 10))),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=15)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b) and type(a) is type(b)


@budget(200)
@given(st.dictionaries(st.text(max_size=5), contents, max_size=4))
def test_valid_content_round_trips(content: dict[str, Any]) -> None:
    back = decode([bytes(f) for f in encode(Message(MsgType.RESULT, content))])
    assert same(content, dict(back.content))


@pytest.mark.parametrize(("content", "frames", "match"), [
    ({"a": {"__nd__": 0, "dtype": "<f8", "shape": [2**63]}}, [b""], "need 73786976294838206464"),
    ({"a": {"__nd__": 0, "dtype": "<f8", "shape": [2**32, 2**32]}}, [b""], "truncated or corrupt"),
    ({"a": {"__nd__": 0, "dtype": "<f8", "shape": [0, 2**63]}}, [b""], "not one numpy can hold"),
])
def test_shapes_beyond_int64_or_numpy_are_protocol_errors(content: dict[str, Any], frames: list[bytes],
                                                          match: str) -> None:
    with pytest.raises(ProtocolError, match=match):        # were OverflowError / ValueError before
        decode([packed(valid_header(content=content)), *frames])


def nested(depth: int) -> bytes:
    """A header whose content is ``{"a": [[[...None...]]]}`` ``depth`` lists deep, written as raw msgpack."""
    head = packed({k: v for k, v in valid_header().items() if k != "content"})
    return b"\x87" + head[1:] + packed("content") + b"\x81" + packed("a") + b"\x91" * depth + b"\xc0"


@pytest.mark.parametrize("depth", [101, 900, 5000])
def test_deep_nesting_is_a_protocol_error_not_a_recursion_error(depth: int) -> None:
    with pytest.raises(ProtocolError, match="nests|not valid msgpack"):
        decode([nested(depth)])
    assert decode([nested(99)]).content["a"] is not None   # within the limit: decoded


# -- against a live daemon ---------------------------------------------------------------------------------------
@pytest.fixture
def raw_socket(lab: Lab) -> Any:
    """A DEALER socket with bob's CURVE key: the wire as any client could write it."""
    assert lab.daemon.server_key is not None
    mine = keyfiles.load(lab.keys["bob"])
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.curve_secretkey, socket.curve_publickey = mine.secret, mine.public
    socket.curve_serverkey = keyfiles.load(lab.daemon.server_key).public
    socket.connect(lab.daemon.address)
    yield socket
    socket.close()
    context.term()


hostile = st.one_of(
    st.lists(st.binary(max_size=100), min_size=1, max_size=4),
    st.tuples(headers, buffers).map(lambda hb: [packed(hb[0]), *hb[1]]),
    st.sampled_from([[packed(valid_header(content={"a": {"__nd__": 0, "dtype": "<f8", "shape": [0, 2**63]}})),
                      b""], [nested(900)], [packed(valid_header(msg_type="error"))]]))


def test_the_daemon_answers_every_hostile_message_and_keeps_serving(lab: Lab, raw_socket: Any) -> None:
    sent = 0

    @budget(150, deadline_ms=None)
    @given(hostile)
    def one(frames: list[bytes]) -> None:
        nonlocal sent
        raw_socket.send_multipart(frames)
        sent += 1
        start = time.monotonic()
        assert raw_socket.poll(10_000), f"no reply within 10 s to {frames!r:.200}"
        reply = decode(raw_socket.recv_multipart())
        assert time.monotonic() - start < 10
        if reply.msg_type is MsgType.ERROR:                # refused, with a typed error and a message
            error = reply.content["error"]
            assert error["type"] in ("ProtocolError", "JobError") and error["message"], error
        assert lab.daemon.process.poll() is None, "the daemon died: " + " | ".join(lab.daemon.log[-5:])

    one()
    assert sent >= 1
    with lab.service("alice") as service:
        assert service.hello()["client"] == "alice"
        assert service.submit("sleep", {"seconds": 0.0, "echo": "after"}).result(timeout=60)["echo"] == "after"
