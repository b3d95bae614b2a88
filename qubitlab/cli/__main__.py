"""``python -m qubitlab.cli`` runs the command line (the same as ``python -m qubitlab``)."""

from __future__ import annotations

from qubitlab.cli import main

main()
