"""The station snapshot of a run, taken again only when some parameter's value changed since the last one.

QCoDeS' ``Station.snapshot(update=False)`` walks every parameter of every instrument -- about 3600 parameter
snapshots and 4-8 ms for the virtual lab's five instruments -- even when nothing was set since the previous run,
which is the common case inside a session. :class:`StationSnapshots` notes the changes instead: it wraps each
parameter cache's ``_update_with`` (the one method through which QCoDeS stores a value, on every set, every get
and every ``cache.set``) and, the first time a cache is updated after a snapshot, keeps the value and raw value
that snapshot showed. The next ``take()`` compares only those caches: when each holds its old value again (a run
switches the AWG outputs on and back off, the digitizer goes ARMED, BUSY and back to DONE) the snapshot without
QCoDeS' ``ts`` entries would be the same, and the previous one is returned; otherwise the station is walked.
``invalidate()`` keeps the value such a snapshot shows, so it changes nothing. A component added to or removed
from the station, or a parameter added to an instrument after the first snapshot, is noticed by a cheap identity
check of the station's components and their parameter counts and makes the next call walk everything again.
A parameter whose cache has no ``_update_with`` (a QCoDeS that stores values another way) cannot be watched, so
then every call walks the station, as QCoDeS itself would: slower, never stale.

The serialized form (``ts`` removed) and its sha256 are computed once per distinct snapshot too, for the run
record's content-addressed ``stations/<sha256>.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from qcodes.instrument import ChannelTuple
from qcodes.parameters import ParameterBase
from qcodes.station import Station


class StationSnapshots:
    """``take()`` returns ``station.snapshot(update=False)``, walking the station only after a change."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.walks = 0
        """How many times the station was walked (for diagnostics)."""
        self._hooked: set[int] = set()
        self._unwatched = 0
        """Caches that could not be hooked: while there are any, every take() walks the station."""
        self._shape: tuple[tuple[int, int], ...] = ()
        self._fresh = False
        self._touched: dict[int, tuple[Any, Any, Any]] = {}
        """Caches updated since the last snapshot, by id: (cache, value then, raw value then)."""
        self._snapshot: dict[str, Any] = {}
        self._content: str | None = None
        self._digest = ""

    def take(self) -> dict[str, Any]:
        """The station's snapshot now (the same object as last time when nothing changed: do not mutate it)."""
        shape = self._station_shape()
        if shape != self._shape:
            self._hook_everything()
            self._shape = shape
            self._fresh = False
        touched, self._touched = self._touched, {}
        if not self._fresh or self._unwatched or any(not (_same(cache._value, value) and _same(cache._raw_value, raw))
                                  for cache, value, raw in touched.values()):
            self._snapshot = self.station.snapshot(update=False)
            self._fresh = True
            self._content = None
            self.walks += 1
        return self._snapshot

    def content(self) -> tuple[str, str]:
        """The last snapshot as compact JSON without QCoDeS' ``ts`` entries, and its sha256 (16 hex digits)."""
        if self._content is None:
            self._content = json.dumps(without_timestamps(self._snapshot), separators=(",", ":"), default=str)
            self._digest = hashlib.sha256(self._content.encode()).hexdigest()[:16]
        return self._content, self._digest

    def _station_shape(self) -> tuple[tuple[int, int], ...]:
        return tuple((id(c), len(getattr(c, "parameters", ()))) for c in self.station.components.values())

    def _hook_everything(self) -> None:
        for component in self.station.components.values():
            for parameter in _parameters(component, set()):
                cache = parameter.cache
                if id(cache) in self._hooked:
                    continue
                if hasattr(cache, "_update_with"):
                    setattr(cache, "_update_with", self._noting(cache))
                    self._hooked.add(id(cache))
                else:
                    self._unwatched += 1

    def _noting(self, cache: Any) -> Callable[..., None]:
        update = cache._update_with

        def noted_update(*, value: Any, raw_value: Any, timestamp: Any = None) -> None:
            if id(cache) not in self._touched:
                self._touched[id(cache)] = (cache, cache._value, cache._raw_value)
            update(value=value, raw_value=raw_value, timestamp=timestamp)

        return noted_update


def _parameters(node: Any, seen: set[int]) -> Iterator[ParameterBase]:
    """Every parameter of an instrument, its channels and submodules (or the node itself when a parameter)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, ParameterBase):
        yield node
        return
    yield from getattr(node, "parameters", {}).values()
    for submodule in getattr(node, "submodules", {}).values():
        yield from _parameters(submodule, seen)
    if isinstance(node, ChannelTuple):
        for item in node:
            yield from _parameters(item, seen)


def _same(old: Any, new: Any) -> bool:
    """Whether two cached values would snapshot alike (arrays and other odd values count as changed)."""
    if old is new:
        return True
    if type(old) is not type(new):
        return False
    try:
        return bool(old == new)
    except (TypeError, ValueError):
        return False


def without_timestamps(value: Any) -> Any:
    """A QCoDeS snapshot without its ``ts`` entries (when each parameter was last set or read)."""
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if k != "ts"}
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value
