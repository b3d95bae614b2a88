"""Fuzzing the PulseQobj importer (what the ``pulse_qobj`` job kind and ``load_qobj`` call) with hypothesis.

Starting from the Qiskit-1.4-made fixture, each example replaces a value anywhere in the document with a random
JSON value, deletes a key, or garbles the file's bytes. Properties: the import either succeeds -- and then every
experiment renders to finite samples -- or raises a :class:`QubitlabError` with a message, within the deadline.
test_qobj.py checks the documented errors one by one; this explores the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from fuzz_budget import budget
from hypothesis import event, given
from hypothesis import strategies as st

from qubitlab import pulse
from qubitlab.errors import QubitlabError
from qubitlab.pulse.qobj import load_qobj

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "qobj" / "assembled.json"
DOCUMENT = json.loads(FIXTURE.read_text())
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=8)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        found += [p for k, v in value.items() for p in paths(v, (*prefix, k))]
    elif isinstance(value, list):
        found += [p for i, v in enumerate(value) for p in paths(v, (*prefix, i))]
    return found


PATHS = paths(DOCUMENT)[1:]


def mutated(data: st.DataObject) -> bytes:
    document = json.loads(json.dumps(DOCUMENT))
    action = data.draw(st.sampled_from(["replace", "delete", "bytes"]))
    where = data.draw(st.sampled_from(PATHS))
    parent = document
    for step in where[:-1]:
        parent = parent[step]
    if action == "replace":
        parent[where[-1]] = data.draw(json_values)
    elif action == "delete":
        del parent[where[-1]]
    text = json.dumps(document).encode()
    if action == "bytes":
        garbled = bytearray(text)
        for position in data.draw(st.lists(st.integers(0, len(garbled) - 1), min_size=1, max_size=6)):
            garbled[position] = data.draw(st.integers(0, 255))
        text = bytes(garbled[:data.draw(st.integers(1, len(garbled)))])
    return text


@budget(200)
@given(st.data())
def test_an_import_succeeds_or_is_refused_with_a_message(tmp_path_factory: Any, data: st.DataObject) -> None:
    file = tmp_path_factory.mktemp("qobj") / "fuzzed.json"
    file.write_bytes(mutated(data))
    try:
        job = load_qobj(file)
    except QubitlabError as exc:
        event(f"refused: {type(exc).__name__}")
        assert str(exc).strip()
        return
    event("imported")
    for index, experiment in enumerate(job.experiments):
        try:
            rendered = pulse.render(experiment.schedule, dt=1e-9, frequencies=job.base_frequencies(index))
        except QubitlabError as exc:                  # e.g. a frequency the document left out: named, not a crash
            assert str(exc).strip()
            continue
        for samples in rendered.values():
            assert np.all(np.isfinite(samples)), f"experiment {index} renders non-finite samples"


def test_what_the_fuzzing_found_is_refused_by_name() -> None:
    """A ``config`` of null used to escape as AttributeError; a non-list ``experiments`` as TypeError."""
    import pytest

    from qubitlab.errors import PulseError
    from qubitlab.pulse.qobj import from_qobj

    for key, value, message in (("config", None, "config: must be an object of run settings"),
                                ("experiments", 3, "experiments: must be a list")):
        with pytest.raises(PulseError, match=message):
            from_qobj({**DOCUMENT, key: value})
