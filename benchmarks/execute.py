"""Execution benchmarks: compiled programs run end to end on a virtual lab, through real sockets.

E1: a 100-point Rabi amplitude sweep, 1000 shots per point, on ``virtual_2q.yaml`` -- compile, upload,
configure, run, fetch. The first (cold) run uploads every waveform; the timed (warm) runs find them on the
instrument and upload nothing. Target: 1 s median. Reference: the same 100 points through ``VirtualDevice``
directly (the physics alone, no instruments), measured in the same run.
E2: host overhead of a one-point program: the run's wall time minus the time the virtual digitizer spent in
the physics (``ACQuire:TIME?``), i.e. everything the executor, the drivers, the sockets and the SCPI servers
cost. Target 10 ms. Reference: one ``*IDN?`` round trip.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._harness import Row, Timing, measure
from qubitlab import load_lab, pulse
from qubitlab.lab_demo import demo_frames, rabi_schedule as rabi

ROOT = Path(__file__).resolve().parents[1]


def run(repeat: int = 10) -> list[Row]:
    from qubitlab.drivers.executor import Executor
    from qubitlab.drivers.mock.lab import VirtualLab
    from qubitlab.drivers.mock.physics.drive import LoState
    from qubitlab.drivers.mock.physics.engine import Acquisition
    from qubitlab.drivers.station import build_station, close_station, open_resource
    from qubitlab.pulse.compiler import compile

    lab = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
    frames = demo_frames(lab)
    amp = pulse.Parameter("amp")
    schedule = rabi(amp)
    values = [{amp: float(a)} for a in np.linspace(-0.8, 0.8, 100)]
    rows: list[Row] = []
    with VirtualLab(lab, seed=11) as virtual:
        connected = virtual.lab_config()
        station = build_station(connected)
        try:
            executor = Executor(station, connected)

            last: list[Any] = []

            def sweep() -> Any:
                result = executor.run(compile(schedule, connected, frames, values=values), shots=1000)
                last[:] = [result]
                return result

            start = time.perf_counter()
            cold = sweep()
            cold_time = time.perf_counter() - start
            warm = measure(sweep, repeat=repeat, warmup=0)
            # the reference: the same points through the physics alone
            program = compile(schedule, connected, frames, values=values)
            awg = virtual.instruments["awg"]
            # a run ends with the outputs off: switch them on in the emulation to read what a run plays
            outputs_on = {f"OUTPut#:STATe/{o}": "1" for o in program.awg_programs()["awg"].outputs}
            saved = {k: awg.settings.get(k) for k in outputs_on}  # type: ignore[attr-defined]
            awg.settings.update(outputs_on)  # type: ignore[attr-defined]
            awg.run_state = "running"  # type: ignore[attr-defined]
            played = [{"awg": awg.played(p)} for p in range(len(values))]  # type: ignore[attr-defined]
            awg.run_state = "stopped"  # type: ignore[attr-defined]
            for key, value in saved.items():
                if value is None:
                    awg.settings.pop(key, None)  # type: ignore[attr-defined]
                else:
                    awg.settings[key] = value  # type: ignore[attr-defined]
            assert any(np.any(v) for point in played for v in point["awg"].values()), "the reference plays nothing"
            lo_states = {n: LoState(s.frequency, s.power, s.output) for n, s in program.lo_settings().items()}
            digitizer = program.digitizer_programs()["digitizer"]
            rate = digitizer.sample_rate

            def physics() -> None:
                for p, outputs in enumerate(played):
                    w = digitizer.windows[p]
                    virtual.device.run(outputs, lo_states, [Acquisition("digitizer", w.input, w.start / rate, w.length,
                                                                        w.demod_frequency, w.weights)], 1000)

            reference = measure(physics, repeat=max(3, repeat // 2), warmup=1)
            rows.append(Row("execute", "reference: the 100 points through VirtualDevice alone", reference))
            rows.append(Row("execute", "E1 100-point Rabi x 1000 shots, end to end (warm)", warm, target=1.0,
                            reference=reference.median, reference_name="physics alone",
                            extra={"cold_first_run_s": cold_time,
                                   "cold_waveforms_uploaded": cold.timings["waveforms_uploaded"],
                                   "warm_stage_seconds": dict(last[0].timings)}))

            one = compile(rabi(0.3), connected, frames)
            executor.run(one, shots=100)
            overheads, totals = [], []
            for _ in range(max(repeat * 3, 20)):
                start = time.perf_counter()
                executor.run(one, shots=100)
                total = time.perf_counter() - start
                totals.append(total)
                overheads.append(total - virtual.instruments["digitizer"].compute_seconds)  # type: ignore[attr-defined]
            resource = open_resource(virtual.addresses["lo_q0"])
            resource.read_termination = resource.write_termination = "\n"
            idn = measure(lambda: resource.query("*IDN?"), repeat=50, warmup=5)
            resource.close()
            rows.append(Row("execute", "reference: one *IDN? round trip", idn))
            rows.append(Row("execute", "E2 host overhead of a one-point program (minus physics)",
                            Timing(tuple(overheads)), target=10e-3, reference=idn.median, reference_name="*IDN?",
                            extra={"median_total_s": statistics.median(totals)}))
        finally:
            close_station(station)
    return rows
