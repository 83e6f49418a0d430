"""Whole-process time of `scaffold new-vlm` per example, and proof that torch is never imported.

Usage: python benchmarks/bench_new_vlm.py [--runs 7]
Goal (issue 2): <= 1.0 s per run, whole process, on this 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "transformers", "libcst")


def imported_modules(example: Path, out: Path) -> set[str]:
    """Top-level packages imported by a new-vlm run, from CPython's -X importtime log."""
    cmd = [sys.executable, "-X", "importtime", "-m", "scaffold", "new-vlm", str(example), "-o", str(out), "--force"]
    log = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    names = set()
    for line in log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"{'example':<28} {'median s':>9} {'min s':>7} {'max s':>7}  heavy imports")
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            times = []
            for _ in range(args.runs):
                # First run creates the files, the rest compare and report `unchanged`: both paths are timed.
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "scaffold", "new-vlm", str(example), "-o", str(out)],
                    check=True,
                    capture_output=True,
                )
                times.append(time.perf_counter() - start)
            heavy = sorted(imported_modules(example, out) & set(HEAVY))
        print(
            f"{example.stem:<28} {statistics.median(times):>9.3f} {min(times):>7.3f} {max(times):>7.3f}  "
            f"{', '.join(heavy) if heavy else 'none'}"
        )


if __name__ == "__main__":
    main()
