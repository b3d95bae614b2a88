"""An OpenQASM 3 program that brings its own pulse: ``defcal x $0`` with OpenPulse, run on the virtual lab.

What it shows: a ``cal`` block declares ports and frames (at the calibrated frequencies), and a ``defcal``
replaces the lab's calibrated x on qubit 0 *for this program only* (``program_from_qasm3`` returns a copy of the
gate map); the circuit is lowered, compiled and run through the same pure path the daemon uses. Two programs:
the defcal plays the closed-form pi pulse of a plain Gaussian (160 samples, sigma 40: amplitude
1 / (2 * rabi_per_volt * full scale * line gain * area) = 0.0611 of full scale on virtual_2q), then half of it.

Run it: ``python examples/openqasm_defcal.py`` (about 50 s with the bring-up it starts with). Last lines:
``RESULT p1_pi=<P(1) after the defcal's pi pulse>`` and ``RESULT p1_half=<P(1) after half of it>``.
"""

from __future__ import annotations

from _calibrated import calibrated_lab, output_folder

from qubitlab import load_lab
from qubitlab.calibration import CalibrationStore
from qubitlab.calibration.frames import frames
from qubitlab.calibration.gates import gate_map_from_snapshot
from qubitlab.circuits import Target, lower
from qubitlab.circuits.openpulse import program_from_qasm3
from qubitlab.drivers import decode
from qubitlab.drivers.open import open_lab
from qubitlab.pulse.channels import DriveChannel, MeasureChannel
from qubitlab.pulse.compiler import compile

PI_AMP = 0.0611
# P(1) after a pi pulse is the readout's P(1|1) (>= 0.95 on the calibrated device, less the plain Gaussian's
# ~1e-2 leakage and phase error without DRAG); half the amplitude is a pi/2 rotation: P(1) = 0.5 +- readout
# asymmetry and 2000-shot noise (0.011).
EXPECT = {"p1_pi": (0.9, 1.0), "p1_half": (0.4, 0.6)}

PROGRAM = """OPENQASM 3.0;
defcalgrammar "openpulse";
cal {{
  port d0;
  port m0;
  frame q0_drive = newframe(d0, {f_d0!r}, 0.0);
  frame q0_readout = newframe(m0, {f_m0!r}, 0.0);
}}
defcal x $0 {{
  play(q0_drive, gaussian({amp}, 160dt, 40dt));
}}
bit[1] c;
x $0;
c[0] = measure $0;
"""


def main() -> None:
    lab = load_lab(calibrated_lab(output_folder()))
    with CalibrationStore.for_lab(lab) as store:
        snapshot = store.snapshot()
    gate_map = gate_map_from_snapshot(lab, snapshot)
    named = frames(lab, snapshot)
    channel_frames = {DriveChannel(0): named["d0"], MeasureChannel(0): named["m0"]}
    discriminator = decode.JointDiscriminator.from_values(snapshot.to_values(), [0])
    with open_lab(lab) as opened:
        for label, amp in (("p1_pi", PI_AMP), ("p1_half", PI_AMP / 2)):
            text = PROGRAM.format(f_d0=named["d0"], f_m0=named["m0"], amp=amp)
            program = program_from_qasm3(text, gate_map, frequencies=channel_frames)
            schedule = lower(program.circuit, program.gate_map, Target.from_lab(lab, program.gate_map))
            compiled = compile(schedule, opened.connected, named)
            raw = opened.executor.run(compiled, shots=2000, rep_delay=lab.bringup.rep_delay,
                                      snapshot_id=snapshot.id)
            bits = discriminator.bits([raw.data[0]])                  # (points, shots, 1)
            p1 = float(bits[0, :, 0].mean())
            print(f"defcal x $0 = gaussian({amp:.4f}, 160dt, 40dt): P(1) = {p1:.4f}")
            print(f"RESULT {label}={p1:.4f}")


if __name__ == "__main__":
    main()
