"""Throughput of the generated native-resolution image processors against transformers' Qwen2-VL ones (issue 16).

Renders `examples/qwen2_vl_like.yaml` (Qwen2-VL's image-processor defaults: min_pixels 56*56, max_pixels 28*28*1280,
patch 14, merge 2, temporal 2, OpenAI CLIP statistics, bicubic) and times preprocessing of 32 images of a realistic
mix of sizes -- phone photos, HD and 4K frames, screenshots, document scans, panoramas, thumbnails and icons, each a
few pixels off its nominal size so no two share a shape -- in one call, and 32 images of one size (768x1024, which
Qwen2-VL's torchvision backend resizes as one batch), with each backend of both:
Qwen2VlLikeImageProcessor vs Qwen2VLImageProcessor (torchvision), Qwen2VlLikeImageProcessorPil vs
Qwen2VLImageProcessorPil (PIL). Timings are interleaved (alternating who goes first) and the median of the repeats is
reported. Outputs are checked to be identical first (max abs diff 0.0).
Usage: python benchmarks/bench_native_throughput.py [--repeats 7] [--images 32]
Goal: generated/built-in throughput ratio >= 0.95.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scaffold.generate.pipeline import render_spec  # noqa: E402 - after the path set-up
from scaffold.spec import load_spec  # noqa: E402

EXAMPLE = ROOT / "examples" / "qwen2_vl_like.yaml"

# (height, width) of common image sources.
SHAPES = [
    (3024, 4032),  # 12 MP phone photo, landscape
    (4032, 3024),  # portrait
    (1080, 1920),  # full-HD frame
    (2160, 3840),  # 4K frame
    (720, 1280),  # HD screenshot
    (1600, 2560),  # desktop screenshot
    (1100, 850),  # letter-size document scan at 100 dpi
    (2339, 1654),  # A4 scan at 200 dpi
    (800, 3000),  # panorama
    (480, 640),  # VGA photo
    (768, 1024),  # XGA
    (375, 500),  # web image
    (224, 224),  # thumbnail
    (150, 200),  # small thumbnail
    (64, 64),  # icon
    (1170, 2532),  # phone screenshot
]


def images(n: int, seed: int = 0, shape: tuple[int, int] | None = None) -> list[Image.Image]:
    """Smooth RGB images of those shapes, each a few pixels bigger than nominal; or all of one `shape`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        height, width = SHAPES[i % len(SHAPES)]
        height, width = height + int(rng.integers(0, 24)), width + int(rng.integers(0, 24))
        if shape is not None:
            height, width = shape
        y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
        x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
        planes = [127.5 + 100 * np.sin(2 * np.pi * (rng.uniform(1, 8) * x + rng.uniform(1, 8) * y)) for _ in range(3)]
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
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--images", type=int, default=32)
    args = parser.parse_args()
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    batches = {"mix": images(args.images), "same-size": images(args.images, shape=(768, 1024))}
    spec = load_spec(EXAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in render_spec(spec).items():
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_text(text, encoding="utf-8")
        sys.path.insert(0, tmp)
        package = importlib.import_module(spec.model.model_type)
        print(f"load average at start {os.getloadavg()}")
        print(
            f"{'images':<10} {'MP':>6} {'backend':<12} {'patches':>8} {'generated s':>12} {'built-in s':>11} {'ratio':>6}"
        )
        for name, batch in batches.items():
            megapixels = sum(i.width * i.height for i in batch) / 1e6
            for backend, ours, theirs in (
                ("torchvision", package.Qwen2VlLikeImageProcessor(), Qwen2VLImageProcessor()),
                ("pil", package.Qwen2VlLikeImageProcessorPil(), Qwen2VLImageProcessorPil()),
            ):
                a, b = ours(batch, return_tensors="pt"), theirs(batch, return_tensors="pt")
                diff = (a["pixel_values"] - b["pixel_values"]).abs().max().item()
                same_grid = a["image_grid_thw"].tolist() == b["image_grid_thw"].tolist()
                if a["pixel_values"].shape != b["pixel_values"].shape or diff != 0.0 or not same_grid:
                    sys.exit(f"{name} [{backend}]: outputs differ (max abs diff {diff})")
                ours_t, theirs_t = interleaved_times(ours, theirs, batch, args.repeats)
                # ratio = generated throughput / built-in throughput
                print(
                    f"{name:<10} {megapixels:>6.1f} {backend:<12} {a['pixel_values'].shape[0]:>8} {ours_t:>12.4f} "
                    f"{theirs_t:>11.4f} {theirs_t / ours_t:>6.3f}"
                )


if __name__ == "__main__":
    main()
