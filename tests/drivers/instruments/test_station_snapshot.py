"""The station snapshot of a run is walked again only after a parameter changed: a run after nothing was set
records the very snapshot of the previous one, a set (or a read that finds a new value) changes the recorded,
content-addressed snapshot to one holding the new value."""

from __future__ import annotations

import json
from pathlib import Path

from instrument_sweeps import FRAMES, rabi

from qubitlab.drivers.executor import Executor
from qubitlab.pulse.compiler import compile


def _recorded(runs: Path) -> list[dict]:
    """The run records, oldest first, each with the station snapshot it names read back from disk."""
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    for record in records:
        record["station"] = json.loads((runs / record["station_snapshot"]).read_text())
    return records


def _lo_phase(station: dict, lo: str = "lo_q0") -> float:
    return station["instruments"][lo]["parameters"]["phase"]["value"]


def test_runs_with_nothing_set_in_between_reuse_the_snapshot(rig, tmp_path) -> None:
    executor = Executor(rig.executor.station, rig.lab, runs_dir=tmp_path)
    program = compile(rabi(0.02), rig.lab, FRAMES)
    first = executor.run(program, shots=10)
    second = executor.run(program, shots=10)      # its liveness reads find the same values: nothing changed
    assert second.snapshot is first.snapshot      # not walked again
    one, two = _recorded(tmp_path)
    assert one["station_snapshot"] == two["station_snapshot"]


def test_a_set_between_runs_changes_the_recorded_snapshot(rig, tmp_path) -> None:
    station = rig.executor.station
    lo = station.components["lo_q0"]
    executor = Executor(station, rig.lab, runs_dir=tmp_path)
    program = compile(rabi(0.02), rig.lab, FRAMES)
    before = float(lo.phase())
    try:
        executor.run(program, shots=10)
        lo.phase(before + 12.5)                   # a parameter the program does not touch, set by hand
        changed = executor.run(program, shots=10)
        assert _lo_phase(changed.snapshot) == before + 12.5
        one, two = _recorded(tmp_path)
        assert one["station_snapshot"] != two["station_snapshot"]
        assert _lo_phase(one["station"]) == before and _lo_phase(two["station"]) == before + 12.5
        # the instrument changed behind the driver's back: a read that finds the new value counts as a change
        rig.virtual.instruments["lo_q0"].settings["SOURce:PHASe"] = repr(before + 30.0)  # type: ignore[attr-defined]
        assert lo.phase.get() == before + 30.0
        read = executor.run(program, shots=10)
        assert _lo_phase(read.snapshot) == before + 30.0
        assert _lo_phase(_recorded(tmp_path)[2]["station"]) == before + 30.0
        # and set back, it is recorded back (the raw value differs from the first run's: QCoDeS keeps the
        # string it read there and the float it was set to here, so the content address differs too)
        lo.phase(before)
        executor.run(program, shots=10)
        records = _recorded(tmp_path)
        assert _lo_phase(records[3]["station"]) == before
        assert len({r["station_snapshot"] for r in records}) == 4
    finally:
        lo.phase(before)


def test_a_component_added_to_the_station_is_in_the_next_snapshot(rig) -> None:
    from qcodes.parameters import Parameter

    station = rig.executor.station
    executor = Executor(station, rig.lab)
    program = compile(rabi(0.02), rig.lab, FRAMES)
    executor.run(program, shots=10)
    knob = Parameter("bench_attenuation", set_cmd=None, initial_value=3.0)
    station.add_component(knob)
    try:
        assert executor.run(program, shots=10).snapshot["parameters"]["bench_attenuation"]["value"] == 3.0
        knob(6.0)
        assert executor.run(program, shots=10).snapshot["parameters"]["bench_attenuation"]["value"] == 6.0
    finally:
        station.remove_component("bench_attenuation")
