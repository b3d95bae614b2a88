"""The error hierarchy: one root, the stage errors under it, and rebuilding from the wire by allow-list only."""

from __future__ import annotations

import pytest

from qubitlab import errors


@pytest.mark.parametrize("name", sorted(errors.WIRE_ERRORS))
def test_every_error_is_a_qubitlab_error(name: str) -> None:
    assert issubclass(errors.WIRE_ERRORS[name], errors.QubitlabError)


def test_instrument_timeout_is_a_driver_error_and_a_timeout() -> None:
    exc = errors.InstrumentTimeout("awg did not answer *OPC? within 2.0 s")
    assert isinstance(exc, errors.DriverError)
    assert isinstance(exc, TimeoutError)


def test_compilation_error_names_pass_channel_time_and_instruction() -> None:
    exc = errors.CompilationError(
        "sample 1.2 over the output's limit 1.0", pass_name="limits", channel="d0", time=320, instruction="Play(Drag)"
    )
    text = str(exc)
    for part in ("limits", "d0", "320 samples", "Play(Drag)", "1.2"):
        assert part in text
    assert (exc.pass_name, exc.channel, exc.time) == ("limits", "d0", 320)


def test_error_from_wire_rebuilds_allowed_types() -> None:
    exc = errors.error_from_wire("JobError", "job 12 was cancelled")
    assert type(exc) is errors.JobError
    assert str(exc) == "job 12 was cancelled"


def test_error_from_wire_never_builds_unknown_types() -> None:
    exc = errors.error_from_wire("SystemExit", "bye")
    assert type(exc) is errors.QubitlabError
    assert "SystemExit" in str(exc)
