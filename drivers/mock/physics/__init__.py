"""The virtual lab's physics engine: transmons that answer instrument-level signals with physics.

``engine.VirtualDevice`` is the entry point (AWG voltages, LO states and digitizer windows in; shots out);
``device`` holds the schema of a lab file's ``device:`` section; ``drive``, ``evolve``, ``readout``,
``transmon`` and ``propagate`` are the parts. See docs/architecture.md.
"""
