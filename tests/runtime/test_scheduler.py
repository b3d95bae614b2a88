"""The scheduler's rules as pure functions over hand-made rows (no daemon, no clock)."""

from __future__ import annotations

from typing import Any

from qubitlab.runtime import scheduler
from qubitlab.runtime.jobstore import JobId, JobRow, JobStatus, SessionId, SessionMode, SessionRow, SessionState


def job(seq: int, priority: int = 0, session: str | None = None) -> JobRow:
    return JobRow(seq, JobId(f"j{seq}"), "alice", "sleep", JobStatus.QUEUED, priority,
                  SessionId(session) if session else None, 0.0, None, None, 0, None, {}, None, None, "", None, None,
                  "")


def session(sid: str, state: SessionState, *, mode: SessionMode = SessionMode.SESSION, started: float | None = None,
            last: float | None = None, ttl: float = 10.0, max_time: float = 100.0) -> SessionRow:
    return SessionRow(SessionId(sid), "alice", mode, state, max_time, ttl, 0.0, started, last, None, "", 0.0)


def order(queue: scheduler.Queue, sessions: dict[str, Any]) -> list[str]:
    """Repeatedly pick and remove: the order jobs would start in."""
    out = []
    while (chosen := scheduler.pick(queue, sessions)) is not None:
        out.append(chosen.job_id)
        queue.remove(chosen.job_id)
    return out


def test_priority_then_fifo() -> None:
    queue = scheduler.Queue([job(1), job(2, 5), job(3), job(4, 5), job(5, -1)])
    assert order(queue, {}) == ["j2", "j4", "j1", "j3", "j5"]


def test_an_active_session_runs_alone_and_holds_the_device_while_idle() -> None:
    active = {"s": session("s", SessionState.ACTIVE, started=1.0)}
    queue = scheduler.Queue([job(1, 9), job(2, session="s"), job(3)])
    assert scheduler.pick(queue, active).job_id == "j2"            # type: ignore[union-attr]
    queue.remove("j2")
    assert scheduler.pick(queue, active) is None                   # idle session: nothing else runs
    assert order(scheduler.Queue([job(1, 9), job(3)]), {}) == ["j1", "j3"]


def test_a_batch_takes_turns() -> None:
    batch = {"b": session("b", SessionState.ACTIVE, mode=SessionMode.BATCH, started=1.0)}
    assert order(scheduler.Queue([job(1, session="b"), job(2), job(3, session="b")]), batch) == ["j1", "j2", "j3"]


def test_sessions_end_by_ttl_max_time_and_close() -> None:
    idle = session("idle", SessionState.ACTIVE, started=0.0, last=5.0, ttl=10.0, max_time=1000.0)
    old = session("old", SessionState.ACTIVE, started=0.0, last=99.0, max_time=100.0)
    closing = session("closing", SessionState.CLOSING, started=0.0, last=1.0, max_time=1000.0)
    ends = {e.session_id: e for e in scheduler.session_ends([idle, old, closing], {"old": 2}, None, 100.0)}
    assert "interactive TTL" in ends["idle"].reason and not ends["idle"].cancel_queued
    assert "max_time" in ends["old"].reason and ends["old"].cancel_queued
    assert "closed" in ends["closing"].reason
    # busy sessions do not idle out, and a running job is never cut by max_time
    assert scheduler.session_ends([idle], {"idle": 1}, None, 100.0) == []
    assert scheduler.session_ends([old], {}, "old", 100.0) == []
    assert scheduler.next_deadline([idle, old], 14.0) == 15.0


def test_the_queue_counts_jobs_per_session_as_they_come_and_go() -> None:
    queue = scheduler.Queue([job(1, session="a"), job(2), job(3, session="a"), job(4, session="b")])
    assert queue.count_by_session() == {"a": 2, "b": 1}
    queue.add(job(5, session="b"))
    queue.remove("j1")
    queue.remove("j4")
    queue.remove("j-not-there")
    assert queue.count_by_session() == {"a": 1, "b": 1}
    queue.remove("j3")
    assert queue.count_by_session() == {"b": 1}
    assert [e.job_id for e in queue] == ["j2", "j5"]
