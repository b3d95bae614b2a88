"""qubitlab: a control stack for superconducting-qubit labs.

This is the *shell* package: errors, units, lab-config loading, the command line and top-level re-exports.
The layers live in their own folders, mapped to ``qubitlab.drivers``, ``qubitlab.pulse``,
``qubitlab.circuits``, ``qubitlab.calibration`` and ``qubitlab.runtime`` (see ``docs/architecture.md``).

Importing ``qubitlab`` stays cheap: the layers are imported when first touched (``qubitlab.pulse``), never here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qubitlab.errors import (
    CalibrationError,
    CompilationError,
    ConfigError,
    DriverError,
    InstrumentTimeout,
    JobError,
    ProtocolError,
    PulseError,
    QubitlabError,
)

__version__ = "0.1.0.dev0"

_LAZY_SUBMODULES = ("pulse", "drivers", "circuits", "calibration", "runtime")

if TYPE_CHECKING:
    from qubitlab import calibration, circuits, drivers, pulse, runtime
    from qubitlab.config import LabConfig, load_lab


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"qubitlab.{name}")
    if name in ("load_lab", "LabConfig"):
        return getattr(importlib.import_module("qubitlab.config"), name)
    raise AttributeError(f"module 'qubitlab' has no attribute {name!r}")


__all__ = [
    "CalibrationError",
    "CompilationError",
    "ConfigError",
    "DriverError",
    "InstrumentTimeout",
    "JobError",
    "LabConfig",
    "ProtocolError",
    "PulseError",
    "QubitlabError",
    "__version__",
    "calibration",
    "circuits",
    "drivers",
    "load_lab",
    "pulse",
    "runtime",
]
