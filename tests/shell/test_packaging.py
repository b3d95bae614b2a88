"""Packaging: every package folder on disk is declared in pyproject.toml, mapped to its qubitlab.* name."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_declared() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    mapping: dict[str, str] = config["package-dir"]
    on_disk = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            on_disk.add(".".join([name, *rel.parts]))
    missing = sorted(on_disk - declared)
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_the_console_script_points_at_the_cli_package() -> None:
    import importlib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"qubitlab": "qubitlab.cli:main"}
    module, _, name = scripts["qubitlab"].partition(":")
    assert (ROOT / "qubitlab" / "cli" / "__init__.py").exists()
    assert callable(getattr(importlib.import_module(module), name))
