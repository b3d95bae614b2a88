"""Which job runs next, and when a session ends: the scheduler as pure functions over the job store's rows.

The rules, as in qiskit-ibm-runtime's sessions and ARTIQ's scheduler:

- Queued jobs run by integer priority (higher first), first in first out within a priority.
- A *session* owns the device from the moment its first job starts until it ends: while it is active only its
  jobs run, back to back, and everything else (other clients, calibration jobs) waits -- even while the
  session's client is thinking between jobs, up to the session's interactive TTL.
- A session ends when it has been idle (no job queued or running) for ``interactive_ttl`` seconds, when
  ``max_time`` has passed since it started (its queued jobs are then cancelled), or after ``close()`` once its
  queued jobs have run; ``cancel()`` ends it at once.
- A *batch* groups jobs without exclusivity: its jobs take their turn with everyone else's, in their order.

Nothing here touches the database or the clock: the daemon passes the rows and ``now`` in and applies what
comes out, so the rules are tested directly.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from qubitlab.runtime.jobstore import JobRow, SessionMode, SessionRow, SessionState


class Queued(Protocol):
    @property
    def job_id(self) -> str: ...
    @property
    def session_id(self) -> str | None: ...


@dataclass(frozen=True, order=True)
class Entry:
    """A queued job as the scheduler orders it: higher priority first, then first in, first out."""

    order: tuple[int, int]
    job_id: str = field(compare=False)
    session_id: str | None = field(compare=False)

    @classmethod
    def of(cls, job: JobRow) -> Entry:
        return cls((-job.priority, job.seq), job.job_id, job.session_id)


class Queue:
    """The queued jobs in scheduling order, in memory (the store keeps them durably; the daemon keeps both in
    step): ordering a submit costs O(log n) instead of a query over the whole queue."""

    def __init__(self, jobs: Iterable[JobRow] = ()) -> None:
        self._entries: list[Entry] = sorted(Entry.of(j) for j in jobs)
        self._index = {e.job_id: e for e in self._entries}
        self._by_session: dict[str, int] = {}
        """Queued jobs per session, kept as jobs come and go (the daemon asks after every submit)."""
        for entry in self._entries:
            if entry.session_id:
                self._by_session[entry.session_id] = self._by_session.get(entry.session_id, 0) + 1

    def add(self, job: JobRow) -> None:
        entry = Entry.of(job)
        bisect.insort(self._entries, entry)
        self._index[entry.job_id] = entry
        if entry.session_id:
            self._by_session[entry.session_id] = self._by_session.get(entry.session_id, 0) + 1

    def remove(self, job_id: str) -> None:
        entry = self._index.pop(job_id, None)
        if entry is not None:
            self._entries.pop(bisect.bisect_left(self._entries, entry))
            if entry.session_id:
                left = self._by_session[entry.session_id] - 1
                if left:
                    self._by_session[entry.session_id] = left
                else:
                    del self._by_session[entry.session_id]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._index

    def count_by_session(self) -> dict[str, int]:
        return dict(self._by_session)


@dataclass(frozen=True)
class SessionEnd:
    """A session to close, and why; ``cancel_queued`` when its queued jobs must not run."""

    session_id: str
    reason: str
    cancel_queued: bool


def owning_session(sessions: Iterable[SessionRow]) -> SessionRow | None:
    """The session that owns the device now (an active or closing session that has started), if any."""
    for session in sessions:
        if session.mode is SessionMode.SESSION and session.state in (SessionState.ACTIVE, SessionState.CLOSING) \
                and session.started is not None:
            return session
    return None


def pick(queued: Iterable[Queued], sessions: Mapping[str, SessionRow]) -> Queued | None:
    """The next job to run from ``queued`` (in the store's priority-then-FIFO order), or None to wait."""
    owner = owning_session(sessions.values())
    for job in queued:
        if owner is not None:
            if job.session_id == owner.session_id:
                return job
            continue
        session = sessions.get(job.session_id) if job.session_id else None
        if session is not None and session.state is SessionState.CLOSED:
            continue                            # the daemon cancels these; never run them
        return job
    return None


def session_ends(sessions: Iterable[SessionRow], queued_by_session: Mapping[str, int], running_session: str | None,
                 now: float) -> list[SessionEnd]:
    """The sessions that end at ``now``."""
    out = []
    for s in sessions:
        if s.state is SessionState.CLOSED:
            continue
        busy = queued_by_session.get(s.session_id, 0) > 0 or running_session == s.session_id
        if s.started is not None and s.max_time > 0 and now - s.started >= s.max_time and \
                running_session != s.session_id:
            out.append(SessionEnd(s.session_id, f"max_time of {s.max_time:g} s reached", True))
        elif s.state is SessionState.CLOSING and not busy:
            out.append(SessionEnd(s.session_id, "closed by its client; every job ran", False))
        elif s.mode is SessionMode.SESSION and s.state is SessionState.ACTIVE and not busy and \
                s.interactive_ttl > 0 and now - (s.last_activity or s.started or s.created) >= s.interactive_ttl:
            out.append(SessionEnd(s.session_id, f"idle for its interactive TTL of {s.interactive_ttl:g} s", False))
    return out


def next_deadline(sessions: Iterable[SessionRow], now: float) -> float | None:
    """The earliest future time at which :func:`session_ends` may say something new without any job or session
    changing (the daemon re-evaluates on every change anyway); None when there is none."""
    times = []
    for s in sessions:
        if s.state is SessionState.CLOSED:
            continue
        if s.started is not None and s.max_time > 0:
            times.append(s.started + s.max_time)
        if s.state is SessionState.ACTIVE and s.interactive_ttl > 0:
            times.append((s.last_activity or s.started or s.created) + s.interactive_ttl)
    future = [t for t in times if t > now]
    return min(future) if future else None
