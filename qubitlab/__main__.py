"""``python -m qubitlab`` runs the command line."""

from qubitlab.cli import main

main()
