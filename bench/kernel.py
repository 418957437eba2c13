"""Speed of the warp kernel against its peers, all timed in this one process on the same inputs.

Tables: order 0 and 1 single images against OpenCV/Pillow/scipy; a batch against an OpenCV
loop; ``warp_perspective`` against ``cv2.warpPerspective``; and the thread scaling of
``warp_affine_batch`` on a caller-owned pool, next to a pure-CPU two-thread control (hashing,
which releases the GIL) that shows what two threads can gain on this machine at that moment.

Every peer does the same work: the same pull map (converted to each library's convention, see
``opencv_matrix`` and ``pillow_coefficients``), uint8 RGB, nearest neighbour, replicated edges
(Pillow has no edge mode and fills black), one thread. Times are the median of many runs in
microseconds; ratios are augcore's time over the peer's (below 1.0 = augcore faster), and
"x memcpy" is a time over ``np.copyto`` of the same image, the memory floor.

Run: ``python bench/kernel.py`` (``--quick`` for a smoke run). Needs the ``bench`` extra:
``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

import augcore
from augcore.reduce import box_reduce

BENCH_SEED = 0
SIZES = (28, 256, 1024)
BATCH_SIZE = 4096
BATCH_SIDE = 28
# Thread scaling: (side, batch size) pairs.
THREAD_BATCHES = ((28, 2048), (256, 64))
CONTROL_BLOCK = b"\x5a" * (1 << 16)  # hashed 64 KiB at a time: each call releases the GIL
MIN_REPEATS = 7
MAX_REPEATS = 2000


def typical_matrix(side: int, degrees: float = 17.0, scale: float = 1.1) -> np.ndarray:
    """A rotation + zoom + small shift about the centre: what an augmentation chain produces."""
    theta = math.radians(degrees)
    linear = scale * np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]
    )
    centre = np.full(2, (side - 1) / 2)
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = centre - linear @ centre + (1.3, -2.1)
    return matrix


def opencv_matrix(matrix: np.ndarray) -> np.ndarray:
    """Our (row, col) pull map as OpenCV's (x=col, y=row) map, used with WARP_INVERSE_MAP."""
    return np.array(
        [[matrix[1, 1], matrix[1, 0], matrix[1, 2]], [matrix[0, 1], matrix[0, 0], matrix[0, 2]]]
    )


def pillow_coefficients(matrix: np.ndarray) -> tuple[float, ...]:
    """Pillow samples at pixel centres (x + 0.5, y + 0.5); shift the map so it hits ours."""
    (a, b, c), (d, e, f) = opencv_matrix(matrix)
    return (a, b, c + 0.5 - 0.5 * (a + b), d, e, f + 0.5 - 0.5 * (d + e))


def scipy_warp(
    image: np.ndarray, matrix: np.ndarray, order: int, out: np.ndarray | None = None
) -> np.ndarray:
    """scipy.ndimage.affine_transform channel by channel, replicated edges."""
    out = np.empty_like(image) if out is None else out
    for c in range(image.shape[2]):
        ndimage.affine_transform(
            image[..., c],
            matrix[:2, :2],
            offset=matrix[:2, 2],
            order=order,
            mode="nearest",
            output=out[..., c],
        )
    return out


def median_us(
    runs: dict[str, Callable[[], object]], budget_s: float, best: dict[str, float] | None = None
) -> dict[str, float]:
    """Median wall time of each run in microseconds, measured round-robin.

    Interleaving the runs (A, B, C, A, B, C, ...) makes every implementation see the same load
    on a shared machine, so the ratios stay meaningful even when absolute times drift. ``best``,
    when given, receives each run's fastest time: on a loaded machine the closest to its cost.
    """
    once = 0.0
    for run in runs.values():
        run()
        start = time.perf_counter()
        run()
        once += time.perf_counter() - start
    repeats = int(min(MAX_REPEATS, max(MIN_REPEATS, budget_s / max(once, 1e-7))))
    samples: dict[str, list[int]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter_ns()
            run()
            samples[name].append(time.perf_counter_ns() - start)
    if best is not None:
        best.update({name: min(times) / 1e3 for name, times in samples.items()})
    return {name: statistics.median(times) / 1e3 for name, times in samples.items()}


def print_rows(
    title: str,
    times: dict[str, float],
    floor_us: float | None,
    best: dict[str, float] | None = None,
) -> None:
    """One table: the first entry is augcore's, every ratio is augcore's time over that row's
    (medians; with ``best``, also the fastest runs' times and ratio)."""
    ours = next(iter(times.values()))
    ours_best = best[next(iter(times))] if best else None
    print(f"\n{title}")
    header = f"  {'implementation':<38}{'us':>12}{'augcore/peer':>14}"
    header += f"{'x memcpy':>10}" if floor_us else ""
    print(header + (f"{'best us':>10}{'best ratio':>12}" if best else ""))
    for name, us in times.items():
        line = f"  {name:<38}{us:>12.1f}{ours / us:>14.2f}"
        line += f"{us / floor_us:>10.1f}" if floor_us else ""
        if best and name in best:
            line += f"{best[name]:>10.1f}{ours_best / best[name]:>12.2f}"
        print(line)


def opencv_warp(image: np.ndarray, matrix: np.ndarray, out: np.ndarray, interpolation: int):
    """A zero-argument OpenCV call doing the same work as augcore (replicated edges)."""
    cv_map = opencv_matrix(matrix)
    size = (image.shape[1], image.shape[0])
    flags = interpolation | cv2.WARP_INVERSE_MAP
    return lambda: cv2.warpAffine(
        image, cv_map, size, dst=out, flags=flags, borderMode=cv2.BORDER_REPLICATE
    )


def agreement(ours: np.ndarray, theirs: np.ndarray) -> str:
    return f"{np.mean(np.all(ours == theirs, axis=-1)):.2%}"


def single_image_table(side: int, budget_s: float) -> None:
    rng = np.random.default_rng(BENCH_SEED)
    image = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    matrix = typical_matrix(side)
    out = np.empty_like(image)
    pil_image = Image.fromarray(image)
    pil_coeffs = pillow_coefficients(matrix)
    opencv = opencv_warp(image, matrix, out, cv2.INTER_NEAREST)
    best: dict[str, float] = {}
    times = median_us(
        {
            "augcore warp_affine order=0": lambda: augcore.warp_affine(image, matrix, out=out),
            "OpenCV warpAffine INTER_NEAREST": opencv,
            "Pillow transform AFFINE NEAREST": lambda: pil_image.transform(
                (side, side), Image.Transform.AFFINE, pil_coeffs, Image.Resampling.NEAREST
            ),
            "np.copyto (memory floor)": lambda: np.copyto(out, image),
        },
        budget_s,
        best,
    )

    def scipy_per_channel() -> None:
        scipy_warp(image, matrix, order=0, out=out)

    # scipy is one to two orders of magnitude slower: timed on its own, with fewer repeats.
    times["scipy affine_transform order=0"] = median_us({"scipy": scipy_per_channel}, budget_s / 4)[
        "scipy"
    ]
    floor = times.pop("np.copyto (memory floor)")
    times["np.copyto (memory floor)"] = floor
    print_rows(f"order 0, uint8 RGB {side}x{side}, single image, 1 thread", times, floor, best)
    ours = augcore.warp_affine(image, matrix)
    opencv_pixels = agreement(ours, opencv().copy())
    scipy_per_channel()
    print(f"  pixels equal to augcore's: OpenCV {opencv_pixels}, scipy {agreement(ours, out)}")


def bilinear_table(side: int, budget_s: float) -> None:
    rng = np.random.default_rng(BENCH_SEED)
    image = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    matrix = typical_matrix(side)
    out = np.empty_like(image)
    times = median_us(
        {
            "augcore warp_affine order=1": lambda: augcore.warp_affine(
                image, matrix, order=1, out=out
            ),
            "OpenCV warpAffine INTER_LINEAR": opencv_warp(image, matrix, out, cv2.INTER_LINEAR),
        },
        budget_s,
    )
    print_rows(f"order 1, uint8 RGB {side}x{side}, single image, 1 thread", times, None)
    ours = augcore.warp_affine(image, matrix, order=1).astype(np.int16)
    for name, interpolation in (("OpenCV", cv2.INTER_LINEAR), ("scipy", None)):
        if interpolation is None:
            theirs = scipy_warp(image, matrix, order=1)
        else:
            opencv_warp(image, matrix, out, interpolation)()
            theirs = out
        diff = np.abs(ours - theirs)
        print(
            f"  vs {name}: max |difference| {diff.max()}, "
            f"{np.count_nonzero(diff) / diff.size:.4%} of values differ"
        )


def bilinear_float_table(side: int, budget_s: float) -> None:
    """float32 RGB at order 1, the Keras-compatible path: augcore is bit-identical to scipy."""
    rng = np.random.default_rng(BENCH_SEED)
    image = rng.uniform(0, 255, size=(side, side, 3)).astype(np.float32)
    matrix = typical_matrix(side)
    out = np.empty_like(image)
    scipy_out = np.empty_like(image)
    times = median_us(
        {
            "augcore warp_affine order=1": lambda: augcore.warp_affine(
                image, matrix, order=1, out=out
            ),
            "OpenCV warpAffine INTER_LINEAR": opencv_warp(image, matrix, out, cv2.INTER_LINEAR),
        },
        budget_s,
    )
    times["scipy affine_transform order=1"] = median_us(
        {"scipy": lambda: scipy_warp(image, matrix, order=1, out=scipy_out)}, budget_s / 4
    )["scipy"]
    print_rows(f"order 1, float32 RGB {side}x{side}, single image, 1 thread", times, None)
    identical = np.array_equal(augcore.warp_affine(image, matrix, order=1), scipy_out)
    print(f"  every value equal to scipy's: {identical}")


def batch_table(budget_s: float, pool: ThreadPoolExecutor) -> None:
    rng = np.random.default_rng(BENCH_SEED)
    images = rng.integers(0, 256, size=(BATCH_SIZE, BATCH_SIDE, BATCH_SIDE, 3), dtype=np.uint8)
    angles = rng.uniform(-40, 40, size=BATCH_SIZE)
    matrices = np.stack([typical_matrix(BATCH_SIDE, a) for a in angles])
    out = np.empty_like(images)
    per_image = [
        opencv_warp(image, matrix, slot, cv2.INTER_NEAREST)
        for image, matrix, slot in zip(images, matrices, out, strict=True)
    ]

    def opencv_loop() -> None:
        for warp in per_image:
            warp()

    times = median_us(
        {
            "augcore warp_affine_batch threads=1": lambda: augcore.warp_affine_batch(
                images, matrices, out=out
            ),
            "OpenCV warpAffine, loop per image": opencv_loop,
            "augcore warp_affine_batch threads=2": lambda: augcore.warp_affine_batch(
                images, matrices, out=out, threads=2, executor=pool
            ),
            "np.copyto (memory floor)": lambda: np.copyto(out, images),
        },
        budget_s,
    )
    print_rows(
        f"order 0, batch of {BATCH_SIZE} uint8 RGB {BATCH_SIDE}x{BATCH_SIDE} "
        "(augcore/peer <= 0.33 means >= 3x throughput)",
        times,
        times["np.copyto (memory floor)"],
    )


def perspective_matrix(side: int) -> np.ndarray:
    """The typical affine map with a tilt: w runs from about 0.85 to 1.15 over the canvas."""
    matrix = typical_matrix(side)
    matrix[2, :2] = (0.2 / side, -0.15 / side)
    return matrix


def perspective_table(side: int, budget_s: float) -> None:
    """warp_perspective against cv2.warpPerspective, nearest, replicated edges, one thread."""
    rng = np.random.default_rng(BENCH_SEED)
    image = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    matrix = perspective_matrix(side)
    swap = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (r, c) <-> (x, y)
    cv_map = swap @ matrix @ swap
    out = np.empty_like(image)
    cv_out = np.empty_like(image)
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    best: dict[str, float] = {}

    def opencv() -> None:
        cv2.warpPerspective(
            image, cv_map, (side, side), dst=cv_out, flags=flags, borderMode=cv2.BORDER_REPLICATE
        )

    times = median_us(
        {
            "augcore warp_perspective order=0": lambda: augcore.warp_perspective(
                image, matrix, out=out
            ),
            "OpenCV warpPerspective INTER_NEAREST": opencv,
        },
        budget_s,
        best,
    )
    print_rows(f"perspective, order 0, uint8 RGB {side}x{side}, 1 thread", times, None, best)
    opencv()
    rows, cols = np.meshgrid(
        np.arange(side, dtype=float), np.arange(side, dtype=float), indexing="ij"
    )
    w = (matrix[2, 2] + rows * matrix[2, 0]) + cols * matrix[2, 1]
    coordinates = [((matrix[k, 2] + rows * matrix[k, 0]) + cols * matrix[k, 1]) / w for k in (0, 1)]
    scipy_out = np.stack(
        [
            ndimage.map_coordinates(image[..., c], coordinates, order=0, mode="nearest")
            for c in range(3)
        ],
        axis=-1,
    )
    print(
        f"  pixels equal to augcore's: OpenCV {agreement(out, cv_out)}, "
        f"scipy map_coordinates {agreement(out, scipy_out)}"
    )


def reduce_table(budget_s: float) -> None:
    """box_reduce against Pillow's Image.reduce, which it equals byte for byte."""
    image = np.random.default_rng(BENCH_SEED).integers(0, 256, size=(512, 512, 3), dtype=np.uint8)
    pil_image = Image.fromarray(image)
    for factor in (2, 3, 4):
        times = median_us(
            {
                f"augcore box_reduce {factor}x{factor}": lambda f=factor: box_reduce(image, f),
                f"Pillow Image.reduce({factor})": lambda f=factor: pil_image.reduce(f),
            },
            budget_s / 3,
        )
        print_rows(f"box reduce by {factor}, uint8 RGB 512x512", times, None)
    same = np.array_equal(box_reduce(image, 2), np.asarray(pil_image.reduce(2)))
    print(f"  equal to Pillow's bytes: {same}")


def hash_blocks(blocks: int) -> None:
    for _ in range(blocks):
        hashlib.sha256(CONTROL_BLOCK).digest()


def two_threads(work: Callable[[], None], pool: ThreadPoolExecutor) -> None:
    """``work`` on the pool and on this thread at once, as warp_affine_batch splits a batch."""
    job = pool.submit(work)
    work()
    job.result()


def threads_table(side: int, count: int, budget_s: float, pool: ThreadPoolExecutor) -> None:
    """threads=2 over threads=1 for a batch on a caller-owned pool (and on a pool built per
    call, as before round 2), next to the same split of GIL-free hashing."""
    rng = np.random.default_rng(BENCH_SEED)
    images = rng.integers(0, 256, size=(count, side, side, 3), dtype=np.uint8)
    matrices = np.stack([typical_matrix(side, a) for a in rng.uniform(-40, 40, size=count)])
    out = np.empty_like(images)
    blocks = 32
    best: dict[str, float] = {}

    def warp(threads: int, executor: ThreadPoolExecutor | None = None) -> Callable[[], None]:
        return lambda: augcore.warp_affine_batch(
            images, matrices, out=out, threads=threads, executor=executor
        )

    times = median_us(
        {
            "threads=1": warp(1),
            "threads=2, owned pool": warp(2, pool),
            "threads=2, pool per call": warp(2),
            "control: hashing, 1 thread": lambda: hash_blocks(blocks),
            "control: hashing, 2 threads": lambda: two_threads(
                lambda: hash_blocks(blocks // 2), pool
            ),
        },
        budget_s,
        best,
    )
    print(f"\nthreads, order 0, batch of {count} uint8 RGB {side}x{side} (speed-up over 1 thread)")
    print(f"  {'run':<38}{'us':>12}{'speed-up':>14}{'best us':>10}{'best speed-up':>15}")
    for name, us in times.items():
        single = "control: hashing, 1 thread" if "control" in name else "threads=1"
        print(
            f"  {name:<38}{us:>12.1f}{times[single] / us:>14.2f}"
            f"{best[name]:>10.1f}{best[single] / best[name]:>15.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    budget_s = 0.3 if parser.parse_args().quick else 3.0
    cv2.setNumThreads(1)
    print(
        f"augcore {augcore.__version__}, OpenCV {cv2.__version__}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs; medians of interleaved runs, ~{budget_s:.1f} s per table"
    )
    for side in SIZES:
        single_image_table(side, budget_s)
    with ThreadPoolExecutor(max_workers=1) as pool:
        batch_table(budget_s, pool)
        for side, count in THREAD_BATCHES:
            threads_table(side, count, budget_s, pool)
    for side in SIZES[1:]:
        perspective_table(side, budget_s)
    reduce_table(budget_s)
    for side in SIZES[1:]:
        bilinear_table(side, budget_s)
    bilinear_float_table(256, budget_s)


if __name__ == "__main__":
    main()
