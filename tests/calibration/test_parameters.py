"""Keys, units and bounds: what the registry accepts, what it refuses and what the refusal says."""

from __future__ import annotations

import math

import pytest

from qubitlab.calibration import PARAMETERS, ParamKey, Scope, Topology, parse_key
from qubitlab.calibration.parameters import check_value, format_quantity, parse_quantity
from qubitlab.config import LabConfig
from qubitlab.errors import CalibrationError

THREE = Topology(qubits=(0, 1, 2), couplings=((0, 1),))


def test_the_registry_holds_the_parameters_with_their_si_units_and_bounds() -> None:
    assert PARAMETERS["frequency"].unit == "Hz" and PARAMETERS["frequency"].scope is Scope.QUBIT
    assert (PARAMETERS["frequency"].low, PARAMETERS["frequency"].high) == (1e8, 2e10)
    assert (PARAMETERS["anharmonicity"].low, PARAMETERS["anharmonicity"].high) == (-1e9, 0.0)
    assert PARAMETERS["drag_beta"].unit == "s" and "dt" in PARAMETERS["drag_beta"].description
    assert PARAMETERS["x_amp"].unit == "" and PARAMETERS["readout_fidelity"].low == 0.5
    assert PARAMETERS["iq0_re"].low is None and PARAMETERS["iq1_im"].high is None
    assert PARAMETERS["cr_amp"].scope is Scope.PAIR and PARAMETERS["cr_phase"].unit == "rad"
    assert PARAMETERS["cr_phase"].high == pytest.approx(2 * math.pi)
    for name in ("readout_amp", "readout_duration", "sx_amp", "pulse_duration", "pulse_sigma", "t1", "t2_ramsey",
                 "t2_echo", "epc_1q", "cr_duration", "cancel_amp", "cancel_phase", "ecr_fidelity", "bell_fidelity"):
        assert name in PARAMETERS


def test_keys_parse_for_qubits_and_ordered_pairs(lab: LabConfig) -> None:
    assert parse_key("q0.x_amp", lab) == ParamKey((0,), "x_amp")
    assert parse_key("q1-q0.cr_amp", lab) == ParamKey((1, 0), "cr_amp")
    assert parse_key("q1-q0.cr_amp").text == "q1-q0.cr_amp" and parse_key("q1-q0.cr_amp").qubits_text == "1-0"


@pytest.mark.parametrize(("key", "message"), [
    ("q0.x_ampl", "unknown parameter 'x_ampl' for qubit 0; known: frequency, anharmonicity"),
    ("q7.frequency", "no qubit 7 in 'q7.frequency'; qubits: 0, 1"),
    ("q0.cr_amp", "(cr_amp is a pair parameter)"),
    ("q0-q1.frequency", "unknown parameter 'frequency' for pair q0-q1 (frequency is a qubit parameter)"),
    ("x_amp", "malformed key 'x_amp'"),
    ("Q0.x_amp", "malformed key"),
])
def test_bad_keys_are_refused_naming_what_is_valid(lab: LabConfig, key: str, message: str) -> None:
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_key(key, lab)


def test_a_pair_must_be_coupled() -> None:
    with pytest.raises(CalibrationError, match="q0-q2 is not a coupled pair; pairs: q0-q1, q1-q0"):
        parse_key("q0-q2.cr_amp", THREE)
    with pytest.raises(CalibrationError, match="q1-q1 is not a coupled pair"):
        parse_key("q1-q1.cr_amp", THREE)


def test_units_with_si_prefixes_convert_exactly_and_other_base_units_are_refused() -> None:
    frequency = parse_key("q0.frequency")
    assert check_value(frequency, 5.0013, "GHz") == 5_001_300_000.0       # decimal scaling: no 5001299999.9999
    assert check_value(frequency, 5001.3, "MHz") == 5_001_300_000.0
    assert check_value(frequency, 5.0013e9) == 5.0013e9
    assert check_value(parse_key("q0.t1"), 60, "us") == 60e-6
    assert check_value(parse_key("q0.pulse_duration"), 24, "ns") == 24e-9
    with pytest.raises(CalibrationError, match="unit 'V' does not fit frequency .*Hz, kHz, MHz, GHz"):
        check_value(frequency, 5, "V")
    with pytest.raises(CalibrationError, match="unit 'ns' does not fit frequency"):
        check_value(frequency, 5, "ns")
    with pytest.raises(CalibrationError, match="x_amp is dimensionless; got unit 'Hz'"):
        check_value(parse_key("q0.x_amp"), 0.3, "Hz")


def test_values_outside_bounds_or_not_finite_are_refused_with_the_range() -> None:
    frequency = parse_key("q0.frequency")
    with pytest.raises(CalibrationError, match=r"5 Hz is outside the physical bounds 100 MHz \.\. 20 GHz "
                                               r"\(a value without a unit is in Hz\)"):
        check_value(frequency, 5.0)
    with pytest.raises(CalibrationError, match="30 GHz is outside"):
        check_value(frequency, 30, "GHz")
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(CalibrationError, match="not finite; valid: 100 MHz .. 20 GHz"):
            check_value(frequency, bad)
    with pytest.raises(CalibrationError, match=r"1.2 is outside the physical bounds 0 \.\. 1"):
        check_value(parse_key("q0.x_amp"), 1.2)
    with pytest.raises(CalibrationError, match="outside"):
        check_value(parse_key("q0.anharmonicity"), 3e8)
    assert check_value(parse_key("q0.iq0_re"), -1e12) == -1e12        # unbounded, but finite
    assert check_value(parse_key("q0.x_amp"), 1.0) == 1.0              # bounds are inclusive


def test_quantities_parse_with_and_without_a_unit() -> None:
    assert parse_quantity("5.0012 GHz") == (5.0012, "GHz")
    assert parse_quantity("5.0012GHz") == (5.0012, "GHz")
    assert parse_quantity("-330e6") == (-330e6, None)
    assert parse_quantity(".5") == (0.5, None)
    with pytest.raises(CalibrationError, match="not a number: 'five'"):
        parse_quantity("five")
    assert format_quantity(5.0012e9, "Hz") == "5.0012 GHz"
    assert format_quantity(60e-6, "s") == "60 us"
    assert format_quantity(0.3125, "") == "0.3125"
