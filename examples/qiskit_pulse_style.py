"""A Qiskit Pulse 1.x script, unchanged except for its import lines.

It is written the way pulse tutorials for Qiskit 1.x were: the builder, library pulses, parameters, alignment
contexts, phase offsets, a called subroutine, a dynamical-decoupling block and a parameter sweep. Change the
two imports back (``from qiskit import pulse``; ``from qiskit.circuit import Parameter``) and the same script
prints the same lines under Qiskit 1.4 -- the test suite checks that when Qiskit 1.x is installed.

Run it: ``python examples/qiskit_pulse_style.py`` (under a second). One line is ``RESULT bell_duration=<dt>``.
"""

import numpy as np

from qubitlab import pulse  # was: from qiskit import pulse
from qubitlab.pulse import Parameter  # was: from qiskit.circuit import Parameter

# Worked out by hand from the builder's timing rules: sx 160 + ECR (800 + x 160 + 800) + measure 1600 samples.
EXPECT = {"bell_duration": (3520, 3520)}


def describe(title, schedule):
    """Print a schedule as plain data: duration, then (time, instruction, channels, duration) per line."""
    print(f"{title}: duration {schedule.duration}")
    for time, inst in pulse.transforms.block_to_schedule(schedule).instructions:
        channels = ",".join(sorted(c.name for c in inst.channels))
        print(f"  {time:6d} {type(inst).__name__:14s} {channels:10s} {int(inst.duration)}")


d0, d1 = pulse.DriveChannel(0), pulse.DriveChannel(1)
u0 = pulse.ControlChannel(0)
m0, m1 = pulse.MeasureChannel(0), pulse.MeasureChannel(1)

# --- single-qubit gates with DRAG, an echoed cross-resonance gate -------------------------------------------
amp_x = Parameter("amp_x")
with pulse.build(name="x") as x_gate:
    pulse.play(pulse.Drag(duration=160, amp=amp_x, sigma=40, beta=0.8), d0)

with pulse.build(name="sx") as sx_gate:
    pulse.play(pulse.Drag(duration=160, amp=0.09, sigma=40, beta=0.8), d0)

with pulse.build(name="ecr") as ecr:
    with pulse.align_sequential():
        with pulse.align_left():
            pulse.play(pulse.GaussianSquare(duration=800, amp=0.2, sigma=64, width=544), u0)
            pulse.play(pulse.GaussianSquare(duration=800, amp=0.03, sigma=64, width=544, angle=np.pi / 2), d1)
        pulse.call(x_gate, amp_x=0.18)
        with pulse.phase_offset(np.pi, u0, d1):
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(duration=800, amp=0.2, sigma=64, width=544), u0)
                pulse.play(pulse.GaussianSquare(duration=800, amp=0.03, sigma=64, width=544, angle=np.pi / 2), d1)

# --- readout of both qubits, a barrier to line everything up -----------------------------------------------
with pulse.build(name="measure") as measure:
    pulse.barrier(d0, d1, u0, m0, m1)
    for m, q in ((m0, 0), (m1, 1)):
        pulse.play(pulse.GaussianSquare(duration=1600, amp=0.1, sigma=64, risefall_sigma_ratio=2), m)
        pulse.acquire(1600, pulse.AcquireChannel(q), pulse.MemorySlot(q))

with pulse.build(name="bell") as bell:
    with pulse.align_sequential():
        pulse.call(sx_gate)
        pulse.shift_phase(-np.pi / 2, d0)
        pulse.call(ecr)
        pulse.call(measure)
describe("bell", bell)

# --- a Hahn echo with dynamical decoupling, an equispaced context of parametrised length -------------------
with pulse.build(name="cpmg") as cpmg:
    pulse.call(sx_gate)
    with pulse.align_equispaced(duration=2000):
        for _ in range(4):
            pulse.play(pulse.Drag(duration=160, amp=0.18, sigma=40, beta=0.8, angle=np.pi / 2), d0)
    pulse.call(sx_gate)
describe("cpmg", cpmg)
print(f"RESULT bell_duration={bell.duration}")

# --- a Rabi sweep: one template, eleven bound copies -------------------------------------------------------
amp = Parameter("amp")
with pulse.build(name="rabi") as rabi:
    pulse.play(pulse.Gaussian(duration=160, amp=amp, sigma=40), d0)
    pulse.call(measure)

sweep = [rabi.assign_parameters({amp: a}, inplace=False) for a in np.linspace(0, 0.5, 11)]
print("rabi template parameters:", sorted(p.name for p in rabi.parameters))
for schedule in sweep[::5]:
    play = next(inst for _, inst in schedule.instructions if isinstance(inst, pulse.Play))
    samples = play.pulse.get_waveform().samples
    print(f"rabi amp {play.pulse.amp:.2f}: peak {np.max(np.abs(samples)):.12f} area {np.sum(samples).real:.12f}")

# --- the Schedule interface, with absolute times -----------------------------------------------------------
sched = pulse.Schedule(name="manual")
sched += pulse.Play(pulse.Constant(100, 0.1), d0)
sched |= pulse.Play(pulse.Sin(100, 0.2, phase=0.0), d1) << 50
sched = sched.insert(300, pulse.ShiftPhase(np.pi, d0))
print("manual:", [(t, type(i).__name__, i.channel.name) for t, i in sched.instructions], sched.duration)
