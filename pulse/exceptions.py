"""Pulse errors under the names Qiskit Pulse used (``qiskit.pulse.exceptions``); all are ``QubitlabError``s."""

from qubitlab.errors import PulseError, UnassignedDurationError, UnassignedReferenceError

BackendNotSet = PulseError

__all__ = ["BackendNotSet", "PulseError", "UnassignedDurationError", "UnassignedReferenceError"]
