"""Done-when of issue 19 (OpenPulse): a program whose ``defcal x $0`` replaces the lab's calibrated x runs on the
virtual lab, and the AWG plays the defcal's pulse, not the calibrated one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from qubitlab import pulse

from qubitlab.pulse.channels import Channel, ControlChannel, DriveChannel, MeasureChannel

DURATION, SIGMA, AMP = 96, 24.0, 0.3


def _channels(named: dict[str, float]) -> dict[Channel, float]:
    kinds = {"d": DriveChannel, "u": ControlChannel, "m": MeasureChannel}
    return {kinds[n[0]](int(n[1:])): f for n, f in named.items() if n[0] in kinds}


def _program(f_d0: float, f_m0: float) -> str:
    return f"""OPENQASM 3.0;
defcalgrammar "openpulse";
cal {{
  port d0;
  port m0;
  frame q0_drive = newframe(d0, {f_d0!r}, 0.0);
  frame q0_readout = newframe(m0, {f_m0!r}, 0.0);
}}
defcal x $0 {{
  play(q0_drive, gaussian({AMP}, {DURATION}dt, {SIGMA}dt));
}}
bit[1] c;
x $0;
c[0] = measure $0;
"""


def _envelope(payload: Any, outputs: tuple[str, str]) -> np.ndarray:
    i, q = (payload.played(o, 0).astype(np.float64) for o in outputs)
    return np.abs(i + 1j * q)  # type: ignore[no-any-return]


def test_defcal_x_is_what_the_awg_plays(calibrated_2q: Any) -> None:
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore
    from qubitlab.calibration.frames import frames
    from qubitlab.calibration.gates import gate_map_from_snapshot
    from qubitlab.circuits import Circuit, Target, lower
    from qubitlab.circuits.openpulse import program_from_qasm3
    from qubitlab.drivers.open import open_lab
    from qubitlab.pulse.compiler import compile

    lab = load_lab(calibrated_2q[0])
    with CalibrationStore.for_lab(lab) as store:
        snapshot = store.snapshot()
    gate_map = gate_map_from_snapshot(lab, snapshot)
    named = frames(lab, snapshot)
    program = program_from_qasm3(_program(named["d0"], named["m0"]), gate_map, frequencies=_channels(named))
    assert program.gate_map.entries[("measure", (0,))] is gate_map.entries[("measure", (0,))]
    assert program.gate_map.entries[("x", (0,))] is not gate_map.entries[("x", (0,))]
    assert gate_map.entries[("x", (0,))].schedule.duration != DURATION  # the lab's map is not changed

    ours = compile(lower(program.circuit, program.gate_map, Target.from_lab(lab, program.gate_map)), lab, named)
    theirs = compile(lower(Circuit(1, 1).x(0).measure(0, 0), gate_map, Target.from_lab(lab, gate_map)), lab, named)
    awg = ours.payloads["awg"]
    with open_lab(lab) as opened:
        opened.executor.run(ours, shots=64, rep_delay=lab.bringup.rep_delay, snapshot_id=snapshot.id)
        emulation = opened.virtual.instruments["awg"]  # type: ignore[union-attr]
        for key, samples in awg.waveforms.items():  # type: ignore[attr-defined]
            np.testing.assert_array_equal(emulation.waveforms[key], samples)  # what the AWG was given

    envelope = _envelope(awg, ("1", "2"))  # d0's line: outputs 1 (I) and 2 (Q)
    played = np.flatnonzero(envelope > 1e-6 * envelope.max())
    assert played[-1] - played[0] + 1 == DURATION  # one 96-sample pulse on d0's line, nothing else

    # the same circuit with the defcal's pulse written by hand into a copy of the lab's map plays bit for bit alike
    with pulse.build() as by_hand:
        pulse.play(pulse.Gaussian(DURATION, AMP, SIGMA), pulse.DriveChannel(0))
    manual = replace(gate_map, entries=dict(gate_map.entries)).add("x", (0,), by_hand)
    expected = compile(lower(Circuit(1, 1).x(0).measure(0, 0), manual, Target.from_lab(lab, manual)), lab, named)
    for output in awg.outputs:  # type: ignore[attr-defined]
        np.testing.assert_array_equal(awg.played(output, 0), expected.payloads["awg"].played(output, 0))  # type: ignore[attr-defined]

    calibrated = _envelope(theirs.payloads["awg"], ("1", "2"))
    calibrated_len = np.ptp(np.flatnonzero(calibrated > 1e-6 * calibrated.max())) + 1
    assert calibrated_len != DURATION  # the lab's own x plays another length


def test_calibrated_gate_map_exports_and_reads_back_identically(calibrated_2q: Any) -> None:
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore
    from qubitlab.calibration.frames import frames
    from qubitlab.calibration.gates import gate_map_from_snapshot
    from qubitlab.circuits.openpulse import calibrations_from_qasm3
    from qubitlab.circuits.openpulse_export import gate_map_to_qasm3

    lab = load_lab(calibrated_2q[0])
    with CalibrationStore.for_lab(lab) as store:
        snapshot = store.snapshot()
    gate_map = gate_map_from_snapshot(lab, snapshot)
    frequencies = _channels(frames(lab, snapshot))
    text = gate_map_to_qasm3(gate_map, frequencies)
    back = calibrations_from_qasm3(text, dt=lab.timing.dt, frequencies=frequencies).defcals
    assert sorted(back) == gate_map.calibrated()
    assert {("x", (0,)), ("sx", (1,)), ("measure", (0,)), ("ecr", (0, 1))} <= set(back)
    for key, entry in gate_map.entries.items():
        values = {p: 0.37 for p in entry.params}
        first = pulse.render(entry.schedule.assign_parameters(values, inplace=False), dt=lab.timing.dt)
        again = back[key]
        second = pulse.render(again.schedule.assign_parameters(dict(zip(again.params, [0.37] * len(again.params))),
                                                               inplace=False), dt=lab.timing.dt)
        assert first.keys() == second.keys(), key
        for ch in first:
            np.testing.assert_array_equal(second[ch], first[ch], err_msg=f"{key} {ch}")
