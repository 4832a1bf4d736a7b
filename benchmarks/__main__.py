"""Run every benchmark suite: ``python -m benchmarks [--quick] [suite ...]``."""

from __future__ import annotations

import argparse
import importlib

SUITES = ["store", "projections", "gateway", "sync", "claude_state", "backup"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="benchmarks")
    parser.add_argument("suites", nargs="*", default=SUITES, help=f"any of {SUITES}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    args = parser.parse_args()
    for suite in args.suites:
        module = importlib.import_module(f"benchmarks.bench_{suite}")
        module.main(quick=args.quick)
    from benchmarks._report import write_report

    print(f"wrote {write_report()}")


if __name__ == "__main__":
    main()
