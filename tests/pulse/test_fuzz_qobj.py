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
from fuzz_budget import budget, json_values, mutated
from hypothesis import event, given
from hypothesis import strategies as st

from qubitlab import pulse
from qubitlab.errors import QubitlabError
from qubitlab.pulse.qobj import load_qobj

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "qobj" / "assembled.json"
DOCUMENT = json.loads(FIXTURE.read_text())
VALUES = json_values(non_finite=True)


@budget(200)
@given(st.data())
def test_an_import_succeeds_or_is_refused_with_a_message(tmp_path_factory: Any, data: st.DataObject) -> None:
    file = tmp_path_factory.mktemp("qobj") / "fuzzed.json"
    file.write_bytes(mutated(DOCUMENT, data, VALUES))
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
