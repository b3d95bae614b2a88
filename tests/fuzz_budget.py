"""How many examples each fuzz test runs: bounded in the default suite, as many as ``QUBITLAB_FUZZ_EXAMPLES``
says for the long run (``QUBITLAB_FUZZ_EXAMPLES=5000 pytest tests/runtime/test_fuzz*.py``). Shared by the fuzz
tests so that one variable scales them all; with the document mutation the JSON-file fuzz tests share."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def budget(default: int, deadline_ms: int | None = 5000) -> settings:
    """Hypothesis settings: ``default`` examples (or the environment's number), no example database (the run
    must not depend on earlier runs), each example within ``deadline_ms`` (the "never a hang" property)."""
    examples = int(os.environ.get("QUBITLAB_FUZZ_EXAMPLES", "0")) or default
    return settings(max_examples=examples, deadline=deadline_ms, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def json_values(non_finite: bool = False) -> st.SearchStrategy[Any]:
    """Any small JSON value (NaN and infinities too when ``non_finite``: Python's json writes them)."""
    return st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                                  st.floats(allow_nan=non_finite, allow_infinity=non_finite), st.text(max_size=12)),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=8)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, as the keys and indices leading to it (the root is ``()``)."""
    found = [prefix]
    if isinstance(value, dict):
        found += [p for k, v in value.items() for p in paths(v, (*prefix, k))]
    elif isinstance(value, list):
        found += [p for i, v in enumerate(value) for p in paths(v, (*prefix, i))]
    return found


def mutated(document: Any, data: st.DataObject, values: st.SearchStrategy[Any]) -> bytes:
    """``document`` as JSON bytes with one value replaced by a draw of ``values``, one key deleted, or up to six
    bytes garbled and the text cut short."""
    document = json.loads(json.dumps(document))
    action = data.draw(st.sampled_from(["replace", "delete", "bytes"]))
    where = data.draw(st.sampled_from(paths(document)[1:]))
    parent = document
    for step in where[:-1]:
        parent = parent[step]
    if action == "replace":
        parent[where[-1]] = data.draw(values)
    elif action == "delete":
        del parent[where[-1]]
    text = json.dumps(document).encode()
    if action == "bytes":
        garbled = bytearray(text)
        for position in data.draw(st.lists(st.integers(0, len(garbled) - 1), min_size=1, max_size=6)):
            garbled[position] = data.draw(st.integers(0, 255))
        text = bytes(garbled[:data.draw(st.integers(1, len(garbled)))])
    return text
