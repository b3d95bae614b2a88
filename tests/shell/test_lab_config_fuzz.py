"""Property-based tests: whatever a lab file holds, load_lab answers with a LabConfig or a ConfigError, quickly,
and hostile files (alias bombs, oversized or endless files) are refused in bounded memory.

The examples mutate the shipped ``lab_configs/virtual_2q.yaml``: a leaf replaced by a random value (NaN,
infinities, huge, negative, strings, lists, ...), a key deleted, renamed or copied elsewhere, lines of the text
duplicated, dropped or garbled; and random YAML documents and bytes.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qubitlab import load_lab
from qubitlab.config.models import LabConfig
from qubitlab.config.yaml_file import MAX_BYTES, MAX_NODES
from qubitlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "lab_configs" / "virtual_2q.yaml").read_text()
DATA = yaml.safe_load(TEXT)
SECONDS = 2.0
"""Time bound per example (the shipped file loads in about 2 ms)."""
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(content: str | bytes) -> LabConfig | None:
    """Load ``content`` as a lab file: the LabConfig, or None after a ConfigError; anything else fails, and so
    does an example slower than SECONDS."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lab.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        start = time.perf_counter()
        try:
            lab: LabConfig | None = load_lab(path)
        except ConfigError as exc:
            assert str(path) in str(exc), str(exc)  # the message names the file
            assert len(str(exc)) < 5000, len(str(exc))  # and stays readable
            lab = None
        assert time.perf_counter() - start < SECONDS
    return lab


def leaves(data: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into ``data`` (mappings and lists), the containers' own paths included."""
    yield loc
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from leaves(value, (*loc, i))


PATHS = [p for p in leaves(DATA) if p]


def parent_of(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc[:-1]:
        data = data[part]
    return data


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40), st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 2**64]),
)
scalars = st.one_of(numbers, st.text(max_size=30), st.booleans(), st.none(),
                    st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "5 GHz", "", "~"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


@FUZZ
@given(where=st.sampled_from(PATHS), value=values)
def test_any_value_anywhere(where: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(DATA)
    parent_of(data, where)[where[-1]] = value
    outcome(yaml.safe_dump(data))


@FUZZ
@given(where=st.sampled_from(PATHS), key=st.one_of(st.text(max_size=12), st.integers(-3, 3)),
       action=st.sampled_from(["delete", "rename", "copy"]), into=st.sampled_from(PATHS))
def test_keys_deleted_renamed_or_copied(where: tuple[Any, ...], key: Any, action: str, into: tuple[Any, ...]) -> None:
    data = copy.deepcopy(DATA)
    parent = parent_of(data, where)
    value = parent[where[-1]]
    if action == "delete" or action == "rename":
        del parent[where[-1]]
        if action == "rename" and isinstance(parent, dict):
            parent[key] = value
    else:
        target = parent_of(data, into)[into[-1]] if into else data
        if isinstance(target, dict):
            target[key] = copy.deepcopy(value)
        elif isinstance(target, list):
            target.append(copy.deepcopy(value))
    outcome(yaml.safe_dump(data))


LINES = TEXT.splitlines()


@FUZZ
@given(line=st.integers(0, len(LINES) - 1), other=st.integers(0, len(LINES) - 1),
       action=st.sampled_from(["duplicate", "drop", "swap", "insert"]), junk=st.text(max_size=10),
       column=st.integers(0, 80))
def test_text_edits(line: int, other: int, action: str, junk: str, column: int) -> None:
    """Lines duplicated (duplicate keys), dropped, swapped, or garbled with random characters."""
    lines = list(LINES)
    if action == "duplicate":
        lines.insert(line, lines[line])
    elif action == "drop":
        del lines[line]
    elif action == "swap":
        lines[line], lines[other] = lines[other], lines[line]
    else:
        lines[line] = lines[line][:column] + junk + lines[line][column:]
    outcome("\n".join(lines) + "\n")


@FUZZ
@given(document=values)
def test_random_yaml_documents(document: Any) -> None:
    outcome(yaml.safe_dump(document))


@FUZZ
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_random_bytes_and_text(content: bytes | str) -> None:
    outcome(content)


def test_a_changed_number_that_stays_valid_still_loads() -> None:
    """The properties above can pass by refusing everything: the shipped file and a sane edit load."""
    lab = outcome(TEXT)
    assert lab is not None and lab.wiring.lines["q0_drive"].gain_db == -30.0
    edited = outcome(TEXT.replace("gain_db: -30.0}", "gain_db: -42.5}", 1))
    assert edited is not None and edited.wiring.lines["q0_drive"].gain_db == -42.5
    assert math.isclose(edited.wiring.lines["q1_drive"].gain_db, -30.0)


# -- memory bounds ---------------------------------------------------------------------------------------------
PEAK = 4 * 2**20
"""Bytes: a refused hostile file costs at most this much memory while loading."""


def peak_while_refusing(path: Path | str) -> tuple[int, str]:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as info:
            load_lab(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, str(info.value)


def test_billion_laughs_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """Nine levels of ten aliases each: 10^9 strings if expanded."""
    lines = ['name: &l0 "lol"']
    for level in range(1, 10):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    lines.append("description: *l9")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    peak, message = peak_while_refusing(path)
    assert "line 2 uses the YAML alias *l0; aliases are not allowed" in message
    assert peak < PEAK, peak


def test_an_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(64 * 2**20)  # 64 MiB, sparse
    peak, message = peak_while_refusing(path)
    assert f"is {64 * 2**20} bytes; a lab file may be at most {MAX_BYTES} bytes (1 MiB)" in message
    assert peak < 2**20, peak


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_stream_is_refused_after_the_limit() -> None:
    peak, message = peak_while_refusing("/dev/zero")
    assert f"is longer than {MAX_BYTES} bytes (1 MiB)" in message
    assert peak < PEAK, peak


def test_a_file_of_many_small_values_stops_at_the_node_limit(tmp_path: Path) -> None:
    """Just under the size limit, 500 000 list items: refused once MAX_NODES are composed."""
    path = tmp_path / "many.yaml"
    path.write_text("name: x\ntopology: {qubits: [" + "0," * 500_000 + "0]}\n")
    assert path.stat().st_size < MAX_BYTES
    peak, message = peak_while_refusing(path)
    assert f"more than {MAX_NODES} YAML values" in message
    assert peak < 24 * 2**20, peak
