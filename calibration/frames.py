"""Which frequency each frame channel gets: the one rule, used by experiments, the gate map, the runtime,
the demo, the benchmarks and the tests.

The pulse compiler needs a frame frequency (Hz) for every logical channel a program plays on. They come from
the calibration snapshot:

- ``d<q>`` (drive): ``q<q>.frequency``;
- ``m<q>`` (readout): ``q<q>.readout_frequency``, else ``q<q>.resonator_frequency`` (a readout-frequency
  optimisation may move the tone off the resonance; until it has run the tone sits on the resonance);
- ``u<k>`` (control): the frequency of the control channel's *target* qubit, ``q<target>.frequency``: a
  cross-resonance tone drives the control at the target's frequency.

Only during a bring-up (``guesses=True``) may a frequency that is not calibrated yet fall back to the middle of
the lab file's search range (``bringup.qubits.<q>.qubit_range`` / ``resonator_range``), which is where the
first spectroscopy looks. Everywhere else a missing value is an error naming the key and the experiment that
provides it: a job never runs on a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from qubitlab.calibration.parameters import qkey
from qubitlab.errors import CalibrationError

if TYPE_CHECKING:
    from qubitlab.calibration.snapshot import Entry
    from qubitlab.config.models import LabConfig

PROVIDERS = {
    "resonator_frequency": "resonator_spectroscopy", "readout_frequency": "resonator_spectroscopy",
    "frequency": "qubit_spectroscopy", "x_amp": "rabi", "sx_amp": "rabi", "drag_beta": "drag",
    "iq0_re": "readout", "iq0_im": "readout", "iq1_re": "readout", "iq1_im": "readout",
    "pulse_duration": "the lab file's bringup.pulse_duration, or 'qubitlab cal set'",
    "pulse_sigma": "the lab file's bringup.pulse_sigma, or 'qubitlab cal set'",
    "readout_duration": "the lab file's bringup.readout_duration, or 'qubitlab cal set'",
    "readout_amp": "the lab file's bringup.readout_amp, or 'qubitlab cal set'",
    "cr_amp": "cross_resonance", "cr_duration": "cross_resonance", "cr_phase": "cross_resonance",
    "cancel_amp": "cross_resonance", "cancel_phase": "cross_resonance",
}
"""Which experiment (or setting) provides a value first: named in the error when it is missing."""


def provider_hint(key: str) -> str:
    """``"; run rabi first"`` for ``q0.x_amp``, ``""`` when no provider is known."""
    name = key.split(".", 1)[-1]
    if name not in PROVIDERS:
        return ""
    provider = PROVIDERS[name]
    return f"; run {provider} first" if " " not in provider else f"; it comes from {provider}"


def frames(lab: LabConfig, snapshot: Mapping[str, Entry], *, guesses: bool = False,
           channels: Iterable[str] | None = None) -> dict[str, float]:
    """Channel -> frame frequency (Hz) for ``channels`` (default: every wired d, m and u channel of ``lab``).

    ``guesses`` lets an uncalibrated qubit or resonator frequency fall back to the middle of the lab's bring-up
    search range. Raises :class:`CalibrationError` naming every key that is missing."""
    wanted = sorted(lab.wiring.channels) if channels is None else sorted(set(channels))
    out: dict[str, float] = {}
    missing: list[str] = []
    providers: set[str] = set()
    for name in wanted:
        keys, guess = _source(lab, name)
        if not keys:
            continue                               # an acquisition channel or an untargeted u: no frame
        found = next((snapshot[k].value for k in keys if k in snapshot), None)
        if found is None and guesses:
            found = guess
        if found is None:
            missing.append(" or ".join(keys) + f" (for {name})")
            providers.add(PROVIDERS[keys[-1].split(".", 1)[1]])
        else:
            out[name] = found
    if missing:
        raise CalibrationError(f"no frame frequency for lab {lab.name!r}: {'; '.join(missing)}. Run "
                               f"{' and '.join(sorted(providers))}, or set the values with 'qubitlab cal set'")
    return out


def _source(lab: LabConfig, channel: str) -> tuple[tuple[str, ...], float | None]:
    """The calibration keys a channel's frame comes from, in order of preference, and its bring-up guess."""
    kind, index = channel[:1], channel[1:]
    wired = lab.wiring.channels.get(channel)
    if wired is None or not index.isdigit():
        return (), None
    qubit = wired.target if kind == "u" else int(index)
    if kind not in ("d", "m", "u") or qubit is None:
        return (), None
    guess = lab.bringup.qubits.get(qubit) if lab.bringup is not None else None
    if kind == "m":
        middle = sum(guess.resonator_range) / 2 if guess is not None else None
        return (qkey(qubit, "readout_frequency"), qkey(qubit, "resonator_frequency")), middle
    return (qkey(qubit, "frequency"),), sum(guess.qubit_range) / 2 if guess is not None else None
