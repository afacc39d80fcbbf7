"""`make bench`: retrieval quality side by side, then the performance benchmarks (see docs/BENCHMARKS.md).

The 100k-chunk latency needs a prepared index: `python -m benchmarks.perf build --chunks 100000 --home DIR`
then `python -m benchmarks.perf latency --home DIR --chunks 100000 [--questions realtimeqa]` (the build takes
minutes).
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import perf, quality


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    quality.main([])
    for args in (["ingest"], ["latency"], ["latency", "--questions", "realtimeqa"], ["llm"]):
        perf.main(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
