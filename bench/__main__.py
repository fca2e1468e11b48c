"""Run every benchmark at its default (quick) size, one after another, each in its own process:
`.venv/bin/python -m bench` (what `make bench` does). Pass --full to use the full target sizes."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "detect_matcher",
    "classify",
    "search_bench",
    "map_assign",
    "map_city",
    "import_venues",
    "crawl_static",
    "crawl_rendered",
)


def main(argv: list[str]) -> int:
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== bench.{name} {' '.join(argv)}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}", *argv]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
