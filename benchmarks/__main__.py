"""``python -m benchmarks SUITE [--json OUT] [--repeat N]``: run benchmark suites, print a table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from benchmarks._harness import Row, print_table, write_json

# Suite name -> module; each module has ``run(repeat: int) -> list[Row]``. Suites land with their issues.
SUITES = {
    "pulse": "benchmarks.pulse",
    "compile": "benchmarks.compile",
    "sim": "benchmarks.sim",
    "device": "benchmarks.device",
    "execute": "benchmarks.execute",
    "circuits": "benchmarks.circuits",
    "calibrate": "benchmarks.calibrate",
    "runtime": "benchmarks.runtime",
    "mitigation": "benchmarks.mitigation",
    "zne_stretch": "benchmarks.zne_stretch",
    "variational": "benchmarks.variational",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stress"]:                   # chaos and load: its own options (see benchmarks/stress.py)
        from benchmarks.stress import main as stress

        return stress(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", choices=[*SUITES, "all"], help="which suite to run")
    parser.add_argument("--json", type=Path, default=None, help="write the report as JSON to this path")
    parser.add_argument("--repeat", type=int, default=None, help="timed repeats per benchmark (default: suite's)")
    args = parser.parse_args(argv)
    names = list(SUITES) if args.suite == "all" else [args.suite]
    rows: list[Row] = []
    for name in names:
        module = importlib.import_module(SUITES[name])
        rows.extend(module.run(args.repeat) if args.repeat else module.run())
    print_table(rows)
    if args.json is not None:
        write_json(rows, args.json)
        print(f"report written to {args.json}")
    missed = [row for row in rows if row.meets_target is False]
    for row in missed:
        print(f"target missed: {row.suite}/{row.name} median {row.timing.median * 1e3:.3f} ms > {row.target * 1e3:.3f} ms"
              if row.target is not None else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
