"""The README's circuits example runs as written (the fenced block is extracted from README.md and executed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_circuits_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in python_blocks((ROOT / "README.md").read_text(encoding="utf-8")) if "LoweredCircuit" in b]
    assert len(blocks) == 1, "README.md should hold exactly one circuits example"
    monkeypatch.chdir(ROOT)                       # the example loads lab_configs/... relative to the clone
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md (circuits example)", "exec"), namespace)  # noqa: S102
    from qubitlab.drivers.payloads import CompiledProgram
    from qubitlab.pulse import Acquire

    program, schedule = namespace["program"], namespace["schedule"]
    assert isinstance(program, CompiledProgram)
    assert not schedule.parameters                # type: ignore[attr-defined]
    # h, cx then measure_all: both readouts start together, after the last gate (lab: one readout line).
    starts = [t for t, inst in schedule.instructions if isinstance(inst, Acquire)]  # type: ignore[attr-defined]
    assert len(starts) == 2 and starts[0] == starts[1] == schedule.duration - 1000  # type: ignore[attr-defined]
