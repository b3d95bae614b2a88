"""Lab configuration: what is in the rack and how it is wired, loaded from ``lab_configs/*.yaml``.

``load_lab(path)`` returns a validated, frozen :class:`LabConfig`; every problem is a ``ConfigError`` naming
the file, the key path and what would be valid. The schema is documented in ``lab_configs/README.md``.
"""

from __future__ import annotations

from qubitlab.config.instruments import INSTRUMENT_MODELS, InstrumentModel, Role
from qubitlab.config.loader import load_lab
from qubitlab.config.models import Channel, Instrument, LabConfig, Line

__all__ = ["INSTRUMENT_MODELS", "Channel", "Instrument", "InstrumentModel", "LabConfig", "Line", "Role", "load_lab"]
