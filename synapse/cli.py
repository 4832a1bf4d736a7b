"""The ``synapse`` command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    args = sys.argv[1:] if argv is None else argv
    print("synapse: not yet wired:", " ".join(args))
    return 0
