"""Every error qubitlab raises, under one root.

One module so that a caller can catch ``QubitlabError`` for "anything qubitlab refused", or one stage's error
for that stage, and so that the runtime can rebuild errors that crossed the wire from an explicit allow-list
(:data:`WIRE_ERRORS`) instead of importing whatever name a message carries.

Messages say what was wrong *and* what would be valid or what to do next.
"""

from __future__ import annotations


class QubitlabError(Exception):
    """Root of every error qubitlab raises on purpose."""


class ConfigError(QubitlabError):
    """A lab configuration file (or a part of it) is invalid; the message names the file and key."""


class PulseError(QubitlabError):
    """A pulse, instruction or schedule is invalid (same name as Qiskit Pulse's ``PulseError``)."""


class UnassignedDurationError(PulseError):
    """A duration is still a parameter where a number is needed to place instructions in time."""


class UnassignedReferenceError(PulseError):
    """A ``Reference`` was not assigned a schedule before it was needed."""


class CircuitError(QubitlabError):
    """A circuit, observable or program text is invalid, or cannot be translated or lowered for this device."""


class CompilationError(QubitlabError):
    """The compiler refused a schedule; names the pass, channel, time (in samples) and instruction."""

    def __init__(
        self,
        message: str,
        *,
        pass_name: str | None = None,
        channel: str | None = None,
        time: int | None = None,
        instruction: str | None = None,
    ) -> None:
        self.pass_name = pass_name
        self.channel = channel
        self.time = time
        self.instruction = instruction
        where = [
            f"{label} {value}"
            for label, value in (
                ("pass", pass_name),
                ("channel", channel),
                ("t =", None if time is None else f"{time} samples"),
                ("instruction", instruction),
            )
            if value is not None
        ]
        super().__init__(f"{message} [{', '.join(where)}]" if where else message)


class DriverError(QubitlabError):
    """An instrument refused a command or answered something unexpected; names instrument and command."""


class InstrumentTimeout(DriverError, TimeoutError):
    """An instrument did not answer within its configured timeout."""


class CalibrationError(QubitlabError):
    """A calibration experiment, fit, quality gate or store operation failed."""


class ProtocolError(QubitlabError):
    """A message on the wire is malformed, of an unknown type, or of an unsupported protocol version."""


class AuthenticationError(QubitlabError):
    """A client or message could not be authenticated."""


class JobError(QubitlabError):
    """A job failed, was cancelled, or was asked for in a state that cannot answer."""


WIRE_ERRORS: dict[str, type[QubitlabError]] = {
    cls.__name__: cls
    for cls in (
        QubitlabError,
        ConfigError,
        PulseError,
        UnassignedDurationError,
        UnassignedReferenceError,
        CircuitError,
        CompilationError,
        DriverError,
        InstrumentTimeout,
        CalibrationError,
        ProtocolError,
        AuthenticationError,
        JobError,
    )
}
"""Errors that may be rebuilt from a ``{type, message}`` pair received over the wire; anything else becomes
a plain :class:`QubitlabError`."""


def error_from_wire(type_name: str, message: str) -> QubitlabError:
    """Rebuild an error sent as ``{type, message}``, only from the allow-list :data:`WIRE_ERRORS`."""
    cls = WIRE_ERRORS.get(type_name)
    if cls is None:
        return QubitlabError(f"{type_name}: {message}")
    return cls(message)
