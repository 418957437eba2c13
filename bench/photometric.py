"""Images per second of the photometric transforms and a TrivialAugment chain, against peers.

Rows, all on the same 256x256 uint8 RGB photographs, one thread everywhere (OpenCV and torch
are set to one thread; augcore's loops run on the calling thread):

- ``color_jitter`` (brightness, contrast, saturation 0.4, hue 0.1): augcore ``augment_batch``
  vs Albumentations ``ColorJitter`` and torchvision v2 ``ColorJitter`` per image;
- ``gaussian_blur`` (kernel 9, sigma 1.5): vs Albumentations ``GaussianBlur`` and torchvision
  v2 ``GaussianBlur`` per image;
- a TrivialAugment chain (horizontal flip p 0.5, then TrivialAugmentWide): vs torchvision v2
  ``Compose([RandomHorizontalFlip(), TrivialAugmentWide()])`` per image (uint8 tensors).

Each row is the median of interleaved rounds (every library once per round), after a warm-up
round; a CPU control (a fixed numpy sort) is timed in every round too, so a loaded machine
shows as a control slower than its best. Run: ``python bench/photometric.py`` (``--quick``).
``bench/throughput.py --photometric`` prints the same table after its own.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SIDE = 256
SEED = 0
JITTER = {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1}
BLUR_KERNEL, BLUR_SIGMA = 9, 1.5
SAMPLES = Path(__file__).parents[1] / "augcore" / "data" / "samples"
Runner = tuple[str, str, int, Callable[[], object]]  # row, library, images, run


def photographs(count: int) -> np.ndarray:
    """``count`` 256x256 crops of the bundled photographs (real colour statistics, not noise)."""
    from PIL import Image

    sources = [
        np.asarray(Image.open(path).convert("RGB").resize((SIDE * 2, SIDE * 2)))
        for path in sorted(SAMPLES.glob("*.*"))
    ]
    rng = np.random.default_rng(SEED)
    crops = []
    for index in range(count):
        source = sources[index % len(sources)]
        top, left = rng.integers(0, SIDE, 2)
        crops.append(source[top : top + SIDE, left : left + SIDE])
    return np.ascontiguousarray(np.stack(crops))


def augcore_runners(images: np.ndarray) -> list[Runner]:
    from augcore.plugins.geometric import FlipHorizontal
    from augcore.plugins.policies import trivial_augment

    import augcore

    jitter = augcore.Pipeline.from_config({"steps": [{"transform": "color_jitter", **JITTER}]})
    blur = augcore.Pipeline.from_config(
        {"steps": [{"transform": "gaussian_blur", "kernel_size": BLUR_KERNEL,
                    "sigma": [BLUR_SIGMA, BLUR_SIGMA]}]}
    )  # fmt: skip
    chain = augcore.Pipeline(
        [augcore.Step(FlipHorizontal(), p=0.5), trivial_augment()],
        fill_mode="constant",
    )
    rows = (("color_jitter", jitter), ("gaussian_blur", blur), ("trivial_augment", chain))
    return [
        (row, "augcore augment_batch", len(images), lambda p=p: p.augment_batch(images, seed=SEED))
        for row, p in rows
    ]


def albumentations_runners(images: np.ndarray) -> list[Runner]:
    try:
        import albumentations as A
        import cv2
    except ImportError as error:
        print(f"albumentations not measured: {error}", file=sys.stderr)
        return []
    cv2.setNumThreads(1)
    name = f"albumentations {importlib.metadata.version('albumentations')}"
    jitter = A.ColorJitter(**JITTER, p=1.0)
    blur = A.GaussianBlur(
        blur_limit=(BLUR_KERNEL, BLUR_KERNEL), sigma_limit=(BLUR_SIGMA, BLUR_SIGMA), p=1.0
    )
    return [
        ("color_jitter", name, len(images), lambda: [jitter(image=i)["image"] for i in images]),
        ("gaussian_blur", name, len(images), lambda: [blur(image=i)["image"] for i in images]),
    ]


def torchvision_runners(images: np.ndarray) -> list[Runner]:
    try:
        import torch
        from torchvision.transforms import v2
    except ImportError as error:
        print(f"torchvision not measured: {error} (pip install augcore[bench-torch])",
              file=sys.stderr)  # fmt: skip
        return []
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    name = f"torchvision {importlib.metadata.version('torchvision')}"
    tensors = [torch.from_numpy(image).permute(2, 0, 1).contiguous() for image in images]
    jitter = v2.ColorJitter(**JITTER)
    blur = v2.GaussianBlur(BLUR_KERNEL, sigma=BLUR_SIGMA)
    chain = v2.Compose([v2.RandomHorizontalFlip(), v2.TrivialAugmentWide()])
    rows = (("color_jitter", jitter), ("gaussian_blur", blur), ("trivial_augment", chain))
    return [
        (row, name, len(tensors), lambda t=t: [t(tensor) for tensor in tensors])
        for row, t in rows
    ]


def cpu_control() -> None:
    np.sort(np.random.default_rng(SEED).random(200_000))


def median_seconds(runs: list[Callable[[], object]], rounds: int) -> list[float]:
    """Median wall time of each run over interleaved rounds, after one warm-up round."""
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for position, run in enumerate(runs):
            start = time.perf_counter()
            run()
            times[position].append(time.perf_counter() - start)
    return [statistics.median(values) for values in times]


def measure(batch: int, rounds: int) -> list[tuple[str, str, float]]:
    """(row, library, images per second) for every runner, the CPU control first."""
    images = photographs(batch)
    runners: list[Runner] = [("control", "numpy sort of 200k floats", 1, cpu_control)]
    for make in (augcore_runners, albumentations_runners, torchvision_runners):
        runners += make(images)
    seconds = median_seconds([run for *_, run in runners], rounds)
    return [
        (row, library, count / spent)
        for (row, library, count, _), spent in zip(runners, seconds, strict=True)
    ]


TARGETS = {"color_jitter": ("albumentations", 1.5), "gaussian_blur": ("albumentations", 1.5),
           "trivial_augment": ("torchvision", 3.0)}  # fmt: skip


def print_table(results: list[tuple[str, str, float]]) -> None:
    print(f"\nphotometric, {SIDE}x{SIDE} uint8 RGB photographs, one thread, medians")
    print(f"{'row':<17}{'library':<28}{'images/s':>11}{'augcore is':>13}")
    rates = {(row, library.split()[0]): rate for row, library, rate in results}
    for row, library, rate in results:
        ours = rates.get((row, "augcore"))
        ratio = f"{ours / rate:.2f}x" if ours and not library.startswith("augcore") else ""
        print(f"{row:<17}{library:<28}{rate:>11,.1f}{ratio:>13}")
    print("targets:")
    for row, (peer, target) in TARGETS.items():
        ours, theirs = rates.get((row, "augcore")), rates.get((row, peer))
        if not ours or not theirs:
            print(f"  {row} vs {peer} >= {target}x: not measured")
            continue
        verdict = "met" if ours / theirs >= target else "MISSED"
        print(f"  {row} vs {peer} >= {target}x: {ours / theirs:.2f}x {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small batch, for a smoke run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timed rounds")
    args = parser.parse_args(argv)
    print_table(measure(16 if args.quick else 64, 2 if args.quick else args.rounds))


if __name__ == "__main__":
    main()
