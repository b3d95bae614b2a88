"""How many examples each fuzz test runs: bounded in the default suite, as many as ``QUBITLAB_FUZZ_EXAMPLES``
says for the long run (``QUBITLAB_FUZZ_EXAMPLES=5000 pytest tests/runtime/test_fuzz*.py``). Shared by the fuzz
tests so that one variable scales them all."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def budget(default: int, deadline_ms: int | None = 5000) -> settings:
    """Hypothesis settings: ``default`` examples (or the environment's number), no example database (the run
    must not depend on earlier runs), each example within ``deadline_ms`` (the "never a hang" property)."""
    examples = int(os.environ.get("QUBITLAB_FUZZ_EXAMPLES", "0")) or default
    return settings(max_examples=examples, deadline=deadline_ms, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
