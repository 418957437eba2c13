"""A random resized crop to 224x224 from 512x512 inputs: augcore against its peers (issue 9).

The training-size crop every vision pipeline starts with. Timed in this process, on the same
uint8 RGB images, one thread:

- augcore: ``augment_batch`` of a one-step chain ``random_resized_crop`` (torchvision's
  semantics), bilinear (``order 1``) and nearest (``order 0``). Where the crop shrinks by 2 or
  more, augcore first box-reduces the source (no aliasing), so it does more work than a
  plain resample;
- Albumentations ``RandomResizedCrop`` per image (INTER_LINEAR, its default, and
  INTER_NEAREST), OpenCV at one thread like augcore;
- torchvision v2 ``RandomResizedCrop`` per image on a uint8 tensor, when torch is installed.

Rounds interleave the libraries and a pure-CPU control (sorting the same array each round,
whose spread shows how the machine's load moved); each figure is the median of the rounds.

A second table times the kernel alone on one crop, per image in microseconds: ``warp_affine``
of a 300x300 crop of one (cache-hot) 512x512 image to 224x224 — the axis-aligned map that
takes the kernel's separable path — against ``cv2.resize`` of the same crop; on a CPU with
AVX-512, also the kernel's entry point with its AVX-512 steps and with its AVX2 ones.
Run: ``python bench/canvas.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from bench_common import print_table

import augcore
from augcore import _warp

SOURCE = 512
TARGET = 224
SCALE = (0.08, 1.0)
RATIO = (3 / 4, 4 / 3)


def augcore_rrc(order: int) -> augcore.Pipeline:
    return augcore.Pipeline.from_config(
        {
            "order": order,
            "steps": [{"transform": "random_resized_crop", "height": TARGET, "width": TARGET}],
        }
    )


def peers(images: np.ndarray) -> dict[str, Callable[[], object]]:
    """Per-image loops of the peers that are installed."""
    runs: dict[str, Callable[[], object]] = {}
    try:
        import albumentations as A
        import cv2
    except ImportError:
        print("albumentations not installed: skipping its rows", file=sys.stderr)
    else:
        cv2.setNumThreads(1)
        version = importlib.metadata.version("albumentations")
        for label, interpolation in (
            ("bilinear", cv2.INTER_LINEAR),
            ("nearest", cv2.INTER_NEAREST),
        ):
            crop = A.RandomResizedCrop(
                size=(TARGET, TARGET), scale=SCALE, ratio=RATIO, interpolation=interpolation, p=1
            )
            runs[f"Albumentations {version} RandomResizedCrop, {label}"] = _per_image(
                lambda image, crop=crop: crop(image=image)["image"], images
            )
    try:
        import torch
        from torchvision.transforms import v2
    except ImportError:
        print("torch/torchvision not installed: skipping the torchvision row", file=sys.stderr)
    else:
        torch.set_num_threads(1)
        crop = v2.RandomResizedCrop((TARGET, TARGET), scale=SCALE, ratio=RATIO, antialias=True)
        tensors = [torch.from_numpy(image).permute(2, 0, 1) for image in images]
        runs[f"torchvision {importlib.metadata.version('torchvision')} v2, bilinear"] = lambda: [
            crop(tensor) for tensor in tensors
        ]
    return runs


def _per_image(call: Callable[[np.ndarray], object], images: np.ndarray) -> Callable[[], object]:
    return lambda: [call(image) for image in images]


def kernel_call(image: np.ndarray, matrix: np.ndarray, order: int, paths: int) -> np.ndarray:
    """The kernel's own entry point on one image, with its steps chosen by ``paths``."""
    out = np.empty((1, TARGET, TARGET, 3), np.uint8)
    _warp.warp_batch(
        image[None], out, matrix.reshape(1, 6), 0, 1, image.shape, out.shape[1:], 1, order, 0,
        0.0, False, 6, paths,
    )  # fmt: skip
    return out


def kernel_table(repeats: int) -> None:
    """The kernel's resize path against cv2.resize on one crop (medians of interleaved runs)."""
    try:
        import cv2
    except ImportError:
        print("OpenCV not installed: skipping the kernel table", file=sys.stderr)
        return
    cv2.setNumThreads(1)
    image = np.random.default_rng(1).integers(0, 256, (SOURCE, SOURCE, 3), dtype=np.uint8)
    top, left, side = 50, 100, 300
    crop = image[top : top + side, left : left + side]
    scale = side / TARGET
    matrix = np.array([[scale, 0.0, top + (scale - 1) / 2], [0.0, scale, left + (scale - 1) / 2]])
    runs = {}
    for order, label, flag in (
        (1, "bilinear", cv2.INTER_LINEAR),
        (0, "nearest", cv2.INTER_NEAREST),
    ):
        runs[f"augcore warp_affine, {label}"] = lambda order=order: augcore.warp_affine(
            image, matrix, order=order, output_shape=(TARGET, TARGET)
        )
        runs[f"cv2.resize, {label}"] = lambda flag=flag: cv2.resize(
            crop, (TARGET, TARGET), interpolation=flag
        )
        if _warp.resize_step_width() > 8:  # the AVX-512 steps' gain over the AVX2 ones
            for paths, steps in ((_warp.FASTEST, "AVX-512"), (_warp.AVX2_STEPS, "AVX2")):
                runs[f"augcore kernel only, {label}, {steps} steps"] = partial(
                    kernel_call, image, matrix, order, paths
                )
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(20, 20 * repeats)):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    print(
        f"\n## the kernel alone: a {side}x{side} crop of one 512x512 image -> {TARGET}x{TARGET}\n"
    )
    rows = [[name, f"{statistics.median(t) * 1e6:.0f}"] for name, t in times.items()]
    print_table([("call", 55), ("us", 9)], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, repeats = (16, 2) if args.quick else (args.images, args.repeats)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, SOURCE, SOURCE, 3), dtype=np.uint8)
    control = rng.random(1 << 20)
    runs: dict[str, Callable[[], object]] = {}
    for order, label in ((1, "bilinear"), (0, "nearest")):
        pipeline = augcore_rrc(order)
        runs[f"augcore {augcore.__version__} augment_batch, {label}"] = lambda pipeline=pipeline: (
            pipeline.augment_batch(images, seed=0, per_image=1)
        )
    runs.update(peers(images))
    runs["control: sort 1M floats (s)"] = lambda: np.sort(control)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_index in range(repeats + 1):  # round 0 warms up
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            if round_index:
                times[name].append(time.perf_counter() - started)
    control_times = times.pop("control: sort 1M floats (s)")
    rates = {name: count / statistics.median(seconds) for name, seconds in times.items()}
    albumentations = {
        label: next(rates[name] for name in rates if "Albumentations" in name and label in name)
        for label in ("bilinear", "nearest")
        if any("Albumentations" in name for name in rates)
    }
    print(
        f"\n## random resized crop {SOURCE}x{SOURCE} -> {TARGET}x{TARGET}, uint8 RGB, "
        f"{count} images, 1 thread; median of {repeats} interleaved rounds\n"
    )
    rows = []
    for name, rate in rates.items():
        label = "bilinear" if "bilinear" in name else "nearest"
        versus = f"{rate / albumentations[label]:.2f}x" if label in albumentations else "-"
        rows.append([name, f"{rate:.0f}", versus])
    spread = f"{min(control_times):.3f}-{max(control_times):.3f}"
    rows.append(
        ["control: sort 1M floats, s (min-max)", f"{statistics.median(control_times):.3f}", spread]
    )
    print_table([("library", 55), ("images/s", 9), ("vs Albumentations", 17)], rows)
    print("\n(target: augcore >= 2x Albumentations; same interpolation compared row by row)")
    kernel_table(repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
