"""The stress command's chaos and load runs, bounded for the suite (the 10-minute run: ``python -m benchmarks
stress``). Chaos: kill -9 of the daemon and of its worker at random points while 3 clients submit; afterwards
nothing acknowledged is lost or duplicated, every result is the client's own echo, every ERROR has a reason,
both SQLite stores pass ``PRAGMA integrity_check`` and no AWG output or LO RF is left on. Load (slow): 8
clients for 2 minutes, daemon RSS flat within 10 % and no file-descriptor growth."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.stress import run_stress


def test_chaos_loses_and_duplicates_nothing_and_leaves_the_lab_safe(tmp_path: Path) -> None:
    figures = run_stress(tmp_path, clients=3, jobs=200, duration=15.0, chaos=(1.0, 3.0), seed=4)
    assert figures.daemon_kills + figures.worker_kills >= 3, figures
    assert figures.daemon_kills >= 1, figures
    assert figures.accepted >= 30 and figures.pulse_done >= 1, figures     # the instruments were used
    assert figures.lost == 0 and figures.duplicated == 0 and figures.wrong_result == 0, figures
    assert figures.unreasoned_errors == 0 and figures.orphans_not_final == 0, figures
    assert figures.done + figures.error == figures.accepted, figures
    assert figures.integrity == {"jobs.sqlite": "ok", "calibration.sqlite": "ok"}, figures
    assert figures.unsafe == {}, figures


@pytest.mark.slow
def test_eight_clients_for_two_minutes_keep_memory_and_descriptors_flat(tmp_path: Path) -> None:
    figures = run_stress(tmp_path, clients=8, jobs=100_000, duration=120.0, chaos=None)
    assert figures.ok and figures.lost == 0 and figures.error == 0, figures
    start, end = figures.rss_mib
    assert end <= 1.10 * start, f"daemon RSS grew from {start} to {end} MiB"
    assert figures.fds[1] <= figures.fds[0], f"open descriptors grew: {figures.fds}"
    assert figures.ack_ms["p99"] < 100 and figures.throughput_per_s > 10, figures
