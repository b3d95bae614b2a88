"""``python -m qubitlab`` runs the command line."""

from __future__ import annotations

from qubitlab.cli import main

main()
