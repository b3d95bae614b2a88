"""Quality gates on data without the feature: nothing is proposed, the failing gate says why, the plot exists."""

from __future__ import annotations

from qubitlab.calibration.experiments import qubit_spectroscopy, ramsey, resonator_spectroscopy

F_Q0, F_R0 = 4.997e9, 7.051e9


def _refused(outcome, *names: str) -> None:  # type: ignore[no-untyped-def]
    assert not outcome.passed and outcome.updates == {}
    failed = {g.name for g in outcome.failed_gates}
    assert set(names) <= failed, outcome.summary()
    assert outcome.plot is not None and outcome.plot.exists()
    assert "nothing stored" in outcome.summary()


def test_resonator_spectroscopy_where_there_is_no_resonator(make_ctx) -> None:  # type: ignore[no-untyped-def]
    # 6.90-6.92 GHz: no resonator there, and within the readout line's IF bandwidth of its 7.0 GHz LO
    # (6.5 GHz would be refused by the compiler: 500 MHz from the LO)
    outcome = resonator_spectroscopy.run(make_ctx(), 0, span=(6.90e9, 6.92e9), points=81)
    _refused(outcome, "SNR", "R^2")
    snr = next(g for g in outcome.failed_gates if g.name == "SNR")
    assert "feature / noise" in snr.detail


def test_qubit_spectroscopy_with_no_drive_is_pure_noise(make_ctx) -> None:  # type: ignore[no-untyped-def]
    outcome = qubit_spectroscopy.run(make_ctx({"q0.readout_frequency": F_R0}), 0, amp=0.0)
    _refused(outcome, "SNR")


def test_qubit_spectroscopy_over_a_range_without_the_qubit(make_ctx) -> None:  # type: ignore[no-untyped-def]
    outcome = qubit_spectroscopy.run(make_ctx({"q0.readout_frequency": F_R0}), 0, span=(4.90e9, 4.95e9), points=51)
    _refused(outcome, "SNR")


def test_ramsey_refuses_an_offset_beyond_its_detuning(make_ctx) -> None:  # type: ignore[no-untyped-def]
    values = {"q0.frequency": F_Q0 - 3e6, "q0.readout_frequency": F_R0, "q0.x_amp": 0.244, "q0.sx_amp": 0.122}
    outcome = ramsey.run(make_ctx(values), 0)
    _refused(outcome, "fringes add up to 2 delta")
    gate = next(g for g in outcome.failed_gates if g.name == "fringes add up to 2 delta")
    assert "larger detuning" in gate.detail
