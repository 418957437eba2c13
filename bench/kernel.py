"""Speed of the warp kernel against its peers, all timed in this one process on the same inputs.

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
import math
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

import augcore

BENCH_SEED = 0
SIZES = (28, 256, 1024)
BATCH_SIZE = 4096
BATCH_SIDE = 28


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


def median_us(run: Callable[[], object], budget_s: float, max_repeats: int = 2000) -> float:
    """Median wall time of ``run`` in microseconds over as many repeats as ``budget_s`` allows."""
    run()
    start = time.perf_counter()
    run()
    once = time.perf_counter() - start
    repeats = int(min(max_repeats, max(5, budget_s / max(once, 1e-7))))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        run()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1e3


def print_rows(title: str, rows: list[tuple[str, float]], floor_us: float | None) -> None:
    ours = rows[0][1]
    print(f"\n{title}")
    header = f"  {'implementation':<34}{'us':>12}{'augcore/peer':>14}"
    print(header + (f"{'x memcpy':>10}" if floor_us else ""))
    for name, us in rows:
        line = f"  {name:<34}{us:>12.1f}{ours / us:>14.2f}"
        print(line + (f"{us / floor_us:>10.1f}" if floor_us else ""))


def single_image_table(side: int, budget_s: float) -> None:
    rng = np.random.default_rng(BENCH_SEED)
    image = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    matrix = typical_matrix(side)
    out = np.empty_like(image)
    cv_map = opencv_matrix(matrix)
    pil_image = Image.fromarray(image)
    pil_coeffs = pillow_coefficients(matrix)
    nearest = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    rows = [
        (
            "augcore warp_affine order=0",
            median_us(lambda: augcore.warp_affine(image, matrix, out=out), budget_s),
        ),
        (
            "OpenCV warpAffine INTER_NEAREST",
            median_us(
                lambda: cv2.warpAffine(
                    image,
                    cv_map,
                    (side, side),
                    dst=out,
                    flags=nearest,
                    borderMode=cv2.BORDER_REPLICATE,
                ),
                budget_s,
            ),
        ),
        (
            "Pillow transform AFFINE NEAREST",
            median_us(
                lambda: pil_image.transform(
                    (side, side), Image.Transform.AFFINE, pil_coeffs, Image.Resampling.NEAREST
                ),
                budget_s,
            ),
        ),
        (
            "scipy affine_transform order=0",
            median_us(
                lambda: [
                    ndimage.affine_transform(
                        image[..., c],
                        matrix[:2, :2],
                        offset=matrix[:2, 2],
                        order=0,
                        mode="nearest",
                        output=out[..., c],
                    )
                    for c in range(3)
                ],
                budget_s,
                max_repeats=50,
            ),
        ),
    ]
    floor = median_us(lambda: np.copyto(out, image), budget_s)
    rows.append(("np.copyto (memory floor)", floor))
    print_rows(f"order 0, uint8 RGB {side}x{side}, single image, 1 thread", rows, floor)


def bilinear_table(side: int, budget_s: float) -> None:
    rng = np.random.default_rng(BENCH_SEED)
    image = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    matrix = typical_matrix(side)
    out = np.empty_like(image)
    linear = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    cv_map = opencv_matrix(matrix)
    rows = [
        (
            "augcore warp_affine order=1",
            median_us(lambda: augcore.warp_affine(image, matrix, order=1, out=out), budget_s),
        ),
        (
            "OpenCV warpAffine INTER_LINEAR",
            median_us(
                lambda: cv2.warpAffine(
                    image,
                    cv_map,
                    (side, side),
                    dst=out,
                    flags=linear,
                    borderMode=cv2.BORDER_REPLICATE,
                ),
                budget_s,
            ),
        ),
    ]
    print_rows(f"order 1, uint8 RGB {side}x{side}, single image, 1 thread", rows, None)


def batch_table(budget_s: float) -> None:
    rng = np.random.default_rng(BENCH_SEED)
    images = rng.integers(0, 256, size=(BATCH_SIZE, BATCH_SIDE, BATCH_SIDE, 3), dtype=np.uint8)
    angles = rng.uniform(-40, 40, size=BATCH_SIZE)
    matrices = np.stack([typical_matrix(BATCH_SIDE, a) for a in angles])
    cv_maps = [opencv_matrix(m) for m in matrices]
    out = np.empty_like(images)
    nearest = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    size = (BATCH_SIDE, BATCH_SIDE)

    def opencv_loop() -> None:
        for i in range(BATCH_SIZE):
            cv2.warpAffine(
                images[i],
                cv_maps[i],
                size,
                dst=out[i],
                flags=nearest,
                borderMode=cv2.BORDER_REPLICATE,
            )

    rows = [
        (
            "augcore warp_affine_batch threads=1",
            median_us(lambda: augcore.warp_affine_batch(images, matrices, out=out), budget_s),
        ),
        ("OpenCV warpAffine, loop per image", median_us(opencv_loop, budget_s)),
        (
            "augcore warp_affine_batch threads=2",
            median_us(
                lambda: augcore.warp_affine_batch(images, matrices, out=out, threads=2), budget_s
            ),
        ),
    ]
    floor = median_us(lambda: np.copyto(out, images), budget_s)
    rows.append(("np.copyto (memory floor)", floor))
    print_rows(
        f"order 0, batch of {BATCH_SIZE} uint8 RGB {BATCH_SIDE}x{BATCH_SIDE} "
        "(augcore/peer < 0.33 means >= 3x throughput)",
        rows,
        floor,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    budget_s = 0.2 if parser.parse_args().quick else 2.0
    cv2.setNumThreads(1)
    print(
        f"augcore {augcore.__version__}, OpenCV {cv2.__version__}, numpy {np.__version__}; "
        f"median times, budget {budget_s:.1f} s per measurement"
    )
    for side in SIZES:
        single_image_table(side, budget_s)
    batch_table(budget_s)
    for side in SIZES[1:]:
        bilinear_table(side, budget_s)


if __name__ == "__main__":
    main()
