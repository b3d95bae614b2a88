"""Lab files a careless or hostile hand wrote: each is refused with a ConfigError naming file, key and fix.

Covers issue 23's lab-file items: non-finite numbers, physical bounds, outputs used twice, duplicate qubits,
duplicate YAML keys (with both line numbers), aliases, the size limit, binary and non-UTF-8 files, one LO at
two frequencies, a typo in ``device:``; and issue 14's control-channel lookup.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from qubitlab import load_lab
from qubitlab.config.yaml_file import MAX_BYTES, MAX_DEPTH
from qubitlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
LAB_2Q = ROOT / "lab_configs" / "virtual_2q.yaml"


def variant(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """virtual_2q.yaml changed by ``change`` (on the parsed data), written to ``tmp_path``."""
    data = yaml.safe_load(LAB_2Q.read_text())
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


def set_in(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data`` at ``dotted`` (``a.b.0.c``; digits index lists and integer-keyed mappings)."""
    *parents, last = dotted.split(".")
    node: Any = data
    for part in parents:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(int(part) if int_key(node, part) else part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[int(last) if int_key(node, last) else last] = value


def int_key(node: dict[Any, Any], part: str) -> bool:
    return part.isdigit() and int(part) in node


@pytest.mark.parametrize("key", [
    "wiring.lines.q0_drive.gain_db", "wiring.lines.q0_drive.lo_frequency", "wiring.lines.readout.lo_power",
    "timing.dt", "timing.awgs.awg.sample_rate", "timing.awgs.awg.max_if_bandwidth",
    "timing.digitizers.digitizer.sample_rate", "limits.awgs.awg.full_scale_vpp", "limits.awgs.awg.max_amplitude",
    "limits.los.lo_q0.frequency_range.1", "limits.los.lo_ro.power_range.0",
    "device.qubits.0.frequency", "device.qubits.1.t1", "device.qubits.0.dispersive_shift",
    "device.couplings.0.j", "device.crosstalk.0.phase", "device.qubits.0.readout_noise",
    "bringup.qubits.0.qubit_range.0", "bringup.readout_duration", "bringup.rep_delay",
    "instruments.awg.options.timeout",
])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_wherever_they_are(tmp_path: Path, key: str, value: float) -> None:
    message = refused(variant(tmp_path, lambda d: set_in(d, key, value)))
    shown = key.replace(".0", "[0]").replace(".1", "[1]")
    assert shown in message and "not a finite number" in message, message


@pytest.mark.parametrize("text", [".nan", ".inf", "-.Inf", "'nan'", "'-inf'", "1e400"])
def test_non_finite_numbers_in_any_spelling(tmp_path: Path, text: str) -> None:
    """YAML's own spellings, and strings pydantic would turn into inf or NaN."""
    source = LAB_2Q.read_text().replace("gain_db: -30.0}", f"gain_db: {text}}}", 1)
    path = tmp_path / "lab.yaml"
    path.write_text(source)
    message = refused(path)
    assert "wiring.lines.q0_drive.gain_db" in message and "finite" in message, message


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("wiring.lines.q0_drive.gain_db", -400.0, "-400 dB is outside the valid range [-150, 60] dB"),
    ("wiring.lines.q0_drive.gain_db", 90.0, "90 dB is outside the valid range [-150, 60] dB"),
    ("wiring.lines.q0_drive.lo_frequency", 5e19, "5e+19 Hz is outside the valid range (0, 100e9] Hz"),
    ("wiring.lines.q0_drive.lo_frequency", 0.0, "0 Hz is outside the valid range (0, 100e9] Hz"),
    ("wiring.lines.readout.lo_power", 300.0, "300 dBm is outside the valid range [-150, 40] dBm"),
    ("limits.los.lo_q0.power_range.1", 99.0, "99 dBm is outside the valid range [-150, 40] dBm"),
    ("timing.dt", 1.0, "1 s is outside the valid range [1e-12, 1e-6] s"),
    ("timing.dt", 1e-15, "1e-15 s is outside the valid range [1e-12, 1e-6] s"),
    ("timing.awgs.awg.min_length", 0, "0 samples is outside the valid range [1, 2^32] samples"),
    ("limits.awgs.awg.full_scale_vpp", 1e6, "1e+06 V is outside the valid range (0, 50] V"),
    ("limits.awgs.awg.max_amplitude", 1.5, "1.5 is outside the valid range (0, 1]"),
    ("device.qubits.0.t1", -1e-6, "-1e-06 s is outside the valid range (0, 3600] s"),
    ("device.qubits.1.anharmonicity", 3e8, "3e+08 Hz is outside the valid range [-10e9, 0) Hz"),
    ("device.qubits.0.readout_noise", -0.1, "-0.1 V is outside the valid range [0, 1000] V"),
    ("device.crosstalk.0.amplitude", 11.0, "11 is outside the valid range [0, 10]"),
    ("device.levels", 50, "less than or equal to 5"),
    ("device.seed", -1, "greater than or equal to 0"),
    ("topology.qubits.1", 5000, "5000 is outside the valid range [0, 1023] (a qubit index)"),
    ("bringup.readout_duration", 5.0, "5 s is outside the valid range (0, 1e-3] s"),
    ("bringup.rep_delay", -1e-3, "-0.001 s is outside the valid range [0, 10] s"),
    ("bringup.staleness.rabi", -5.0, "-5 s is outside the valid range (0, 3.2e8] s"),
])
def test_physical_bounds_name_the_valid_range(tmp_path: Path, key: str, value: Any, expected: str) -> None:
    message = refused(variant(tmp_path, lambda d: set_in(d, key, value)))
    shown = key.replace(".0.", "[0].").replace(".1.", "[1].").removesuffix(".1").removesuffix(".0")
    assert shown in message and expected in message, message


def test_an_output_used_twice_within_one_line(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["lines"]["q0_drive"].update(outputs=["1", "1"])))
    assert "wiring.lines.q0_drive.outputs[1]: output awg.1 is already this line's I output" in message


def test_duplicate_qubits_are_refused(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["topology"].update(qubits=[0, 1, 1])))
    assert "topology.qubits[2]: qubit 1 is listed twice in [0, 1, 1]; list each qubit once" in message
    message = refused(variant(tmp_path, lambda d: d["topology"].update(couplings=[[0, 1], [1, 0]])))
    assert "topology.couplings[1]: qubits 1 and 0 are coupled twice" in message


def test_a_qubit_given_as_number_and_as_string_is_one_qubit_twice(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["device"]["qubits"]["1"] = dict(d["device"]["qubits"][1])
    message = refused(variant(tmp_path, change))
    assert "device.qubits" in message and "qubit 1 is given twice (keys 1 and '1')" in message


def test_device_couplings_and_crosstalk_given_twice(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["device"]["couplings"].append({"qubits": [1, 0], "j": 1e6})))
    assert "device.couplings[1]: qubits (1, 0) are coupled twice; give each pair one j" in message
    message = refused(variant(tmp_path, lambda d: d["device"]["crosstalk"].append(dict(d["device"]["crosstalk"][0]))))
    assert "device.crosstalk[2]: line 0 reaching 1 is given twice" in message


def test_duplicate_yaml_keys_name_the_key_and_both_lines(tmp_path: Path) -> None:
    lines = LAB_2Q.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("t1: 6e-05")) + 1
    lines.insert(first, "      t1: 9e-05")  # a second t1 for qubit 0, on the next line
    path = tmp_path / "lab.yaml"
    path.write_text("\n".join(lines) + "\n")
    message = refused(path)
    assert f"device.qubits[0].t1: key 't1' appears twice, at line {first} and at line {first + 1}" in message


def test_duplicate_top_level_section(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB_2Q.read_text() + "name: again\n")
    message = refused(path)
    assert "name: key 'name' appears twice, at line 4 and at line" in message


def test_aliases_and_merge_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    text = LAB_2Q.read_text().replace("lo_q0: {frequency_range", "lo_q0: &lim {frequency_range", 1)
    path.write_text(text.replace("lo_q1: {frequency_range: [3.5e9, 6.5e9], power_range: [-20.0, 18.0]}",
                                 "lo_q1: *lim", 1))
    message = refused(path)
    assert "uses the YAML alias *lim" in message and "write the values out" in message
    path.write_text("name: x\nkind: virtual\ntopology: {<<: {qubits: [0]}}\n")
    assert "topology uses a YAML merge key '<<' at line 3" in refused(path)


def test_deep_nesting_is_refused_before_the_stack_is(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 5000 + "]" * 5000 + "\n")
    assert f"nesting deeper than {MAX_DEPTH} levels at line 1" in refused(path)


def test_size_limit_is_stated(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(LAB_2Q.read_text() + "#" * MAX_BYTES)
    message = refused(path)
    assert "a lab file may be at most 1048576 bytes (1 MiB)" in message


def test_binary_and_non_utf8_files_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_bytes(b"name: x\x00\x01\x02")
    assert "is binary (it holds a NUL byte at offset 7)" in refused(path)
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    assert "is not UTF-8 text (invalid byte at offset 9); save it as UTF-8" in refused(path)


def test_one_lo_on_two_lines_at_different_frequencies(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["wiring"]["lines"]["q1_drive"]["lo"] = "lo_q0"
    message = refused(variant(tmp_path, change))
    assert ("wiring.lines.q1_drive.lo_frequency: LO 'lo_q0' also pumps line 'q0_drive' at 4.9e+09 Hz; one LO has "
            "one setting, so give both lines 4.9e+09 Hz or wire a second LO") in message

    def same_frequency(d: dict[str, Any]) -> None:
        change(d)
        d["wiring"]["lines"]["q1_drive"]["lo_frequency"] = 4.9e9
    load_lab(variant(tmp_path, same_frequency))  # the same setting on both lines is fine


def test_a_typo_in_device_lists_the_allowed_keys(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["device"].update(coupling=[])))
    assert "device.coupling: unknown key 'coupling'; allowed here: qubits, couplings, crosstalk, levels, seed" in message
    message = refused(variant(tmp_path, lambda d: d["device"]["qubits"][0].update(T1=1e-5)))
    assert "device.qubits[0].T1: unknown key 'T1'; allowed here: frequency, anharmonicity, t1, t2" in message


def test_channel_names_with_leading_zeros_would_alias_a_qubit(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d["wiring"]["channels"].update(d01={"line": "q1_drive"})))
    assert "wiring.channels.d01: channel names are d<qubit>" in message and "without leading zeros" in message


def test_two_control_channels_for_one_direction(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["wiring"]["channels"]["u7"] = {"line": "q0_drive", "control": 0, "target": 1}
    assert "wiring.channels.u7: u0 already drives qubit 0 at qubit 1's frequency" in refused(variant(tmp_path, change))


def test_a_huge_value_is_quoted_short(tmp_path: Path) -> None:
    message = refused(variant(tmp_path, lambda d: d.update(kind="x" * 200_000)))
    assert "kind:" in message and len(message) < 500, len(message)


def test_control_channel_lookup() -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    expected = {0: (0, 1), 1: (1, 0), 2: (1, 2), 3: (2, 1), 4: (2, 3), 5: (3, 2), 6: (3, 4), 7: (4, 3)}
    assert lab.control_channels() == expected and list(lab.control_channels()) == sorted(expected)
    assert lab.control_channel_for(2, 3) == 4 and lab.control_channel_for(4, 3) == 7
    assert lab.control_channel((3, 2)) == [5] and lab.control_channel((0, 4)) == []
    with pytest.raises(ConfigError) as info:
        lab.control_channel_for(0, 4)
    message = str(info.value)
    assert "lab 'virtual_5q': no control channel drives qubit 0 at qubit 4's frequency" in message
    assert "u0 (0->1), u1 (1->0), u2 (1->2)" in message


def test_the_config_layer_imports_no_layer_above_it() -> None:
    """In a fresh interpreter: errors, units and config load nothing of drivers, pulse, circuits, calibration,
    runtime (the shell's bottom half)."""
    code = ("import sys, qubitlab.errors, qubitlab.units, qubitlab.config\n"
            "qubitlab.config.load_lab(sys.argv[1])\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('qubitlab.'))))")
    out = subprocess.run([sys.executable, "-c", code, str(LAB_2Q)], capture_output=True, text=True, check=True).stdout
    loaded = out.split()
    assert "qubitlab.config.device" in loaded
    layers = ("drivers", "pulse", "circuits", "calibration", "runtime")
    assert [m for m in loaded if m.split(".")[1] in layers] == []
