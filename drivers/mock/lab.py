"""A virtual lab: one SCPI server per instrument of a lab file, all backed by one physics device.

The AWG emulations play what was uploaded, the LO emulations hold frequency, power and RF state, and when an
AWG starts while a digitizer is armed, the digitizer's windows are computed by ``VirtualDevice.run`` from what
each AWG output plays for each sweep point, through the wiring of the lab file. Every server listens on
127.0.0.1 (ephemeral ports unless given). Run it in the foreground (``qubitlab lab start``) or in a
background thread of the calling process (:meth:`VirtualLab.start_in_thread`, what tests do); either way the
servers stop with the lab.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np
from threadpoolctl import threadpool_limits
from numpy.typing import NDArray

from qubitlab.config.models import LabConfig
from qubitlab.drivers.mock.awg5208 import Awg5208Emulation
from qubitlab.drivers.mock.digitizer import DigitizerEmulation
from qubitlab.drivers.mock.physics.drive import LoState
from qubitlab.drivers.mock.physics.engine import Acquisition, VirtualDevice
from qubitlab.drivers.mock.scpi import Fault, ScpiInstrument, ScpiServer
from qubitlab.drivers.mock.sgs100a import Sgs100aEmulation
from qubitlab.errors import ConfigError, DriverError

EMULATIONS: dict[str, Callable[[], ScpiInstrument]] = {
    "tektronix_awg5208": Awg5208Emulation,
    "rs_sgs100a": Sgs100aEmulation,
    "qubitlab_virtual_digitizer": DigitizerEmulation,
}
"""Driver key -> the emulation that answers for it."""


class VirtualLab:
    """The instruments of ``lab`` as SCPI servers over one :class:`VirtualDevice`."""

    def __init__(self, lab: LabConfig, *, seed: int | None = None, ports: Mapping[str, int] | None = None) -> None:
        if lab.device is None:
            raise ConfigError(f"lab {lab.name!r} has no 'device' section; only a virtual lab can be started")
        self.lab = lab
        self.device = VirtualDevice(lab, seed)
        self._device_lock = threading.Lock()
        self.instruments: dict[str, ScpiInstrument] = {}
        self.servers: dict[str, ScpiServer] = {}
        for name, spec in lab.instruments.items():
            factory = EMULATIONS.get(spec.driver)
            if factory is None:
                raise ConfigError(f"virtual lab {lab.name!r}: no emulation of driver {spec.driver!r} (instrument "
                                  f"{name!r}); emulated: {', '.join(sorted(EMULATIONS))}")
            instrument = factory()
            if isinstance(instrument, Awg5208Emulation):
                instrument.on_run = self._trigger
            if isinstance(instrument, DigitizerEmulation):
                if name in lab.timing.digitizers:
                    instrument.sample_rate = lab.timing.digitizers[name].sample_rate
                instrument.acquire = self._acquisition(name)
                instrument.drift = lambda q, shift, scale: self.drift(q, frequency_shift=shift, amplitude_scale=scale)
            self.instruments[name] = instrument
            self.servers[name] = ScpiServer(instrument, (ports or {}).get(name, 0))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------
    @property
    def addresses(self) -> dict[str, str]:
        """Instrument name -> VISA resource name (valid once started)."""
        return {name: server.address for name, server in self.servers.items()}

    def lab_config(self) -> LabConfig:
        """The lab file with every instrument's address filled in (what ``build_station`` connects to)."""
        instruments = {name: spec.model_copy(update={"address": self.servers[name].address})
                       for name, spec in self.lab.instruments.items()}
        return self.lab.model_copy(update={"instruments": instruments})

    async def start(self) -> None:
        for server in self.servers.values():
            await server.start()

    async def stop(self) -> None:
        for server in self.servers.values():
            await server.stop()

    def start_in_thread(self, timeout: float = 10.0) -> VirtualLab:
        """Serve from a background thread of this process; returns once every port is listening."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"virtual-lab-{self.lab.name}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise DriverError(f"virtual lab {self.lab.name!r} did not start within {timeout:g} s")
        if errors:
            raise DriverError(f"virtual lab {self.lab.name!r} could not start: {errors[0]}") from errors[0]
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop the servers and the background thread started by :meth:`start_in_thread`."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        self._loop = self._thread = None

    def __enter__(self) -> VirtualLab:
        return self.start_in_thread() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def inject(self, instrument: str, fault: Fault, delay: float = 0.0) -> None:
        """Make ``instrument`` misbehave from its next message on, until healed with ``Fault.NONE``: ``MUTE``
        (reads, never executes nor answers), ``SLOW`` (executes, answers each query ``delay`` seconds late),
        ``DROP`` (closes every connection at its next message), ``CORRUPT`` (executes, garbles every answer).
        Safe to call from any thread while the lab serves (docs/instruments/fault_injection.md)."""
        target = self.instruments.get(instrument)
        if target is None:
            raise DriverError(f"virtual lab has no instrument {instrument!r}; instruments: "
                              f"{', '.join(self.instruments)}")
        if not isinstance(fault, Fault):
            raise DriverError(f"inject({instrument!r}, {fault!r}): the fault must be one of "
                              f"{', '.join(f'Fault.{f.name}' for f in Fault)}")
        if not 0.0 <= delay <= 3600.0:
            raise DriverError(f"inject({instrument!r}, {fault}, delay={delay!r}): the delay must be in [0, 3600] s")
        target.fault, target.fault_delay = fault, delay

    def drift(self, qubit: int, *, frequency_shift: float = 0.0, amplitude_scale: float = 1.0) -> None:
        """Make the device drift (see ``VirtualDevice.drift``); safe while the lab serves."""
        with self._device_lock:
            self.device.drift(qubit, frequency_shift=frequency_shift, amplitude_scale=amplitude_scale)

    # -- physics -------------------------------------------------------------------------------------------------
    def _trigger(self) -> None:
        """An AWG started: the shared trigger fires once every AWG that has something assigned is running (the
        AWGs of a lab start on one trigger, as a master AWG's marker or a trigger box would make them)."""
        awgs = [i for i in self.instruments.values() if isinstance(i, Awg5208Emulation)
                and any(i.output_on(channel) for channel in i.assets)]
        if any(awg.run_state == "stopped" for awg in awgs):
            return
        for instrument in self.instruments.values():
            if isinstance(instrument, DigitizerEmulation):
                instrument.trigger()

    def _acquisition(self, name: str) -> Callable[[DigitizerEmulation], Callable[[], list[NDArray[np.complex128]]]]:
        def gather(digitizer: DigitizerEmulation) -> Callable[[], list[NDArray[np.complex128]]]:
            """Runs in the event loop: capture what every instrument plays now; return the computation."""
            awgs = {n: i for n, i in self.instruments.items() if isinstance(i, Awg5208Emulation)}
            for awg_name, awg in awgs.items():
                expected = self.lab.timing.awgs[awg_name].sample_rate if awg_name in self.lab.timing.awgs else None
                if awg.run_state != "stopped" and expected is not None and abs(awg.sample_rate - expected) > 1e-3:
                    raise DriverError(f"AWG {awg_name!r} clock is {awg.sample_rate:g} S/s but the lab file says "
                                      f"{expected:g} S/s")
            los = {n: LoState(i.frequency, i.power, i.output) for n, i in self.instruments.items()
                   if isinstance(i, Sgs100aEmulation)}
            windows = list(digitizer.windows)
            weights = dict(digitizer.weights)
            by_point: dict[int, list[int]] = {}
            for i, w in enumerate(windows):
                by_point.setdefault(w.point, []).append(i)
            points = sorted(by_point)
            played = {p: {n: awg.played(p) for n, awg in awgs.items()} for p in points}
            shots, raw, rate = digitizer.shots, digitizer.raw, digitizer.sample_rate

            def compute() -> list[NDArray[np.complex128]]:
                started = time.perf_counter()
                results: list[NDArray[np.complex128] | None] = [None] * len(windows)
                # The physics multiplies small matrices; BLAS worker threads only spin against the serving
                # threads (runs of 0.25 s took 2.6 s now and then), so it runs single-threaded.
                with self._device_lock, threadpool_limits(limits=1, user_api="blas"):
                    for p in points:
                        indices = by_point[p]
                        acquisitions = [
                            Acquisition(name, str(windows[i].input), windows[i].start / rate, windows[i].length,
                                        windows[i].demod_frequency,
                                        None if raw else _weights(weights, windows[i].weights, windows[i].length))
                            for i in indices]
                        for i, data in zip(indices, self.device.run(played[p], los, acquisitions, shots)):
                            results[i] = data
                digitizer.compute_seconds = time.perf_counter() - started
                return [r for r in results if r is not None]

            return compute

        return gather


def _weights(table: Mapping[int, NDArray[np.complex128]], index: int, length: int) -> NDArray[np.complex128]:
    if index < 0:
        return np.full(length, 1.0 / length, dtype=np.complex128)
    return table[index]
