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
