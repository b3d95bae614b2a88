"""CompileCache: LRU bound and counters, hits on repeated compiles, payloads identical whatever the cache holds,
and an id-reuse scenario that a cache keyed by id() gets wrong."""

from __future__ import annotations

import gc
import math
from typing import Any

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.drivers.payloads import AwgProgram, CompiledProgram, DigitizerProgram
from qubitlab.errors import QubitlabError
from qubitlab.pulse.cache import CompileCache
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes import AcquisitionView, AwgView, HardwareView, LineView, LoView, OutputView

DT = 1e-9
D0, M0 = pulse.DriveChannel(0), pulse.MeasureChannel(0)
FRAMES = {"d0": 5.0e9, "m0": 7.05e9}


def hardware() -> HardwareView:
    outputs = {str(i): OutputView(str(i), 1.0, 0.8) for i in range(1, 5)}
    awg = AwgView("awg", 1e9, 16, 64, 400e6, outputs)
    lines = {"q0": LineView("q0", "drive", "awg", ("1", "2"), "lo_q0", 4.9e9, 10.0),
             "ro": LineView("ro", "readout", "awg", ("3", "4"), "lo_ro", 7.0e9, 12.0)}
    los = {name: LoView(name, (1e6, 12.75e9), (-120.0, 25.0)) for name in ("lo_q0", "lo_ro")}
    return HardwareView(DT, lines, {"d0": "q0", "m0": "ro"}, {"awg": awg}, los,
                        {"a0": AcquisitionView("dig", "1", 500e6, "ro")})


def rabi_point(amp: float) -> Any:
    """A drive pulse, then a readout tone and its acquisition after it (two separate busy steps)."""
    with pulse.build() as prog:
        pulse.play(pulse.Gaussian(64, amp, 10), D0)
        pulse.delay(64, M0)
        pulse.play(pulse.Constant(128, 0.1), M0)
        pulse.acquire(128, 0, pulse.MemorySlot(0))
    return prog


def test_counters_and_lru_order() -> None:
    cache = CompileCache(max_entries=2)
    made: list[str] = []

    def make(name: str) -> Any:
        return lambda: made.append(name) or name

    assert cache.get("envelope", "a", make("a")) == "a"
    assert cache.get("envelope", "b", make("b")) == "b"
    assert cache.get("envelope", "a", make("a")) == "a"  # hit; "a" is now the most recently used
    assert cache.get("carrier", "c", make("c")) == "c"  # evicts "b", the least recently used
    assert cache.get("envelope", "a", make("a")) == "a"
    assert cache.get("envelope", "b", make("b")) == "b"  # made again
    assert made == ["a", "b", "c", "b"]
    stats = cache.stats()
    assert (stats["envelope"].hits, stats["envelope"].misses) == (2, 3)
    assert (stats["carrier"].hits, stats["carrier"].misses) == (0, 1)
    cache.clear()
    assert len(cache) == 0 and cache.stats()["envelope"].hits == 0 == cache.stats()["envelope"].misses


def test_size_never_exceeds_the_limits() -> None:
    cache = CompileCache(max_entries=5, max_bytes=3 * 800)
    for i in range(200):
        cache.get("waveform", i % 17, lambda: np.zeros(100))  # 800 bytes each: the byte limit binds at 3
        assert len(cache) <= 3 and cache.nbytes <= 3 * 800
    small = CompileCache(max_entries=4)
    for i in range(100):
        small.get("weights", i, lambda: None)
        assert len(small) <= 4
    nothing = CompileCache(max_entries=0)
    assert nothing.get("weights", 1, lambda: "x") == "x" and len(nothing) == 0
    with pytest.raises(QubitlabError, match="max_entries"):
        CompileCache(max_entries=-1)


def test_repeated_compiles_hit_and_make_nothing_new() -> None:
    cache = CompileCache()
    prog = rabi_point(0.3)
    compile(prog, hardware(), FRAMES, cache=cache)
    first = cache.stats()
    # by hand: two shapes (the Gaussian's unit envelope, the Constant's), two carriers (d0 at 100 MHz, m0 at
    # 50 MHz), two waveform pairs (drive step at 0, readout step at 64), one boxcar of 64 digitizer samples
    assert {k: (s.hits, s.misses) for k, s in first.items()} == {
        "envelope": (0, 2), "carrier": (0, 2), "waveform": (0, 2), "weights": (0, 1)}
    compile(prog, hardware(), FRAMES, cache=cache)
    compile(rabi_point(0.3), hardware(), FRAMES, cache=cache)  # equal content, new objects: hits as well
    again = cache.stats()
    assert {k: (s.hits, s.misses) for k, s in again.items()} == {
        "envelope": (4, 2), "carrier": (4, 2), "waveform": (4, 2), "weights": (2, 1)}
    compile(rabi_point(0.2), hardware(), FRAMES, cache=cache)  # new amplitude: same unit envelope and carrier
    last = cache.stats()
    assert (last["envelope"].misses, last["carrier"].misses) == (2, 2)
    assert last["waveform"].misses == 3  # the drive step is new, the readout step is not


def assert_same(a: CompiledProgram, b: CompiledProgram) -> None:
    """Exactly equal payloads: every waveform array, every sequence step, every window and weight."""
    assert a.input_hash == b.input_hash and a.memory_slots == b.memory_slots
    assert a.payloads.keys() == b.payloads.keys()
    for name, pa in a.payloads.items():
        pb = b.payloads[name]
        if isinstance(pa, AwgProgram):
            assert isinstance(pb, AwgProgram) and pa.sequence == pb.sequence
            assert pa.waveforms.keys() == pb.waveforms.keys()
            for key, samples in pa.waveforms.items():
                assert samples.dtype == pb.waveforms[key].dtype
                np.testing.assert_array_equal(samples, pb.waveforms[key])
        elif isinstance(pa, DigitizerProgram):
            assert isinstance(pb, DigitizerProgram) and repr(pa) == repr(pb)
            for wa, wb in zip(pa.windows, pb.windows):
                np.testing.assert_array_equal(wa.weights, wb.weights)
        else:
            assert pa == pb


def test_cold_warm_and_unshared_caches_give_identical_payloads() -> None:
    amp, df = pulse.Parameter("amp"), pulse.Parameter("df")
    with pulse.build() as sweep:
        pulse.play(pulse.Drag(64, amp, 10, 0.5), D0)
        pulse.shift_frequency(df, D0)
        pulse.shift_phase(0.4, D0)
        pulse.play(pulse.Drag(64, amp, 10, 0.5), D0)
        pulse.play(pulse.GaussianSquare(256, 0.1, 16, width=192), M0)
        pulse.acquire(256, 0, pulse.MemorySlot(0))
    values = [{amp: a, df: f} for a, f in zip(np.linspace(-0.5, 0.5, 7).tolist(), [0.0, 1e6, 2e6] * 3)]
    cold = compile(sweep, hardware(), FRAMES, values=values, cache=CompileCache())
    warm_cache = CompileCache()
    compile(sweep, hardware(), FRAMES, values=values[::-1], cache=warm_cache)  # warmed in another order
    compile(rabi_point(0.3), hardware(), FRAMES, cache=warm_cache)          # and by another program
    warm = compile(sweep, hardware(), FRAMES, values=values, cache=warm_cache)
    assert warm_cache.stats()["waveform"].hits > 0
    unshared = compile(sweep, hardware(), FRAMES, values=values, cache=CompileCache(max_entries=0))
    tiny = compile(sweep, hardware(), FRAMES, values=values, cache=CompileCache(max_entries=3))
    for other in (warm, unshared, tiny):
        assert_same(cold, other)


def test_id_reuse_after_garbage_collection_is_harmless() -> None:
    """Python reuses a freed object's address: a cache keyed by id() (without pinning the object) then
    answers for the new object with the old one's result. Shown on a naive id-keyed cache, then on compile."""
    naive: dict[int, float] = {}
    reused = 0
    for step in range(50):
        wf = pulse.Waveform(np.full(64, 0.1 + 0.01 * step))
        seen = naive.setdefault(id(wf), float(wf.samples[0].real))
        if seen != float(wf.samples[0].real):
            reused += 1
        del wf
        gc.collect()
    assert reused > 0, "no id was reused: the scenario did not happen"

    cache = CompileCache()
    if_hz = FRAMES["d0"] - 4.9e9
    carrier = np.exp(2j * math.pi * if_hz * DT * np.arange(64))
    ids: list[int] = []
    for step in range(20):
        amp = 0.05 + 0.02 * step
        wf = pulse.Waveform(np.full(64, amp))
        ids.append(id(wf))
        with pulse.build() as prog:
            pulse.play(wf, D0)
        awg = compile(prog, hardware(), FRAMES, cache=cache).payloads["awg"]
        assert isinstance(awg, AwgProgram)
        signal = awg.played("1", 0)[:64].astype(float) + 1j * awg.played("2", 0)[:64].astype(float)
        np.testing.assert_allclose(signal, amp * carrier, atol=1e-6)  # closed form: amp on the 100 MHz carrier
        del wf, prog, awg
        gc.collect()
    assert len(set(ids)) < len(ids), "no Waveform id was reused: the scenario did not happen"
