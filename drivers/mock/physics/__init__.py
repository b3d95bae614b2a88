"""The virtual lab's physics engine: transmons that answer instrument-level signals with physics.

``engine.VirtualDevice`` is the entry point (AWG voltages, LO states and digitizer windows in; shots out);
``drive``, ``evolve``, ``readout``, ``transmon`` and ``propagate`` are the parts. The device parameters they
read are the lab file's typed ``device:`` section, ``qubitlab.config.device.DeviceConfig``. See
docs/architecture.md.
"""
