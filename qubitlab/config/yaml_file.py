"""Read a lab file's bytes and YAML into plain data, refusing what a lab file never needs.

``yaml.safe_load`` alone builds no objects but still accepts a duplicate key (the last one silently wins),
aliases that expand a kilobyte into gigabytes (billion laughs), nesting deep enough to exhaust the stack, files
of any size and binary content. A lab file is a short, hand-written description of a rack, so each of these is
refused here with the file name, the line and what to do instead. The result is checked for non-finite
numbers (``.nan``, ``.inf``) anywhere, before the schema sees it.
"""

from __future__ import annotations

import math
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from qubitlab.errors import ConfigError

MAX_BYTES = 1 << 20
"""A lab file is at most 1 MiB (a 100-qubit lab is about 50 kB)."""
MAX_NODES = 20_000
"""YAML nodes (keys, scalars, lists, mappings) per lab file: virtual_5q.yaml has 634, so this allows a
lab of some 150 qubits while composing stays below about 15 MB."""
MAX_DEPTH = 32
"""Nesting depth of lists and mappings."""
_MERGE = "tag:yaml.org,2002:merge"


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``, refusing a missing, unreadable, oversized or binary file."""
    try:
        with path.open("rb") as handle:
            info = path.stat()
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES:
                raise ConfigError(f"lab file {path} is {info.st_size} bytes; a lab file may be at most "
                                  f"{MAX_BYTES} bytes (1 MiB)")
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"lab file {path} does not exist (looked in {path.resolve().parent})") from None
    except IsADirectoryError:
        raise ConfigError(f"lab file {path} is a directory; give the path of a .yaml file") from None
    except OSError as exc:
        raise ConfigError(f"lab file {path} cannot be read: {exc}") from exc
    if len(data) > MAX_BYTES:
        raise ConfigError(f"lab file {path} is longer than {MAX_BYTES} bytes (1 MiB), the most a lab file may be")
    if b"\x00" in data:
        raise ConfigError(f"lab file {path} is binary (it holds a NUL byte at offset {data.index(0)}); "
                          "a lab file is UTF-8 YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"lab file {path} is not UTF-8 text (invalid byte at offset {exc.start}); "
                          "save it as UTF-8") from None


def parse(path: Path, text: str) -> Any:
    """The data of the single YAML document in ``text``; every problem a ``ConfigError`` naming ``path``."""
    try:
        loader = _LabLoader(text, path)
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f"lab file {path} holds the control character U+{exc.character:04X} at character "
                          f"{exc.position}; a lab file is printable text") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_keys(loader, path, node, ())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"lab file {path} is not valid YAML{where}: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f"lab file {path} holds the control character U+{exc.character:04X} at character "
                          f"{exc.position}; a lab file is printable text") from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError(f"lab file {path} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    bad = [f"  - {dotted(key)}: {value!r} is not a finite number; give a finite value in SI units"
           for key, value in _non_finite(data, ())]
    if bad:
        raise ConfigError(f"lab file {path}: {len(bad)} problem{'s' if len(bad) > 1 else ''}\n" + "\n".join(bad[:20]))
    return data


def dotted(loc: tuple[Any, ...]) -> str:
    """``("wiring", "lines", "q0", "outputs", 1)`` -> ``wiring.lines.q0.outputs[1]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _LabLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and caps the number of nodes and the nesting depth while composing."""

    def __init__(self, text: str, path: Path) -> None:
        super().__init__(text)
        self._path, self._nodes, self._depth = path, 0, 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError(f"lab file {self._path}: line {line} uses the YAML alias *{event.anchor}; aliases are "
                              "not allowed in lab files (they can expand without bound): write the values out")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ConfigError(f"lab file {self._path}: more than {MAX_NODES} YAML values (at line {line}); "
                              "a lab file describes a rack, not data")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ConfigError(f"lab file {self._path}: nesting deeper than {MAX_DEPTH} levels at line {line}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_keys(loader: _LabLoader, path: Path, node: Node, loc: tuple[Any, ...]) -> None:
    """Refuse duplicate and merge (``<<``) keys anywhere, naming the dotted key and both lines."""
    if isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(loader, path, item, (*loc, i))
    elif isinstance(node, MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE:
                raise ConfigError(f"lab file {path}: {dotted(loc) or 'the top level'} uses a YAML merge key '<<' "
                                  f"at line {line}; merge keys are not allowed in lab files: write the keys out")
            key = loader.construct_object(key_node, deep=True) if isinstance(key_node, ScalarNode) else None
            if key is None or not _hashable(key):
                raise ConfigError(f"lab file {path}: {dotted(loc) or 'the top level'} has a key at line {line} "
                                  "that is not a plain name or number")
            if key in seen:
                raise ConfigError(f"lab file {path}: {dotted((*loc, key))}: key {key!r} appears twice, at line "
                                  f"{seen[key]} and at line {line}; keep one")
            seen[key] = line
            _check_keys(loader, path, value_node, (*loc, key))


def _hashable(key: Any) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _non_finite(data: Any, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], float]]:
    if isinstance(data, float) and not math.isfinite(data):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _non_finite(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _non_finite(value, (*loc, i))
