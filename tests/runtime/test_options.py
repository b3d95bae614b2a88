"""Options: qiskit-ibm-runtime's defaults, refusal at assignment, nested dicts, and not_implemented()."""

from __future__ import annotations

import pytest

from qubitlab.errors import ConfigError
from qubitlab.runtime.primitives import EstimatorOptions, SamplerOptions, not_implemented

# Defaults as documented in qiskit-ibm-runtime's docstrings (qiskit_ibm_runtime/options/<file>):
ESTIMATOR_DEFAULTS = {
    "default_precision": 0.015625,            # estimator_options.py: "0.015625 (1 / sqrt(4096))"
    "default_shots": None,                    # estimator_options.py
    "resilience_level": 1,                    # estimator_options.py
    "seed_estimator": None,                   # estimator_options.py
    "max_execution_time": None,               # options.py (Unset = no limit)
    "execution.init_qubits": True,            # execution_options.py
    "execution.rep_delay": None,              # execution_options.py: backend.default_rep_delay
    "dynamical_decoupling.enable": False,     # dynamical_decoupling_options.py
    "dynamical_decoupling.sequence_type": "XX",
    "dynamical_decoupling.extra_slack_distribution": "middle",
    "dynamical_decoupling.scheduling_method": "alap",
    "dynamical_decoupling.skip_reset_qubits": False,
    "twirling.num_randomizations": "auto",    # twirling_options.py
    "twirling.shots_per_randomization": "auto",
    "twirling.strategy": "active-accum",
    "resilience.measure_noise_learning.num_randomizations": 32,          # measure_noise_learning_options.py
    "resilience.measure_noise_learning.shots_per_randomization": "auto",
    "resilience.zne.noise_factors": (1.0, 3.0, 5.0),                     # zne_options.py
    "resilience.zne.extrapolator": ("exponential", "linear"),
    "resilience.zne.amplifier": "gate_folding",
    "resilience.pec_mitigation": False,                                  # resilience_options.py
}
SAMPLER_DEFAULTS = {
    "default_shots": 4096,                    # sampler_options.py
    "execution.meas_type": "classified",      # sampler_execution_options.py
    "execution.init_qubits": True,
    "twirling.strategy": "active-accum",
}


def _get(options: object, dotted: str) -> object:
    for part in dotted.split("."):
        options = getattr(options, part)
    return options


@pytest.mark.parametrize(("cls", "defaults"), [(EstimatorOptions, ESTIMATOR_DEFAULTS),
                                               (SamplerOptions, SAMPLER_DEFAULTS)])
def test_defaults_match_qiskit_ibm_runtime(cls: type, defaults: dict[str, object]) -> None:
    options = cls()
    for name, value in defaults.items():
        assert _get(options, name) == value, name


def test_unknown_names_raise_at_assignment_listing_valid_names() -> None:
    options = EstimatorOptions()
    with pytest.raises(ConfigError, match="resilence_level: unknown option; valid names here: .*resilience_level"):
        options.resilence_level = 0  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"execution\.init_qbits: unknown option; valid names here: init_qubits, "
                                          "rep_delay"):
        options.execution.init_qbits = False  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"twirling\.enable_gate: unknown option.*enable_gates"):
        EstimatorOptions(twirling={"enable_gate": True})  # type: ignore[arg-type]


def test_bad_values_raise_at_assignment_and_change_nothing() -> None:
    options = EstimatorOptions()
    with pytest.raises(ConfigError, match="resilience_level: .*less than or equal to 2"):
        options.resilience_level = 3
    assert options.resilience_level == 1
    with pytest.raises(ConfigError, match=r"twirling\.strategy: .*'active', 'active-accum', 'active-circuit' or "
                                          "'all'"):
        options.twirling.strategy = "sometimes"  # type: ignore[assignment]
    with pytest.raises(ConfigError, match=r"resilience\.zne\.noise_factors: extrapolator exponential requires at "
                                          "least 2"):
        options.resilience.zne.noise_factors = (1.0,)
    assert options.resilience.zne.noise_factors == (1.0, 3.0, 5.0)     # the refused value is not kept
    with pytest.raises(ConfigError, match="must all be >= 1"):
        options.resilience.zne.noise_factors = (0.5, 1.0)
    with pytest.raises(ConfigError, match="default_precision: .*greater than 0"):
        options.default_precision = 0.0
    options.resilience.pec_mitigation = True
    with pytest.raises(ConfigError, match="cannot both be enabled"):
        options.resilience.zne_mitigation = True
    assert options.resilience.zne_mitigation is None
    with pytest.raises(ConfigError, match=r"execution\.meas_type: .*'classified', 'kerneled' or 'avg_kerneled'"):
        SamplerOptions(execution={"meas_type": "raw"})  # type: ignore[arg-type]


def test_nested_dict_construction_and_update() -> None:
    assert EstimatorOptions(resilience_level=0).resilience_level == 0
    options = EstimatorOptions(**{"twirling": {"enable_gates": True}})  # type: ignore[arg-type]
    assert options.twirling.enable_gates is True and options.twirling.strategy == "active-accum"
    options.update(default_shots=1000, resilience={"zne": {"amplifier": "pulse_stretch"}})
    assert options.default_shots == 1000 and options.resilience.zne.amplifier == "pulse_stretch"
    assert options.resilience.zne.noise_factors == (1.0, 3.0, 5.0)    # update merges, not replaces
    wire = options.to_dict()
    assert wire["twirling"]["enable_gates"] is True
    assert wire["resilience"]["zne"]["noise_factors"] == [1.0, 3.0, 5.0]
    assert EstimatorOptions(**wire).to_dict() == wire


def test_not_implemented_names_what_would_be_ignored() -> None:
    assert not_implemented(EstimatorOptions(resilience_level=0)) == []
    assert not_implemented(SamplerOptions()) == []
    assert not_implemented(EstimatorOptions()) == []                        # level 1: readout mitigation, done
    assert not_implemented(EstimatorOptions(resilience_level=2)) == []     # readout mitigation + ZNE (issue 17)
    assert not_implemented(EstimatorOptions(resilience={"measure_mitigation": True})) == []  # type: ignore[arg-type]
    assert not_implemented(SamplerOptions(execution={"init_qubits": False})) == [  # type: ignore[arg-type]
        "execution.init_qubits"]                                            # False is not "off" here
    assert not_implemented(SamplerOptions(execution={"meas_type": "kerneled", "rep_delay": 1e-4})) == []  # type: ignore[arg-type]
    options = EstimatorOptions(resilience_level=0, twirling={"enable_measure": False})  # type: ignore[arg-type]
    assert not_implemented(options) == []                                   # explicitly off is fine
    options.dynamical_decoupling.scheduling_method = "asap"
    options.resilience.zne.extrapolator = "linear"
    options.default_shots = 100                                             # implemented: not listed
    assert not_implemented(options) == ["dynamical_decoupling.scheduling_method"]  # ZNE, DD enable: issue 17
