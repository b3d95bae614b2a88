"""load_lab(): read a YAML lab file, validate it, and turn every problem into one readable ConfigError.

The error names the file, each offending key as a dotted path (``wiring.lines.q0_drive.outputs[1]``), what was
given and what would be valid (for an unknown key: the keys allowed there). YAML is read with ``safe_load``:
a lab file is data, never code.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from qubitlab.config.models import LabConfig
from qubitlab.errors import ConfigError


def load_lab(path: str | Path) -> LabConfig:
    """The validated lab configuration in ``path``; raises ``ConfigError`` naming file and key on any problem."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"lab file {path} does not exist (looked in {path.resolve().parent})") from None
    except OSError as exc:
        raise ConfigError(f"lab file {path} cannot be read: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"lab file {path} is not valid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"lab file {path}: the top level must be a mapping of sections "
                          f"({', '.join(LabConfig.model_fields)}), got {type(data).__name__}")
    try:
        lab = LabConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    _validate_device(path, lab)
    lab._source = path.resolve()
    return lab


def _describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        key = _dotted(loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key {loc[-1]!r}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
            message += f" (given: {error['input']!r})"
        lines.append(f"  - {key + ': ' if key and not message.startswith(key) else ''}{message}")
    count = len(lines)
    return f"lab file {path}: {count} problem{'s' if count > 1 else ''}\n" + "\n".join(lines)


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model found at ``loc`` (walking fields, dict values and list items)."""
    annotation: Any = LabConfig
    for part in loc:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
            continue
        annotation = _unwrap(annotation)
        args = typing.get_args(annotation)
        if not args:
            return []
        annotation = args[-1]
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType")) and len(args) == 1:
        return args[0]
    return annotation


def _validate_device(path: Path, lab: LabConfig) -> None:
    """The virtual lab's ``device`` section, checked by the physics engine's schema and against the topology."""
    if lab.device is None:
        if lab.kind == "virtual":
            raise ConfigError(f"lab file {path}: a virtual lab needs a 'device' section (the physics parameters of "
                              "its qubits, couplings and readout); see lab_configs/virtual_2q.yaml")
        return
    from qubitlab.drivers.mock.physics.device import DeviceConfig  # pydantic only: light

    try:
        device = DeviceConfig.model_validate(lab.device)
    except ValidationError as exc:
        text = _describe(path, exc).replace("\n  - ", "\n  - device.")
        raise ConfigError(text) from None
    if sorted(device.qubits) != sorted(lab.topology.qubits):
        raise ConfigError(f"lab file {path}: device.qubits {sorted(device.qubits)} must be the topology's qubits "
                          f"{sorted(lab.topology.qubits)}")
    pairs = {frozenset(c.qubits) for c in device.couplings}
    wired = {frozenset(c) for c in lab.topology.couplings}
    if pairs != wired:
        raise ConfigError(f"lab file {path}: device.couplings {sorted(map(sorted, pairs))} must be the topology's "
                          f"couplings {sorted(map(sorted, wired))}")
