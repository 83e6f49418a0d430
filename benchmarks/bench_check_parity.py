"""Benchmark `scaffold check-parity` over the installed transformers models/ tree (a script, not a test).

Prints: cold (--no-cache, and an empty cache that the run fills; whole process), warm (populated cache, whole
process), one pair (whole process, warm and cold), and side by side with the cold runs, the reference: a whole
process in which two worker processes (the checker's default) only read and `ast.parse` the same files. The ratios
cold / reference are the checker's cost over the bare parse. Each figure is the best of N runs (the minimum is the least disturbed by other load on the
machine), with the median and range, and the CPU time (user + sys, workers included) of the best run; the load
average is printed before and after.

    python benchmarks/bench_check_parity.py [--models DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
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


# The reference: what two worker processes need just to read and parse the files (whole process, like the checker).
REFERENCE = """
import ast, multiprocessing, sys

def parse(path):
    with open(path, "rb") as fh:
        ast.parse(fh.read())

if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(parse, sys.stdin.read().split("\\n"), chunksize=4)
"""


def run_reference(files) -> tuple[float, float]:
    cpu = _children_cpu()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", REFERENCE], input="\n".join(files), text=True, check=True)
    return time.perf_counter() - t, _children_cpu() - cpu


def checked_files(models: str) -> list[str]:
    """The files a cold whole-tree check parses: both files of every pair, and the files their bases come from."""
    from scaffold.parity.cache import FactsLoader
    from scaffold.parity.discover import discover
    from scaffold.parity.resolve import base_class_files

    pairs = [p for p in discover([models]) if not p.is_lone]
    files = [f for p in pairs for f in (p.torch_path, p.pil_path)]
    loader = FactsLoader(use_cache=False, jobs=1)
    loader.load(files)
    extra = {x for f in files for x in base_class_files(loader.facts[f])} - set(files)
    return files + sorted(extra)


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
    files = checked_files(models)
    print(f"tree: {models} ({len(files)} files parsed by a cold whole-tree check), cpus: {os.cpu_count()}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    cold, nocache, warm, pair_cold, pair_warm, reference = [], [], [], [], [], []
    pair = os.path.join(models, "llava_next", "image_processing_pil_llava_next.py")
    for _ in range(ns.repeat):
        cache = tempfile.mkdtemp(prefix="scaffold-bench-")
        try:
            pair_cold.append(run([pair], cache))
            pair_warm.append(run([pair], cache))
            shutil.rmtree(cache)
            os.makedirs(cache)
            reference.append(run_reference(files))  # side by side with the cold runs
            nocache.append(run([models, "--no-cache"], cache))
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

    print(f"reference (2 workers read + ast.parse the same files, whole process): {fmt(reference)}")
    print(f"whole tree, --no-cache: {fmt(nocache)}")
    print(f"whole tree, cold cache: {fmt(cold)} (also writes {len(files)} cache entries)")
    print(f"ratio --no-cache / reference (best of each): {min(nocache)[0] / min(reference)[0]:.2f}")
    print(f"ratio cold cache / reference (best of each): {min(cold)[0] / min(reference)[0]:.2f}")
    print(f"whole tree, warm cache: {fmt(warm)}")
    print(f"one pair,   cold cache: {fmt(pair_cold)}")
    print(f"one pair,   warm cache: {fmt(pair_warm)}")
    print(f"bare python startup:    {python_startup:.2f} s")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
