"""Throughput of the generated torchvision and PIL processors against transformers' built-in ones.

For each example with a built-in counterpart, render the example, then time preprocessing of 32 smooth
640x480 RGB images with the generated class and with the built-in class configured identically.
Usage: python benchmarks/bench_processor_throughput.py [--repeats 9]
Goal (issue 2): generated/built-in throughput ratio >= 0.95.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

# example -> (package, class prefix, built-in module, built-in prefix, kwargs that make the built-in identical)
CASES = {
    "clip_like": (
        "clip_like_vlm",
        "ClipLikeVlm",
        "transformers.models.clip",
        "CLIP",
        {"size": {"shortest_edge": 336}, "crop_size": {"height": 336, "width": 336}},
    ),
    "siglip_like": (
        "siglip_like_vlm",
        "SiglipLikeVlm",
        "transformers.models.siglip",
        "Siglip",
        {"size": {"height": 384, "width": 384}, "resample": 2},  # 2 = PIL bilinear
    ),
}


def images(n=32, height=480, width=640):
    rng = np.random.default_rng(0)
    y = np.linspace(0, 1, height)[:, None]
    x = np.linspace(0, 1, width)[None, :]
    out = []
    for _ in range(n):
        planes = [
            127.5 + 100 * np.sin(2 * np.pi * (rng.uniform(0.1, 0.4) * x + rng.uniform(0.1, 0.4) * y)) for _ in range(3)
        ]
        out.append(Image.fromarray(np.stack(planes, -1).round().astype(np.uint8)))
    return out


def settings_differ(ours, theirs) -> dict:
    """Config keys (other than the class name) on which the two processors differ."""
    a, b = ours.to_dict(), theirs.to_dict()
    keys = (a.keys() | b.keys()) - {"image_processor_type"}
    # An unset flag (None) and False both switch a step off.
    return {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k) and (a.get(k) or b.get(k))}


def interleaved_best_times(first, second, batch, repeats):
    """Best-of-N wall time of each processor, interleaved (and in alternating order) so load hits both alike."""
    for processor in (first, second):
        processor(batch[:2], return_tensors="pt")  # warm-up (lazy imports, caches)
    times = ([], [])
    for i in range(repeats):
        pairs = list(zip((first, second), times, strict=True))
        for processor, bucket in pairs if i % 2 == 0 else pairs[::-1]:  # alternate who goes first
            start = time.perf_counter()
            processor(batch, return_tensors="pt")
            bucket.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main() -> None:
    import importlib

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    batch = images()
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        print(f"{'example':<12} {'backend':<12} {'generated s':>12} {'built-in s':>11} {'ratio':>6}")
        for example, (package, prefix, builtin_module, builtin_prefix, kwargs) in CASES.items():
            subprocess.run(
                [sys.executable, "-m", "scaffold", "new-vlm", str(ROOT / "examples" / f"{example}.yaml"), "-o", tmp],
                check=True,
                capture_output=True,
            )
            generated = importlib.import_module(package)
            builtin = importlib.import_module(builtin_module)
            for backend, suffix in (("torchvision", ""), ("pil", "Pil")):
                ours = getattr(generated, f"{prefix}ImageProcessor{suffix}")()
                theirs = getattr(builtin, f"{builtin_prefix}ImageProcessor{suffix}")(**kwargs)
                differing = settings_differ(ours, theirs)
                if differing:
                    sys.exit(f"{example}: the built-in processor is not configured identically: {differing}")
                ours_t, theirs_t = interleaved_best_times(ours, theirs, batch, args.repeats)
                # ratio = generated throughput / built-in throughput
                print(f"{example:<12} {backend:<12} {ours_t:>12.4f} {theirs_t:>11.4f} {theirs_t / ours_t:>6.3f}")


if __name__ == "__main__":
    main()
