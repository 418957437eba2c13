"""Images per second of the seed's chain: augcore against its peers, timed in one process.

The chain is the seed script's: rotate 40 degrees, shift 0.2, shear 0.2, zoom 0.2, horizontal
flip, nearest fill, on uint8 RGB images. Peers are measured here, in the same run, on the same
images, because numbers copied from elsewhere cannot be compared:

- Albumentations: ``A.Affine`` (INTER_NEAREST, BORDER_REPLICATE) + ``A.HorizontalFlip``;
- Keras 3 legacy ``ImageDataGenerator.random_transform`` (its own default: bilinear);
- augcore: ``Pipeline.default().augment_batch``; one shuffled epoch of ``AugmentStream`` (the
  training-loop iterator: gather, keys, prefetch thread); and, as a ceiling, the bare batched
  kernel on rotation matrices.

Every timing is the best of ``--repeats`` interleaved rounds after one warm-up round. Single
thread unless the row says otherwise.
Run: ``python bench/throughput.py`` (``--quick`` for a smoke run; ``--photometric`` adds the
rows of bench/photometric.py: color_jitter, gaussian_blur and a TrivialAugment chain).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from bench_common import (
    ROTATE_DEGREES,
    SHEAR_DEGREES,
    SHIFT_FRACTION,
    ZOOM_FRACTION,
    albumentations_seed_chain,
    bench_folder_last,
    two_sorts,
)

BENCH_SEED = 0
STREAM_BATCH = 512  # the training-loop iterator's batch; it shuffles and gathers per batch


@dataclass(frozen=True)
class Case:
    """One image size with how many images each library is timed on."""

    side: int
    batch: int
    peer_images: int  # the slow per-image peers are timed on a prefix of the batch

    @property
    def label(self) -> str:
        return f"{self.side}x{self.side}"


@dataclass(frozen=True)
class Row:
    case: Case
    library: str
    images: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.images / self.seconds


FULL_CASES = (Case(28, 4096, 4096), Case(256, 256, 128), Case(1024, 16, 8))
QUICK_CASES = (Case(28, 512, 256), Case(256, 32, 16), Case(1024, 4, 2))


def best_seconds(runs: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best wall time of each run over ``repeats`` rounds, after a warm-up round.

    Rounds interleave the libraries, so a burst of load from elsewhere on the machine slows
    one round of every library rather than every round of one.
    """
    for run in runs:
        run()
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for position, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[position] = min(best[position], time.perf_counter() - start)
    return best


def make_images(case: Case) -> np.ndarray:
    rng = np.random.default_rng(BENCH_SEED)
    return rng.integers(0, 256, size=(case.batch, case.side, case.side, 3), dtype=np.uint8)


def albumentations_runner(images: np.ndarray) -> tuple[str, Callable[[], object]] | None:
    chain = albumentations_seed_chain(BENCH_SEED)
    if chain is None:
        return None
    compose, version = chain
    return f"albumentations {version}", lambda: [compose(image=image)["image"] for image in images]


def keras_runner(images: np.ndarray) -> tuple[str, Callable[[], object]] | None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    bench_folder_last()
    try:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator
    except ImportError as error:
        print(f"keras not measured: {error}", file=sys.stderr)
        return None
    generator = ImageDataGenerator(
        rotation_range=ROTATE_DEGREES,
        width_shift_range=SHIFT_FRACTION,
        height_shift_range=SHIFT_FRACTION,
        shear_range=SHEAR_DEGREES,
        zoom_range=ZOOM_FRACTION,
        horizontal_flip=True,
        fill_mode="nearest",
    )
    version = importlib.metadata.version("keras")
    return (
        f"keras {version} random_transform",
        lambda: [generator.random_transform(image) for image in images],
    )


def rotation_pull_maps(count: int, side: int) -> np.ndarray:
    """Rotations about the centre: the kernel-only ceiling needs matrices, not the chain."""
    rng = np.random.default_rng(BENCH_SEED)
    angles = np.deg2rad(rng.uniform(-ROTATE_DEGREES, ROTATE_DEGREES, count))
    centre = (side - 1) / 2
    cos, sin = np.cos(angles), np.sin(angles)
    matrices = np.zeros((count, 2, 3))
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, -sin
    matrices[:, 1, 0], matrices[:, 1, 1] = sin, cos
    matrices[:, 0, 2] = centre - cos * centre + sin * centre
    matrices[:, 1, 2] = centre - sin * centre - cos * centre
    return matrices


def augcore_runners(images: np.ndarray, threads: int) -> list[tuple[str, Callable[[], object]]]:
    import augcore

    pipeline = augcore.Pipeline.default()
    keys = [f"bench/{index}.png" for index in range(len(images))]
    matrices = rotation_pull_maps(len(images), images.shape[1])
    stream_batch = min(STREAM_BATCH, len(images))
    thread_label = f"{threads} thread{'s' if threads > 1 else ''}"

    def stream_epoch() -> None:
        stream = augcore.AugmentStream(
            images, pipeline, seed=BENCH_SEED, batch_size=stream_batch, threads=threads
        )
        for _ in stream:
            pass

    return [
        (
            f"augcore augment_batch ({thread_label})",
            lambda: pipeline.augment_batch(
                images, seed=BENCH_SEED, keys=keys, per_image=1, threads=threads
            ),
        ),
        (f"augcore AugmentStream, batch {stream_batch} ({thread_label})", stream_epoch),
        (
            f"augcore kernel, rotations only ({thread_label})",
            lambda: augcore.warp_affine_batch(images, matrices, threads=threads),
        ),
    ]


def measure(cases: tuple[Case, ...], repeats: int, skip_keras: bool) -> list[Row]:
    rows: list[Row] = []
    for case in cases:
        images = make_images(case)
        peer_images = images[: case.peer_images]
        thread_counts = (1, 2) if case.side == 256 else (1,)
        runners = [
            (name, len(images), run)
            for threads in thread_counts
            for name, run in augcore_runners(images, threads)
        ]
        peers = [albumentations_runner(peer_images)]
        if not skip_keras:
            peers.append(keras_runner(peer_images))
        runners += [(name, len(peer_images), run) for name, run in filter(None, peers)]
        seconds = best_seconds([run for _, _, run in runners], repeats)
        rows += [
            Row(case, name, count, best)
            for (name, count, _), best in zip(runners, seconds, strict=True)
        ]
        print(f"... {case.label} done", file=sys.stderr, flush=True)
    return rows


def rate_of(rows: list[Row], case: Case, prefix: str) -> float | None:
    rates = [row.rate for row in rows if row.case == case and row.library.startswith(prefix)]
    return rates[0] if rates else None


def print_table(rows: list[Row]) -> None:
    print(f"{'size':<10}{'images':>7}  {'library':<40}{'images/s':>12}{'vs albumentations':>19}")
    for row in rows:
        albumentations = rate_of(rows, row.case, "albumentations")
        ratio = f"{row.rate / albumentations:.2f}x" if albumentations else "-"
        print(
            f"{row.case.label:<10}{row.images:>7}  {row.library:<40}{row.rate:>12,.0f}{ratio:>19}"
        )


def machine_thread_scaling(repeats: int) -> float:
    """How much faster two threads finish two GIL-free numpy sorts than one thread does.

    A control for the thread rows: on a machine whose second core is busy elsewhere this is
    well under 2, and no thread count can do better than it.
    """
    serial, parallel = two_sorts(np.random.default_rng(BENCH_SEED).random(2_000_000))
    one, two = best_seconds([serial, parallel], repeats)
    return one / two


def print_targets(rows: list[Row], cases: tuple[Case, ...], control: float) -> None:
    """The issue's targets, each with its measured value and whether it is met."""
    chain = "augcore augment_batch (1 thread)"
    print("\ntargets (issue 6):")
    for case, target in zip(cases, (20.0, 1.5, 2.0), strict=True):
        ours, theirs = rate_of(rows, case, chain), rate_of(rows, case, "albumentations")
        if ours is None or theirs is None:
            print(f"  {case.label} vs albumentations >= {target}x: not measured")
            continue
        ratio = ours / theirs
        verdict = "met" if ratio >= target else "MISSED"
        print(f"  {case.label} vs albumentations >= {target}x: {ratio:.2f}x {verdict}")
    case_256 = cases[1]
    for name in ("augcore augment_batch", "augcore kernel, rotations only"):
        one = rate_of(rows, case_256, f"{name} (1 thread)")
        two = rate_of(rows, case_256, f"{name} (2 threads)")
        if one and two:
            verdict = "met" if two / one >= 1.7 else "MISSED"
            print(f"  {case_256.label} {name}, 2 threads vs 1 >= 1.7x: {two / one:.2f}x {verdict}")
    print(f"  control: this machine runs 2 GIL-free numpy sorts {control:.2f}x faster on 2 threads")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small batches, for a smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row (best kept)")
    parser.add_argument("--skip-keras", action="store_true", help="do not time Keras")
    parser.add_argument(
        "--photometric", action="store_true",
        help="also the photometric rows (color_jitter, gaussian_blur, TrivialAugment chain)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    cases = QUICK_CASES if args.quick else FULL_CASES
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, best of {args.repeats} runs")
    rows = measure(cases, args.repeats, args.skip_keras)
    control = machine_thread_scaling(args.repeats)
    print_table(rows)
    print_targets(rows, cases, control)
    if args.photometric:
        import photometric

        photometric.main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
