"""The virtual lab's physics engine (issue 5, in progress).

Landed: the device schema of a lab file's ``device:`` section (``device``), exact propagation of
piecewise-constant Hamiltonians and Lindbladians (``propagate``), transmon Hamiltonians with exchange coupling
and drives (``transmon``), and dispersive readout with ring-up, T1 decay in the window and white noise
(``readout``). Next: the drive path from AWG samples, LOs and wiring, and the engine behind the virtual
instruments.
"""
