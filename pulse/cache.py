"""CompileCache: the one place where sampling and compilation keep work for later, owned and bounded.

A long-lived process (the runtime daemon) compiles thousands of jobs; whatever the compiler remembers between
them must have an owner, a size limit and counters, so it cannot grow without bound and its effect can be
measured. ``compile(..., cache=...)`` takes one; scripts that pass none share the module's ``DEFAULT_CACHE``.

Every entry is keyed by *content*: the pulse type and parameter values of an envelope, the content key of a
unit envelope with the IF and sample-rate ratio of a carrier row, the recipe of a waveform (which determines
its samples exactly). Never by ``id()``: an id is only unique while its object lives. A cache keyed by id that
does not pin the object returns another object's result once Python reuses the address after garbage
collection (a new pulse built where a freed one was gets the freed one's samples); pinning the object instead
keeps every schedule ever compiled alive in the cache, and a sweep that builds new objects per point never
hits. Content keys have neither problem and hit across runs, jobs and objects that are equal but not the same.

Eviction is least recently used, by entry count and by the bytes of the numpy arrays held.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from qubitlab.errors import PulseError

T = TypeVar("T")

KINDS = ("envelope", "carrier", "waveform", "weights")
"""What is cached: sampled unit envelopes, envelopes on a carrier, checked waveform pairs (float32 I and Q),
default integration weights."""


@dataclass(frozen=True)
class KindStats:
    """Counters of one kind of entry."""

    hits: int
    misses: int
    entries: int
    nbytes: int


def _nbytes(value: object) -> int:
    """Bytes of the numpy arrays a cached value holds (arrays, or tuples of them and scalars)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return 0


class CompileCache:
    """Bounded LRU of content-keyed results shared by sampling and the compiler passes.

    ``max_entries`` bounds the number of entries, ``max_bytes`` the array memory they hold; ``max_entries=0``
    keeps nothing (every lookup computes). Lookups count a hit or a miss per kind (see ``KINDS``).
    """

    def __init__(self, max_entries: int = 16384, max_bytes: int = 256 * 2**20) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise PulseError(f"CompileCache: max_entries ({max_entries}) and max_bytes ({max_bytes}) must be >= 0")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, Hashable], tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._hits = dict.fromkeys(KINDS, 0)
        self._misses = dict.fromkeys(KINDS, 0)
        self._lock = threading.Lock()

    def get(self, kind: str, key: Hashable, make: Callable[[], T]) -> T:
        """The entry under ``(kind, key)``, made by ``make()`` (and stored) on a miss."""
        full = (kind, key)
        found = self._entries.get(full)  # the hit path takes no lock: each step is atomic under the GIL
        if found is not None:
            try:
                self._entries.move_to_end(full)
            except KeyError:  # evicted by another thread meanwhile: still a valid result
                pass
            self._hits[kind] += 1
            return found[0]  # type: ignore[no-any-return]
        self._misses[kind] += 1
        value = make()
        self._put(full, value)
        return value

    def _put(self, full: tuple[str, Hashable], value: object) -> None:
        size = _nbytes(value)
        if self.max_entries == 0 or size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(full, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[full] = (value, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Array memory held by the entries."""
        return self._bytes

    def clear(self, kind: str | None = None) -> None:
        """Drop every entry (or every entry of ``kind``) and reset the counters concerned."""
        with self._lock:
            kinds = KINDS if kind is None else (kind,)
            for full in [k for k in self._entries if k[0] in kinds]:
                self._bytes -= self._entries.pop(full)[1]
            for k in kinds:
                self._hits[k] = self._misses[k] = 0

    def stats(self) -> dict[str, KindStats]:
        """Hits, misses, entries and bytes per kind."""
        with self._lock:
            entries = dict.fromkeys(KINDS, 0)
            nbytes = dict.fromkeys(KINDS, 0)
            for (kind, _), (_, size) in self._entries.items():
                entries[kind] += 1
                nbytes[kind] += size
            return {k: KindStats(self._hits[k], self._misses[k], entries[k], nbytes[k]) for k in KINDS}


DEFAULT_CACHE = CompileCache()
"""Used when ``compile()``, ``render()`` or a pulse's sampling is given no cache (scripts)."""


def cache_or_default(cache: CompileCache | None) -> CompileCache:
    return DEFAULT_CACHE if cache is None else cache
