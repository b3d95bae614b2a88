"""Performance benchmarks for qubitlab (not tests): ``python -m benchmarks SUITE [--json OUT]``.

Each suite module exposes ``run(repeat) -> list[Row]``; the harness prints a table of medians (with min and
max) and writes JSON. Machines are shared and noisy, so every suite also measures a reference in the same run
and rows report their ratio to it. Definitions are fixed so figures compare over time: see ``README.md``.
"""
