"""Images with a label mask and boxes per second: augcore against Albumentations, one process.

The chain is the same for both: rotate within +-30 degrees and scale within 0.9..1.1 about the
centre, then a horizontal flip half of the time; bilinear image, nearest-neighbour mask,
replicated border; 8 boxes with labels per image (Pascal VOC corners), enclosing-box rule.

- Albumentations 2: ``A.Compose([A.Affine(...), A.HorizontalFlip(p=0.5)],
  bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))`` called per image;
- augcore: ``Pipeline.augment_batch(images, boxes=..., masks=...)`` on the batch (boxes moved
  in one vectorised pass, every mask of the batch in one kernel call).

Times are medians of interleaved rounds (augcore, Albumentations, control, repeated), single
thread for both (OpenCV's own threads off); the control is a fixed numpy workload timed in
the same rounds, so a busy machine shows as a slower control, not as a ratio.
Run: ``python bench/targets.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

SIDE = 256
BOXES = 8


def make_data(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, SIDE, SIDE, 3), dtype=np.uint8)
    masks = rng.integers(0, 5, (count, SIDE, SIDE), dtype=np.uint8)
    low = rng.uniform(0, SIDE - 60, (count, BOXES, 2))
    boxes = np.concatenate([low, low + rng.uniform(10, 60, (count, BOXES, 2))], axis=2)
    return images, masks, boxes


def augcore_run(images: np.ndarray, masks: np.ndarray, boxes: np.ndarray) -> Callable[[], object]:
    from augcore.plugins.geometric import FlipHorizontal, Rotate, Zoom

    import augcore

    pipeline = augcore.Pipeline(
        [Rotate(degrees=30), Zoom(factor=(0.9, 1.1)), augcore.Step(FlipHorizontal(), p=0.5)],
        order=1,
        fill_mode="nearest",
    )
    labels = np.arange(BOXES)
    keys = [str(i) for i in range(len(images))]

    def run() -> object:
        given = [augcore.Boxes(b, labels=labels) for b in boxes]
        return pipeline.augment_batch(images, seed=1, keys=keys, boxes=given, masks=masks)

    return run


def albumentations_run(
    images: np.ndarray, masks: np.ndarray, boxes: np.ndarray
) -> Callable[[], object]:
    import albumentations as A
    import cv2

    cv2.setNumThreads(1)
    transform = A.Compose(
        [
            A.Affine(
                rotate=(-30, 30),
                scale=(0.9, 1.1),
                interpolation=cv2.INTER_LINEAR,
                mask_interpolation=cv2.INTER_NEAREST,
                border_mode=cv2.BORDER_REPLICATE,
                p=1.0,
            ),
            A.HorizontalFlip(p=0.5),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        seed=1,
    )
    labels = list(range(BOXES))

    def run() -> object:
        return [
            transform(image=image, mask=mask, bboxes=box, labels=labels)
            for image, mask, box in zip(images, masks, boxes, strict=True)
        ]

    return run


def control() -> object:
    return np.sort(np.random.default_rng(5).random(400_000))


def medians(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few images, 2 rounds")
    args = parser.parse_args()
    count, rounds = (8, 2) if args.quick else (64, 9)
    images, masks, boxes = make_data(count)
    runs = {
        "augcore augment_batch + targets": augcore_run(images, masks, boxes),
        "Albumentations Compose + bbox_params": albumentations_run(images, masks, boxes),
        "control (numpy sort, 400k)": control,
    }
    times = medians(runs, rounds)
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("albumentations", "opencv-python-headless", "numpy")
    )
    print(
        f"{count} images {SIDE}x{SIDE} RGB + uint8 mask + {BOXES} boxes; medians of "
        f"{rounds} interleaved rounds; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(versions)
    ours = times["augcore augment_batch + targets"]
    print(f"{'':40} {'ms/batch':>10} {'images/s':>10} {'augcore x':>10}")
    for name, seconds in times.items():
        rate = f"{count / seconds:10.0f}" if "control" not in name else f"{'':>10}"
        ratio = f"{seconds / ours:10.2f}" if "control" not in name else f"{'':>10}"
        print(f"{name:40} {seconds * 1e3:10.2f} {rate} {ratio}")


if __name__ == "__main__":
    main()
