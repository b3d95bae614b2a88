"""Snapshots: content ids, diffs, lookups and the frame frequencies the pulse compiler takes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from qubitlab.calibration import ChangeKind, Entry, RunId, Snapshot
from qubitlab.config import LabConfig
from qubitlab.errors import CalibrationError

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)


def entry(key: str, value: float, unit: str = "Hz", stderr: float | None = None, timestamp: float = 0.0,
          run: str = "r1") -> Entry:
    return Entry(key, value, unit, stderr, timestamp, RunId(run))


def test_the_id_is_the_documented_hash_of_sorted_content_and_ignores_time_and_provenance() -> None:
    empty = Snapshot({}, T0)
    assert empty.id == "e3b0c44298fc1c14"                      # sha256 of nothing
    one = Snapshot({"q0.frequency": entry("q0.frequency", 5e9, stderr=1e3)}, T0)
    line = "q0.frequency\t5000000000.0\tHz\t1000.0\n"
    assert one.id == hashlib.sha256(line.encode()).hexdigest()[:16]
    later = Snapshot({"q0.frequency": entry("q0.frequency", 5e9, stderr=1e3, timestamp=99.0, run="r2")}, T1)
    assert later.id == one.id and later == one and hash(later) == hash(one)


def test_any_content_difference_changes_the_id() -> None:
    base = {"q0.frequency": entry("q0.frequency", 5e9), "q0.x_amp": entry("q0.x_amp", 0.3, "")}
    ids = {
        Snapshot(base, T0).id,
        Snapshot({**base, "q0.x_amp": entry("q0.x_amp", 0.30000001, "")}, T0).id,       # value
        Snapshot({**base, "q0.x_amp": entry("q0.x_amp", 0.3, "", stderr=0.01)}, T0).id,  # stderr
        Snapshot({"q0.frequency": base["q0.frequency"]}, T0).id,                          # a key fewer
        Snapshot({"q1.frequency": entry("q1.frequency", 5e9), "q0.x_amp": base["q0.x_amp"]}, T0).id,  # key
    }
    assert len(ids) == 5
    reordered = Snapshot(dict(reversed(list(base.items()))), T0)
    assert reordered.id == Snapshot(base, T0).id


def test_diff_lists_added_removed_and_changed_keys_with_old_and_new() -> None:
    old = Snapshot({"q0.frequency": entry("q0.frequency", 5.0e9), "q0.t1": entry("q0.t1", 6e-5, "s"),
                    "q1.frequency": entry("q1.frequency", 5.1e9)}, T0)
    new = Snapshot({"q0.frequency": entry("q0.frequency", 5.001e9), "q1.frequency": entry("q1.frequency", 5.1e9),
                    "q0.x_amp": entry("q0.x_amp", 0.3, "")}, T1)
    changes = old.diff(new)
    assert [(c.key, c.kind) for c in changes] == [("q0.frequency", ChangeKind.CHANGED), ("q0.t1", ChangeKind.REMOVED),
                                                  ("q0.x_amp", ChangeKind.ADDED)]
    assert changes[0].old is not None and changes[0].old.value == 5.0e9
    assert changes[0].new is not None and changes[0].new.value == 5.001e9
    assert changes[1].new is None and changes[2].old is None
    assert new.diff(new) == []


def test_lookups_by_key_and_by_qubit() -> None:
    snap = Snapshot({"q0.frequency": entry("q0.frequency", 5e9), "q0.x_amp": entry("q0.x_amp", 0.3, ""),
                     "q1.frequency": entry("q1.frequency", 5.1e9), "q0-q1.cr_amp": entry("q0-q1.cr_amp", 0.2, "")}, T0)
    assert snap.value("q0.x_amp") == 0.3
    assert snap.value("q1.x_amp", None) is None and snap.value("q1.x_amp", 0.5) == 0.5
    with pytest.raises(CalibrationError, match="no value for 'q1.x_amp'"):
        snap.value("q1.x_amp")
    assert snap.qubit(0) == {"frequency": 5e9, "x_amp": 0.3}
    assert snap.pair(0, 1) == {"cr_amp": 0.2}
    with pytest.raises(TypeError):
        snap["q0.x_amp"] = entry("q0.x_amp", 0.4, "")  # type: ignore[index]


def test_frames_of_virtual_2q_put_the_target_frequency_on_control_channels(lab: LabConfig) -> None:
    snap = Snapshot({"q0.frequency": entry("q0.frequency", 4.997e9), "q1.frequency": entry("q1.frequency", 5.093e9),
                     "q0.readout_frequency": entry("q0.readout_frequency", 7.0505e9),
                     "q0.resonator_frequency": entry("q0.resonator_frequency", 7.051e9),
                     "q1.resonator_frequency": entry("q1.resonator_frequency", 7.118e9)}, T0)
    assert snap.frames(lab) == {"d0": 4.997e9, "d1": 5.093e9, "u0": 5.093e9, "u1": 4.997e9,
                                "m0": 7.0505e9,          # the readout frequency when there is one
                                "m1": 7.118e9}           # else the resonator's


def test_frames_name_every_missing_key(lab: LabConfig) -> None:
    snap = Snapshot({"q0.frequency": entry("q0.frequency", 4.997e9)}, T0)
    with pytest.raises(CalibrationError) as info:
        snap.frames(lab)
    message = str(info.value)
    assert "q1.frequency (for d1)" in message and "q1.frequency (for u0)" in message
    assert "q0.readout_frequency or q0.resonator_frequency (for m0)" in message
    assert "d0" not in message.replace("(for d1)", "")


def test_frames_rule_matches_the_hand_written_table() -> None:
    """The circuits tests write virtual_2q's frames out by hand; the rule must give the same table."""
    from instrument_sweeps import FRAMES as derived

    assert derived == {"d0": 4.997e9, "d1": 5.093e9, "u0": 5.093e9, "u1": 4.997e9, "m0": 7.051e9, "m1": 7.118e9}


def test_frames_fall_back_to_the_bring_up_ranges_only_when_asked(lab: LabConfig) -> None:
    from qubitlab.calibration.frames import frames

    snap = Snapshot({"q0.frequency": entry("q0.frequency", 4.997e9)}, T0)
    guessed = frames(lab, snap, guesses=True)
    # virtual_2q's bring-up ranges: q1 5.05-5.15 GHz, resonators 7.03-7.07 and 7.10-7.14 GHz (middles)
    assert guessed == {"d0": 4.997e9, "d1": 5.10e9, "u0": 5.10e9, "u1": 4.997e9, "m0": 7.05e9, "m1": 7.12e9}
    assert frames(lab, snap, channels=["d0", "u1"]) == {"d0": 4.997e9, "u1": 4.997e9}
    with pytest.raises(CalibrationError, match=r"q1.frequency \(for d1\).*Run qubit_spectroscopy"):
        frames(lab, snap, channels=["d0", "d1"])
