"""Run every benchmark: ``python -m bench [quick|full] [name ...]``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("generate", "headend", "readings", "audit", "api", "portal")


def main(argv: list[str]) -> None:
    scale = argv[0] if argv and argv[0] in {"quick", "full"} else "full"
    names = [a for a in argv if a not in {"quick", "full"}] or list(BENCHMARKS)
    for name in names:
        print(f"\n== {name} ({scale}) ==", flush=True)
        importlib.import_module(f"bench.{name}").run(scale)


if __name__ == "__main__":
    main(sys.argv[1:])
