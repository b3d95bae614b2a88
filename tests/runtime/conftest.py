"""The module-scoped daemon the runtime tests share (tests/daemon_lab.py starts it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from daemon_lab import Lab, started


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    running = started(tmp_path_factory.mktemp("daemon"))
    try:
        yield running
    finally:
        running.daemon.stop()
