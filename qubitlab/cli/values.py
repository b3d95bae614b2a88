"""Numbers typed on the command line, read strictly: plain decimal, optionally followed by a unit of the key.

Python's ``float()`` takes ``1_000``, ``٣`` and ``infinity``, and the store's quantity parser reads ``0x10`` as
the number 0 with the unit ``x10``. A value an operator types is written into the calibration store or sent to a
running lab, so anything but ``[sign] digits [. digits] [e exponent] [unit]`` in ASCII is refused here, with a
message saying what would be valid, before any store is opened. ``nan`` and ``inf`` pass as words so that the
store's own check can refuse them as not finite.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from qubitlab.errors import CalibrationError

if TYPE_CHECKING:
    from qubitlab.calibration.parameters import ParamKey

_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?:nan|infinity|inf)"
_DECIMAL = re.compile(rf"^(?:{_NUMBER})$", re.IGNORECASE)
_QUANTITY = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*(?P<suffix>\S.*?)?\s*$", re.IGNORECASE)
_RADIX = re.compile(r"^\s*[-+]?0(?P<kind>[xXoObB])")
_UNITS = {"Hz": ("Hz", "kHz", "MHz", "GHz"), "s": ("s", "ms", "us", "ns")}
"""The units suggested in messages for each SI base unit the store knows (any SI prefix is accepted)."""
DECIMAL_HELP = "a decimal number such as 5.0012e9, 0.31 or -330e6"


def _radix_name(text: str) -> str | None:
    match = _RADIX.match(text)
    if match is None:
        return None
    return {"x": "a hexadecimal", "o": "an octal", "b": "a binary"}[match["kind"].lower()]


def decimal(text: str, what: str) -> float:
    """``text`` as a float, refused unless it is a plain decimal number; ``what`` names it in the message."""
    radix = _radix_name(text)
    if radix is not None:
        raise CalibrationError(f"{what}: {text!r} is {radix} number; write it in decimal ({DECIMAL_HELP})")
    if not _DECIMAL.match(text.strip()):
        raise CalibrationError(f"{what}: {text!r} is not a number; valid: {DECIMAL_HELP}")
    return float(text)


def valid_units(key: ParamKey) -> str:
    """What may follow a number for ``key``, for messages."""
    unit = key.spec.unit
    if not unit:
        return f"no unit ({key.spec.name} is dimensionless, e.g. 0.31)"
    return f"nothing (the number is in {unit}) or one of " + ", ".join(_UNITS.get(unit, (unit,)))


def quantity(text: str, key: ParamKey) -> tuple[float, str | None]:
    """VALUE of ``cal set KEY VALUE``: ``"5.0012e9"`` -> ``(5.0012e9, None)``, ``"5.0012 GHz"`` or ``"5.0012GHz"``
    -> ``(5.0012, "GHz")``. A suffix that is not a unit of ``key`` is refused as a stray suffix, naming ``key``."""
    from qubitlab.calibration.parameters import unit_exponent

    radix = _radix_name(text)
    if radix is not None:
        raise CalibrationError(f"{key}: value {text!r} is {radix} number; write it in decimal "
                               f"({DECIMAL_HELP}), followed by {valid_units(key)}")
    match = _QUANTITY.match(text)
    if match is None:
        raise CalibrationError(f"{key}: value {text!r} is not a number; valid: {DECIMAL_HELP}, followed by "
                               f"{valid_units(key)}")
    number, suffix = float(match["number"]), match["suffix"]
    if suffix is None:
        return number, None
    try:
        unit_exponent(suffix, key.spec, str(key))
    except CalibrationError:
        raise CalibrationError(f"{key}: value {text!r} has the stray suffix {suffix!r} after the number "
                               f"{match['number']}, which is not a unit of {key}; valid after the number: "
                               f"{valid_units(key)}") from None
    return number, suffix


def strict_float(low: float | None = None, *, low_open: bool = False
                 ) -> Callable[[click.Context, click.Parameter, str | None], float | None]:
    """A click option callback: the option's text as a finite plain decimal number, above ``low`` if given
    (not a ``click.ParamType``: its generic form differs between click versions)."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
        if value is None:
            return None
        try:
            number = decimal(str(value), "value")
        except CalibrationError as exc:
            raise click.BadParameter(str(exc).removeprefix("value: "), ctx, param) from None
        if not math.isfinite(number):
            raise click.BadParameter(f"{value!r} is not finite; valid: {DECIMAL_HELP}", ctx, param)
        if low is not None and (number < low or (low_open and number == low)):
            raise click.BadParameter(f"{value!r} must be {'>' if low_open else '>='} {low:g}", ctx, param)
        return number

    return convert
