"""Issue 22: matched-filter integration weights. On a device where they should help (T1 of 8 us under a 2 us
window, and the resonator's ring-up), the stored filter beats the boxcar, and the SNR gain it gives matches the
closed form computed here from the mean traces and the lab file's white noise.

Closed form (white noise ``sigma`` per digitizer sample and quadrature, mean difference trace ``D`` over ``N``
samples, digitizer computing ``sum conj(w) x``): separation ``|sum conj(w) D|``, noise ``sigma ||w||``, so
``SNR_w / SNR_boxcar = |sum conj(w) D| sqrt(N) / (||w|| |sum D|)``; no weights can beat ``||D|| sqrt(N) / |sum D|``
(Cauchy-Schwarz), reached by ``w = D``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from qubitlab import pulse
from qubitlab.calibration import bringup, schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiments import readout_weights
from qubitlab.calibration.experiments.readout_optimisation import assignment
from qubitlab.calibration.session import open_calibration
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.drivers.payloads import DigitizerProgram
from qubitlab.pulse.compiler import compile

ROOT = Path(__file__).resolve().parents[2]
UP_TO_READOUT = ("resonator_spectroscopy", "qubit_spectroscopy", "rabi", "ramsey", "readout_frequency")
SHOTS = 6000


def short_t1_lab(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "lab_configs" / "virtual_2q_hard.yaml").read_text())
    data["device"]["qubits"][0].update(t1=8e-6, t2=8e-6, readout_noise=2.0)
    data["device"]["qubits"][1].update(readout_noise=2.0)  # the input's noise is the mean over its resonators
    data["bringup"].update(readout_amp=0.3, readout_duration=0.8e-6)
    path = tmp_path / "short_t1.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def single_shots(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """IQ points of q0 prepared in |0> and |1>, read with whatever ``ctx``'s snapshot gives the measure."""
    prepared = []
    for excite in (False, True):
        with pulse.build() as schedule:
            with pulse.align_sequential():
                if excite:
                    schedules.x(ctx, 0)
                schedules.measure(ctx, [0])
        prepared.append(schedule)
    iq = np.asarray(ctx.run(prepared, shots=SHOTS)[0], dtype=np.complex128)
    return iq[0], iq[1]


def emitted_weights(ctx: Context) -> np.ndarray:
    with pulse.build() as schedule:
        schedules.measure(ctx, [0])
    (dig,) = [p for p in compile(schedule, ctx.lab, ctx.frames()).payloads.values() if isinstance(p, DigitizerProgram)]
    return np.asarray(dig.windows[0].weights)


def snr(iq0: np.ndarray, iq1: np.ndarray) -> float:
    return float(abs(iq1.mean() - iq0.mean()) / np.sqrt((iq0.real.var() + iq0.imag.var()) / 2))


def test_the_matched_filter_beats_the_boxcar_by_the_closed_form_gain(tmp_path: Path) -> None:
    with open_calibration(short_t1_lab(tmp_path)) as session:
        graph = [n for n in bringup.GRAPH if n.name in UP_TO_READOUT]
        outcomes = bringup.calibrate(session.ctx, session.ledger, bringup.plan(session.ledger, [0], [], graph=graph),
                                     bringup.default_runner)
        assert all(o.passed for o in outcomes), [o.summary() for o in outcomes if not o.passed]
        ctx = session.ctx
        boxcar_ctx = dataclasses.replace(ctx, snapshot=Snapshot.of(ctx.snapshot.to_values()))
        mean0, mean1 = readout_weights.mean_traces(ctx, 0, SHOTS)
        weights_outcome = readout_weights.run(ctx, 0)
        assert weights_outcome.passed and "matched filter kept" in weights_outcome.message, weights_outcome.summary()
        ctx.update(dict(weights_outcome.updates))
        w = emitted_weights(ctx)
        assert emitted_weights(boxcar_ctx) == pytest.approx(np.full(w.shape[0], 1 / w.shape[0]))
        box0, box1 = single_shots(boxcar_ctx)
        mf0, mf1 = single_shots(ctx)
        sigma = session.lab.device.qubits[0].readout_noise  # type: ignore[union-attr]

    n = w.shape[0]
    d = mean1 - mean0
    assert d.shape == (n,)
    expected = abs(np.vdot(w, d)) * np.sqrt(n) / (np.linalg.norm(w) * abs(np.sum(d)))
    # the white noise, through each set of weights, is the lab file's sigma times ||w||
    assert np.sqrt((box0.real.var() + box0.imag.var()) / 2) == pytest.approx(sigma / np.sqrt(n), rel=0.04)
    assert np.sqrt((mf0.real.var() + mf0.imag.var()) / 2) == pytest.approx(sigma * np.linalg.norm(w), rel=0.04)
    measured = snr(mf0, mf1) / snr(box0, box1)
    assert measured == pytest.approx(expected, rel=0.05), (measured, expected)
    # the stored knots come near the best any weights can do (D's own noise taken out of ||D||)
    noise_power = n * 2 * 2 * sigma ** 2 / SHOTS  # two quadratures, two means of SHOTS shots each
    ideal = np.sqrt(np.linalg.norm(d) ** 2 - noise_power) * np.sqrt(n) / abs(np.sum(d))
    assert 1.03 < expected <= ideal * 1.01 and expected >= 0.97 * ideal, (expected, ideal)
    boxcar, matched = assignment(box0, box1), assignment(mf0, mf1)
    assert matched.fidelity >= boxcar.fidelity, (matched.fidelity, boxcar.fidelity)
    print(f"SNR gain {measured:.3f} (closed form {expected:.3f}, ideal {ideal:.3f}); "
          f"F boxcar {boxcar.fidelity:.4f} -> matched {matched.fidelity:.4f}")
