"""Benchmark `scaffold check-parity` over the installed transformers models/ tree (a script, not a test).

Prints: cold (empty cache, whole process), warm (populated cache, whole process), one pair (whole process,
warm and cold), and for scale the time `ast.parse` needs for the same files on this machine. Each figure is the best
of N runs (the minimum is the least disturbed by other load on the machine), with the median and range, and the CPU
time (user + sys, workers included) of the best run; the load average is printed before and after.

    python benchmarks/bench_check_parity.py [--models DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def models_dir() -> str:
    import transformers

    return os.path.join(os.path.dirname(transformers.__file__), "models")


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(args, cache_dir) -> tuple[float, float]:
    """(wall, cpu) seconds of one whole `scaffold check-parity` process (cpu includes its pool workers)."""
    env = dict(os.environ, SCAFFOLD_CACHE_DIR=cache_dir)
    cpu = _children_cpu()
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "scaffold", "check-parity", *args], env=env, capture_output=True)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"check-parity failed ({proc.returncode}): {proc.stderr.decode()}")
    return elapsed, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    ns = parser.parse_args()
    models = ns.models or models_dir()
    files = [
        os.path.join(d, f)
        for d, _, fs in os.walk(models)
        for f in fs
        if f.startswith("image_processing_") and f.endswith(".py")
    ]
    t = time.perf_counter()
    for f in files:
        with open(f, encoding="utf-8") as fh:
            ast.parse(fh.read())
    ast_time = time.perf_counter() - t
    print(f"tree: {models} ({len(files)} image_processing files), cpus: {os.cpu_count()}")
    print(f"ast.parse of those files (reference for this machine): {ast_time:.2f} s")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    cold, warm, pair_cold, pair_warm = [], [], [], []
    pair = os.path.join(models, "llava_next", "image_processing_pil_llava_next.py")
    for _ in range(ns.repeat):
        cache = tempfile.mkdtemp(prefix="scaffold-bench-")
        try:
            pair_cold.append(run([pair], cache))
            pair_warm.append(run([pair], cache))
            shutil.rmtree(cache)
            os.makedirs(cache)
            cold.append(run([models], cache))
            warm.append(run([models], cache))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    python_startup = min(
        (lambda t0: (subprocess.run([sys.executable, "-c", "pass"]), time.perf_counter() - t0)[1])(time.perf_counter())
        for _ in range(3)
    )

    def fmt(runs):
        walls = [w for w, _ in runs]
        best_wall, best_cpu = min(runs)
        return (
            f"best of {len(runs)} {best_wall:.2f} s (cpu {best_cpu:.2f} s); "
            f"median {statistics.median(walls):.2f} s, max {max(walls):.2f} s"
        )

    print(f"whole tree, cold cache: {fmt(cold)}")
    print(f"whole tree, warm cache: {fmt(warm)}")
    print(f"one pair,   cold cache: {fmt(pair_cold)}")
    print(f"one pair,   warm cache: {fmt(pair_warm)}")
    print(f"bare python startup:    {python_startup:.2f} s")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
