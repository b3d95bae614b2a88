"""load_lab(): read a YAML lab file, validate it, and turn every problem into one readable ConfigError.

The error names the file, each offending key as a dotted path (``wiring.lines.q0_drive.outputs[1]``), what was
given and what would be valid (for an unknown key: the keys allowed there). The bytes and the YAML are read by
``yaml_file`` (size limit, UTF-8, no duplicate keys, no aliases, finite numbers): a lab file is data, never code.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from qubitlab.config.models import LabConfig
from qubitlab.config.yaml_file import dotted, parse, read_text
from qubitlab.errors import ConfigError

_SHOWN = 80
"""Characters of a given value quoted in a message (a long value is cut, so a message stays short)."""
_RELATIVE = re.compile(r"^(?P<key>[a-z_]+(\[\d+\])*): ")
"""A model-level check's message that starts with the key it is about, relative to the model."""


def load_lab(path: str | Path) -> LabConfig:
    """The validated lab configuration in ``path``; raises ``ConfigError`` naming file and key on any problem."""
    path = Path(path)
    data = parse(path, read_text(path))
    if not isinstance(data, dict):
        raise ConfigError(f"lab file {path}: the top level must be a mapping of sections "
                          f"({', '.join(LabConfig.model_fields)}), got {type(data).__name__}")
    try:
        lab = LabConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    if lab.device is None and lab.kind == "virtual":
        raise ConfigError(f"lab file {path}: a virtual lab needs a 'device' section (the physics parameters of "
                          "its qubits, couplings and readout); see lab_configs/virtual_2q.yaml")
    lab._source = path.resolve()
    return lab


def _describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        key = dotted(loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        relative = _RELATIVE.match(message)
        if key and relative:
            key, message = f"{key}.{relative['key']}", message[relative.end():]
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key {_shown(loc[-1])}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
            message += f" (given: {_shown(error['input'])})"
        lines.append(f"  - {key + ': ' if key and not message.startswith(key) else ''}{message}")
    count = len(lines)
    shown = lines[:20] + ([f"  ... and {count - 20} more"] if count > 20 else [])
    return f"lab file {path}: {count} problem{'s' if count > 1 else ''}\n" + "\n".join(shown)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else f"a {type(value).__name__} of {len(value)} items"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model found at ``loc`` (walking fields, dict values and list items)."""
    annotation: Any = LabConfig
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
            continue
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
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation
