"""Lab configuration: the shipped files load, and every kind of mistake is refused naming file, key and fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from qubitlab import load_lab
from qubitlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
LABS = sorted((ROOT / "lab_configs").glob("*.yaml"))


@pytest.mark.parametrize("path", LABS, ids=[p.stem for p in LABS])
def test_shipped_lab_files_load(path: Path) -> None:
    lab = load_lab(path)
    assert lab.source == path.resolve()
    for q in lab.qubits:
        assert lab.line_of(f"d{q}").kind == "drive"
        assert lab.line_of(f"m{q}").kind == "readout"


def test_lookups_of_the_two_qubit_lab() -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
    assert lab.dt == 1e-9 and lab.qubits == [0, 1] and lab.couplings == [(0, 1)]
    assert lab.control_channel((0, 1)) == [0] and lab.control_channel((1, 0)) == [1]
    assert lab.line_of("u0") == lab.line_of("d0")
    assert lab.output_limits("awg", "1").max_amplitude == 0.9
    assert lab.store_path() == (ROOT / "lab_configs" / ".qubitlab")


def variant(tmp_path: Path, change: Callable[[dict[str, Any]], None], base: str = "virtual_2q") -> Path:
    data = yaml.safe_load((ROOT / "lab_configs" / f"{base}.yaml").read_text())
    data = copy.deepcopy(data)
    change(data)
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_lab(path)
    message = str(info.value)
    assert str(path) in message  # every message names the file
    return message


def test_unknown_key_at_the_top(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d.update(colour="blue")))
    assert "unknown key 'colour'" in message and "allowed here: name, kind" in message


def test_unknown_key_deep_inside(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["lines"]["q0_drive"].update(atten=3)))
    assert "wiring.lines.q0_drive.atten: unknown key 'atten'" in message
    assert "gain_db" in message  # the allowed keys are listed


def test_wire_to_a_missing_instrument(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["lines"]["q0_drive"].update(awg="awg9")))
    assert "wiring.lines.q0_drive.awg: no instrument named 'awg9'" in message and "instruments: awg" in message


def test_wire_to_a_missing_channel_of_a_known_instrument(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["lines"]["q0_drive"].update(outputs=["1", "9"])))
    assert "wiring.lines.q0_drive.outputs[1]: awg (tektronix_awg5208) has no output '9'" in message
    assert "1, 2, 3, 4, 5, 6, 7, 8" in message


def test_duplicate_output(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["lines"]["q1_drive"].update(outputs=["2", "3"])))
    assert "wiring.lines.q1_drive.outputs[0]: output awg.2 is already wired to line 'q0_drive'" in message


def test_sample_rate_not_a_multiple_of_one_over_dt(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["timing"]["awgs"]["awg"].update(sample_rate=1.5e9)))
    assert "timing.awgs.awg.sample_rate: 1.5e+09 S/s is not a whole multiple of 1/dt" in message
    assert "use 2e+09" in message


def test_lo_frequency_outside_its_limits(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["lines"]["q0_drive"].update(lo_frequency=7.5e9)))
    assert "wiring.lines.q0_drive.lo_frequency: 7.5e+09 Hz is outside limits.los.lo_q0.frequency_range" in message


def test_control_channel_between_uncoupled_qubits(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["wiring"]["channels"]["u2"] = {"line": "q0_drive", "control": 0, "target": 3}
    message = refused(variant(tmp_path, change))
    assert "wiring.channels.u2: qubits 0 and 3 are not coupled; couplings: [(0, 1)]" in message


def test_channel_on_the_wrong_kind_of_line(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["channels"].update(m0={"line": "q0_drive"})))
    assert "wiring.channels.m0.line: 'q0_drive' is a drive line; m0 needs a readout line" in message


def test_every_qubit_needs_its_channels(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["channels"].pop("a1")))
    assert "qubit 1 has no a1 channel" in message


def test_unknown_driver_lists_the_known_ones(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["instruments"]["awg"].update(driver="keysight_m3202a")))
    assert "instruments.awg.driver: unknown driver 'keysight_m3202a'" in message
    assert "rs_sgs100a, tektronix_awg5208" in message


def test_real_lab_needs_addresses(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d.update(kind="real")))
    assert "instruments.awg.address: a real lab needs a VISA address" in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nkind: virtual\ninstruments: {awg: [\n")
    message = refused(path)
    assert "is not valid YAML at line" in message


def test_missing_file_and_wrong_top_level(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_lab(tmp_path / "nope.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    assert "the top level must be a mapping" in refused(path)


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["timing"]["dt"] = -1
        d["limits"]["awgs"]["awg"]["max_amplitude"] = 1.5
    message = refused(variant(tmp_path, change))
    assert "2 problems" in message
    assert "timing.dt" in message and "limits.awgs.awg.max_amplitude" in message


def test_virtual_lab_needs_a_device_matching_its_topology(tmp_path: Path) -> None:
    assert "a virtual lab needs a 'device' section" in refused(variant(tmp_path, lambda d: d.pop("device")))
    def drop_qubit_1(d: dict[str, Any]) -> None:
        d["device"]["qubits"].pop(1)
        d["device"]["couplings"] = []
        d["device"]["crosstalk"] = []
    message = refused(variant(tmp_path, drop_qubit_1))
    assert "device.qubits [0] must be the topology's qubits [0, 1]" in message


def test_device_values_are_checked_with_their_key(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["device"]["qubits"][0].update(t2=1.0)))
    assert "device.qubits[0]" in message and "exceeds 2 t1" in message
