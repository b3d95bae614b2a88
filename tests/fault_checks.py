"""What a fault left behind, read from the virtual lab's emulations (never from a driver's cache)."""

from __future__ import annotations

from qubitlab.drivers.mock.awg5208 import Awg5208Emulation
from qubitlab.drivers.mock.digitizer import DigitizerEmulation, State
from qubitlab.drivers.mock.lab import VirtualLab
from qubitlab.drivers.mock.sgs100a import Sgs100aEmulation


def unsafe(virtual: VirtualLab) -> dict[str, str]:
    """Instrument -> what is not safe about it, read from the emulations (not from any driver)."""
    found = {}
    for name, inst in virtual.instruments.items():
        if isinstance(inst, Awg5208Emulation):
            on = [ch for ch in range(1, 9) if inst.output_on(ch)]
            if inst.run_state != "stopped" or on:
                found[name] = f"run state {inst.run_state}, outputs on {on}"
        elif isinstance(inst, Sgs100aEmulation) and inst.output:
            found[name] = "RF on"
        elif isinstance(inst, DigitizerEmulation) and inst.state in (State.ARMED, State.BUSY):
            found[name] = f"state {inst.state.value}"
    return found


def awgs_unsafe(virtual: VirtualLab) -> dict[str, str]:
    return {n: why for n, why in unsafe(virtual).items() if isinstance(virtual.instruments[n], Awg5208Emulation)}
