"""Test-suite setup: headless plotting, no writes to the home directory, opt-in slow and hardware tests."""

from __future__ import annotations

import os
import tempfile

import pytest

# Matplotlib must neither open windows nor write its font cache into the home directory.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "qubitlab-test-mplconfig"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")
    parser.addoption("--hardware", action="store_true", default=False, help="also run tests marked hardware")
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite the compiler's golden payload files (review the diff!)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for marker, option in (("slow", "--runslow"), ("hardware", "--hardware")):
        if config.getoption(option):
            continue
        skip = pytest.mark.skip(reason=f"{marker} test: run with {option}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def calibrated_2q(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """virtual_2q brought up once per test session from nothing but its lab file: ``(lab_file, outcomes)``.
    Tests that need a calibrated device copy it (:func:`calibrated_lab.copy_calibrated`) rather than write to it."""
    from calibrated_lab import bring_up

    return bring_up(tmp_path_factory.mktemp("calibrated_2q"))


@pytest.fixture(scope="session")
def calibrated_5q(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """virtual_5q (the line 0-1-2-3-4) brought up once per test session, every qubit and coupling, from nothing
    but its lab file: ``(lab_file, outcomes)``. ``test_virtual_5q`` checks this bring-up against the lab file's
    truth; the QAOA triangle runs on a copy of it (:func:`calibrated_lab.copy_calibrated`)."""
    from calibrated_lab import bring_up

    return bring_up(tmp_path_factory.mktemp("calibrated_5q"), "virtual_5q.yaml")
