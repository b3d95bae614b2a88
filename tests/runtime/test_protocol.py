"""The wire protocol alone (no sockets), then malformed traffic to a running daemon over a real socket."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
import zmq
from daemon_lab import Lab

from qubitlab.errors import CalibrationError, ProtocolError, QubitlabError
from qubitlab.runtime.protocol import Message, MsgType, decode, encode, error_to_wire, pack, unpack


def header(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"protocol_version": 1, "msg_id": "m1", "msg_type": "hello", "session": None,
                               "sent_at": 1.0, "parent_id": None, "content": {}}
    base.update(overrides)
    return base


def test_arrays_travel_as_their_own_frames_and_come_back_equal() -> None:
    iq = (np.arange(12) + 1j * np.arange(12)[::-1]).reshape(3, 4)
    bits = np.array([[0, 1], [1, 1]], dtype=np.uint8)
    message = Message(MsgType.RESULT, {"memory": {"0": iq}, "bits": bits, "empty": np.zeros((0, 5)),
                                       "z": 1 + 2j, "n": np.int64(3), "nested": [{"a": np.float32(0.5)}]})
    frames = encode(message)
    assert len(frames) == 4 and bytes(frames[1]) == iq.tobytes()      # the array's own bytes, one frame each
    back = decode([bytes(f) for f in frames])
    np.testing.assert_array_equal(back.content["memory"]["0"], iq)
    np.testing.assert_array_equal(back.content["bits"], bits)
    assert back.content["empty"].shape == (0, 5)
    assert back.content["z"] == 1 + 2j and back.content["n"] == 3 and back.content["nested"] == [{"a": 0.5}]
    assert (back.msg_id, back.msg_type) == (message.msg_id, MsgType.RESULT)


@pytest.mark.parametrize(("frames", "match"), [
    ([b"\xc1garbage"], "not valid msgpack"),
    ([msgpack.packb([1, 2])], "header must be a map"),
    ([msgpack.packb(header(protocol_version=99))], "protocol version 99 is not supported"),
    ([msgpack.packb(header(msg_type="format_disk"))], "unknown message type 'format_disk'"),
    ([msgpack.packb(header(msg_id=5))], "must be strings"),
    ([msgpack.packb(header(content={"a": {"__nd__": 0, "dtype": "<f8", "shape": [100]}})), b"\x00" * 10],
     "holds 10 bytes.*need 800"),
    ([msgpack.packb(header(content={"a": {"__nd__": 0, "dtype": "|O", "shape": [1]}})), b"\x00" * 8],
     "dtype '|O' is not accepted"),
    ([msgpack.packb(header(content={"a": {"__nd__": 3, "dtype": "<f8", "shape": [1]}})), b"\x00" * 8],
     "refers to buffer 3"),
    ([msgpack.packb(header()), b"stray"], "carries 1 buffers but its content refers to 0"),
    ([msgpack.packb(header(content={"x": msgpack.ExtType(1, b"code")}))], "extension type 1"),
    ([b"\x00" * 2048], "exceeds the limit of 1024 bytes"),
])
def test_malformed_messages_are_protocol_errors(frames: list[bytes], match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decode(frames, max_bytes=1024)


def test_errors_cross_as_the_nearest_allowed_type() -> None:
    class Private(CalibrationError):
        pass

    assert error_to_wire(Private("no x_amp")) == {"type": "CalibrationError", "message": "no x_amp"}
    assert error_to_wire(ValueError("bad"))["type"] == "QubitlabError"
    reply = Message(MsgType.HELLO).error_reply(Private("no x_amp"))
    with pytest.raises(CalibrationError, match="no x_amp"):
        decode([bytes(f) for f in encode(reply)]).raise_for_error()
    forged = Message(MsgType.ERROR, {"error": {"type": "SystemExit", "message": "bye"}})
    with pytest.raises(QubitlabError, match="SystemExit: bye"):
        forged.raise_for_error()


def test_stored_values_pack_and_unpack() -> None:
    value = {"counts": [{"00": 3}], "iq": np.ones((2, 2), dtype=np.complex64)}
    back = unpack(pack(value))
    assert back["counts"] == [{"00": 3}] and back["iq"].dtype == np.complex64


def test_the_daemon_answers_malformed_traffic_and_keeps_serving(lab: Lab) -> None:
    from qubitlab.runtime import keys as keyfiles

    assert lab.daemon.server_key is not None
    mine = keyfiles.load(lab.keys["bob"])
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.curve_secretkey, socket.curve_publickey = mine.secret, mine.public
    socket.curve_serverkey = keyfiles.load(lab.daemon.server_key).public
    socket.connect(lab.daemon.address)
    try:
        cases = [
            ([b"\xc1garbage"], "not valid msgpack"),
            ([msgpack.packb(header(protocol_version=2))], "protocol version 2"),
            ([msgpack.packb(header(msg_type="reboot"))], "unknown message type"),
            ([msgpack.packb(header(content={"a": {"__nd__": 0, "dtype": "<f8", "shape": [4]}})), b"\x00" * 3],
             "truncated or corrupt"),
            ([msgpack.packb(header()), b"\x00" * (65 * 2**20 - 100)], "exceeds the limit"),   # over 64 MiB
            ([msgpack.packb(header(msg_type="error"))], "not a request"),
        ]
        for frames, match in cases:
            socket.send_multipart(frames)
            assert socket.poll(20_000), f"no reply to a message expected to fail with {match!r}"
            reply = decode(socket.recv_multipart())
            assert reply.msg_type is MsgType.ERROR and reply.content["error"]["type"] == "ProtocolError"
            assert match in reply.content["error"]["message"]
        with lab.service("alice") as service:
            assert service.hello()["client"] == "alice"
    finally:
        socket.close()
        context.term()


def test_a_stored_value_is_its_frames_end_to_end_and_travels_as_them() -> None:
    from qubitlab.runtime.protocol import MAGIC, Packed

    iq = np.arange(6, dtype=np.complex128).reshape(2, 3)
    blob = pack({"memory": iq, "shots": 3})
    # QLV1: marker, 2 frames (u32), their lengths (u64 each), the msgpack head, then the array's raw bytes
    head_length = int.from_bytes(blob[8:16], "little")
    assert blob[:4] == MAGIC and int.from_bytes(blob[4:8], "little") == 2
    assert int.from_bytes(blob[16:24], "little") == iq.nbytes == 96
    assert blob[-96:] == iq.tobytes() and len(blob) == 24 + head_length + 96
    frames = encode(Message(MsgType.RESULT, {"result": Packed(blob)}))
    assert len(frames) == 3 and bytes(frames[2]) == iq.tobytes()      # sent as slices of the blob
    back = decode([bytes(f) for f in frames]).content["result"]
    np.testing.assert_array_equal(back["memory"], iq)
    assert back["shots"] == 3


def test_values_stored_before_qlv1_are_still_read() -> None:
    from qubitlab.runtime.protocol import Packed

    legacy = msgpack.packb({"value": {"iq": {"__nd__": 0, "dtype": "<f8", "shape": [2]}, "n": 1},
                            "buffers": [np.array([0.5, 1.5]).tobytes()]}, use_bin_type=True)
    for back in (unpack(legacy), decode([bytes(f) for f in encode(Message(MsgType.RESULT, {
            "r": Packed(legacy)}))]).content["r"]):
        assert back["n"] == 1 and back["iq"].tolist() == [0.5, 1.5]


@pytest.mark.parametrize("cut, match", [(10, "claims 2 frames"), (30, "runs past its end"),
                                        (-1, "runs past its end")])
def test_a_truncated_stored_value_is_a_protocol_error(cut: int, match: str) -> None:
    blob = pack({"x": np.ones(4)})
    with pytest.raises(ProtocolError, match=match):
        unpack(blob[:cut])
    with pytest.raises(ProtocolError, match="bytes after its last frame"):
        unpack(blob + b"\x00")
