"""The virtual lab's physics engine (issue 5, in progress).

Landed: exact propagation of piecewise-constant Hamiltonians and Lindbladians (``propagate``) and transmon
Hamiltonians with exchange coupling and drives (``transmon``). Next: the device schema read from a lab file's
``device:`` section, the drive path from AWG samples, LOs and wiring, readout, and the engine behind the
virtual instruments.
"""
