"""One virtual lab, station and executor per test module (see tests/virtual_rig.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from virtual_rig import Rig, started_rig


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with started_rig() as started:
        yield started
