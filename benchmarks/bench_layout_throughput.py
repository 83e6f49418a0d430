"""Throughput of the generated grid / tiles image processors against transformers' built-in ones (issue 10).

Renders two processor-only specs restating transformers' settings -- LLaVA-v1.6's any-resolution grid (336 px
tiles, 5 pinpoints) against LlavaNextImageProcessor(Pil), InternVL's dynamic tiles (448 px, 1-12 tiles, thumbnail)
against GotOcr2ImageProcessor(Pil) with crop_to_patches=True -- and times preprocessing of 32 mixed-size images
(different sizes and aspect ratios in one call) with each backend of both.
Usage: python benchmarks/bench_layout_throughput.py [--repeats 5]
Goal: generated/built-in throughput ratio >= 0.95. Outputs are also checked to be identical (max abs diff 0.0).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]

# name -> (image_processor section of the spec, built-in module, built-in prefix, built-in kwargs)
CASES = {
    "grid": (
        f"""  size: {{shortest_edge: 336}}
  default_to_square: false
  crop_size: {{height: 336, width: 336}}
  do_center_crop: true
  do_pad: true
  image_mean: openai_clip
  image_std: openai_clip
  layout: {{kind: grid, grid_pinpoints: {PINPOINTS}}}
""",
        "transformers.models.llava_next",
        "LlavaNext",
        {
            "size": {"shortest_edge": 336},
            "crop_size": {"height": 336, "width": 336},
            "image_grid_pinpoints": PINPOINTS,
        },
    ),
    "tiles": (
        """  size: {height: 448, width: 448}
  image_mean: imagenet_standard
  image_std: imagenet_standard
  layout: {kind: tiles, min_tiles: 1, max_tiles: 12, use_thumbnail: true}
""",
        "transformers.models.got_ocr2",
        "GotOcr2",
        {
            "size": {"height": 448, "width": 448},
            "crop_to_patches": True,
            "min_patches": 1,
            "max_patches": 12,
            "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5],
        },
    ),
}


def images(n=32, seed=0):
    """Smooth RGB images of mixed sizes: landscape, portrait, square, small and very elongated."""
    rng = np.random.default_rng(seed)
    shapes = [(480, 640), (640, 480), (500, 500), (120, 90), (300, 1500), (1400, 250), (768, 1024), (200, 333)]
    out = []
    for i in range(n):
        height, width = shapes[i % len(shapes)]
        height, width = height + int(rng.integers(0, 40)), width + int(rng.integers(0, 40))
        y = np.linspace(0, 1, height)[:, None]
        x = np.linspace(0, 1, width)[None, :]
        planes = [
            127.5 + 100 * np.sin(2 * np.pi * (rng.uniform(0.1, 0.4) * x + rng.uniform(0.1, 0.4) * y)) for _ in range(3)
        ]
        out.append(Image.fromarray(np.stack(planes, -1).round().astype(np.uint8)))
    return out


def interleaved_times(first, second, batch, repeats):
    """Median wall time of each processor, interleaved (alternating who goes first) so load hits both alike."""
    for processor in (first, second):
        processor(batch[:2], return_tensors="pt")  # warm-up
    times = ([], [])
    for i in range(repeats):
        pairs = list(zip((first, second), times, strict=True))
        for processor, bucket in pairs if i % 2 == 0 else pairs[::-1]:
            start = time.perf_counter()
            processor(batch, return_tensors="pt")
            bucket.append(time.perf_counter() - start)
    return float(np.median(times[0])), float(np.median(times[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    batch = images()
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        print(f"{'layout':<7} {'backend':<12} {'views':>5} {'generated s':>12} {'built-in s':>11} {'ratio':>6}")
        for name, (section, builtin_module, builtin_prefix, kwargs) in CASES.items():
            spec = Path(tmp) / f"{name}.yaml"
            model_type = f"bench_{name}_layout"
            prefix = f"Bench{name.title()}Layout"
            spec.write_text(f"model: {{name: {prefix}, model_type: {model_type}}}\nimage_processor:\n{section}")
            subprocess.run(
                [sys.executable, "-m", "scaffold", "new-vlm", str(spec), "-o", tmp], check=True, capture_output=True
            )
            generated = importlib.import_module(model_type)
            builtin = importlib.import_module(builtin_module)
            for backend, suffix in (("torchvision", ""), ("pil", "Pil")):
                ours = getattr(generated, f"{prefix}ImageProcessor{suffix}")()
                theirs = getattr(builtin, f"{builtin_prefix}ImageProcessor{suffix}")(**kwargs)
                a, b = ours(batch, return_tensors="pt"), theirs(batch, return_tensors="pt")
                diff = (a["pixel_values"] - b["pixel_values"]).abs().max().item()
                if a["pixel_values"].shape != b["pixel_values"].shape or diff != 0.0:
                    sys.exit(f"{name} [{backend}]: outputs differ (max abs diff {diff})")
                views = a["pixel_values"].shape[0] * (a["pixel_values"].shape[1] if name == "grid" else 1)
                ours_t, theirs_t = interleaved_times(ours, theirs, batch, args.repeats)
                # ratio = generated throughput / built-in throughput
                print(
                    f"{name:<7} {backend:<12} {views:>5} {ours_t:>12.4f} {theirs_t:>11.4f} {theirs_t / ours_t:>6.3f}"
                )


if __name__ == "__main__":
    main()
