"""Microseconds per call for ONE image through the seed's chain: augcore against its peers.

This is the training-loop case: a ``Dataset.__getitem__`` augments one sample at a time, so
what counts is the fixed cost of a call, not images per second in a batch. Timed in this one
process on the same uint8 RGB images (28x28 and 256x256):

- augcore ``pipeline(image)`` (fresh draws from the pipeline's own seeded identities) and
  ``pipeline.augment(image, seed=, key=, k=)`` (the keyed form), ``Pipeline.default()``;
- Albumentations ``Compose`` of the same chain (``A.Affine`` nearest + replicate, then
  ``A.HorizontalFlip(p=0.5)``; bench_common.albumentations_seed_chain), one OpenCV thread;
- torchvision v2 ``Compose([RandomAffine, RandomHorizontalFlip])`` on a uint8 CHW tensor, if
  torchvision is installed (nearest; its fill is a constant, not replicated edges);
- a CPU control: a fixed pure-Python loop, to show how steady the machine was.

Each round times ``calls`` consecutive calls of every runner in turn (interleaved, so load from
elsewhere hits all of them alike); the table shows the median over rounds of the time per
call, and the control's spread. Run: ``python bench/latency.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import itertools
import statistics
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
    rounds_option,
)

import augcore

BENCH_SEED = 0
SIDES = (28, 256)
TARGET, MOONSHOT = 0.5, 0.25  # augcore's time / Albumentations' time (issue 13)
CONTROL = "CPU control (fixed Python loop)"
ALBUMENTATIONS = "albumentations"


@dataclass(frozen=True)
class Runner:
    name: str
    call: Callable[[], object]


def augcore_runners(image: np.ndarray) -> list[Runner]:
    pipeline = augcore.Pipeline.default(seed=BENCH_SEED)
    keyed = augcore.Pipeline.default()
    ks = itertools.count()
    return [
        Runner("augcore pipeline(image)", lambda: pipeline(image)),
        Runner(
            "augcore augment(seed=, key=, k=)",
            lambda: keyed.augment(image, seed=BENCH_SEED, key="bench.png", k=next(ks)),
        ),
    ]


def peer_runners(image: np.ndarray) -> list[Runner]:
    runners = []
    chain = albumentations_seed_chain(BENCH_SEED)
    if chain is not None:
        compose, version = chain
        runners.append(Runner(f"{ALBUMENTATIONS} {version}", lambda: compose(image=image)))
    try:
        import torch
        import torchvision
        from torchvision.transforms import v2
    except ImportError as error:
        print(f"torchvision not measured: {error}", file=sys.stderr)
        return runners
    torch.set_num_threads(1)
    torch.manual_seed(BENCH_SEED)
    transform = v2.Compose(
        [
            v2.RandomAffine(
                degrees=ROTATE_DEGREES,
                translate=(SHIFT_FRACTION, SHIFT_FRACTION),
                scale=(1 - ZOOM_FRACTION, 1 + ZOOM_FRACTION),
                shear=SHEAR_DEGREES,
                interpolation=v2.InterpolationMode.NEAREST,
            ),
            v2.RandomHorizontalFlip(p=0.5),
        ]
    )
    tensor = torch.from_numpy(image).permute(2, 0, 1).contiguous()
    runners.append(Runner(f"torchvision {torchvision.__version__} v2", lambda: transform(tensor)))
    return runners


def control() -> int:
    total = 0
    for value in range(2_000):
        total += value * value
    return total


def median_us(runners: list[Runner], calls: int, rounds: int) -> dict[str, list[float]]:
    """Per runner, the time per call of each round, in microseconds (after a warm-up round)."""
    times: dict[str, list[float]] = {runner.name: [] for runner in runners}
    for round_index in range(rounds + 1):
        for runner in runners:
            call = runner.call
            start = time.perf_counter()
            for _ in range(calls):
                call()
            elapsed = (time.perf_counter() - start) / calls * 1e6
            if round_index:  # round 0 warms caches, imports and lazy set-up
                times[runner.name].append(elapsed)
    return times


def report(side: int, times: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) for name, values in times.items()}
    peer = next((value for name, value in medians.items() if name.startswith(ALBUMENTATIONS)), None)
    print(f"\n{side}x{side} uint8 RGB, one image per call")
    print(f"  {'runner':<36}{'median us/call':>15}{'vs albumentations':>19}")
    for name, value in medians.items():
        ratio = f"{value / peer:.2f}x" if peer and name != CONTROL else "-"
        print(f"  {name:<36}{value:>15.1f}{ratio:>19}")
    spread = times[CONTROL]
    print(f"  control spread over rounds: {min(spread):.1f} .. {max(spread):.1f} us")
    if peer is None:
        return
    for name in ("augcore pipeline(image)", "augcore augment(seed=, key=, k=)"):
        ratio = medians[name] / peer
        verdict = "met" if ratio <= TARGET else "MISSED"
        moonshot = " (moonshot met)" if ratio <= MOONSHOT else ""
        print(f"  target {name} <= {TARGET}x albumentations: {ratio:.2f}x {verdict}{moonshot}")


def main(argv: list[str] | None = None) -> None:
    rounds, quick = rounds_option(__doc__.splitlines()[0], 15, argv)
    rng = np.random.default_rng(BENCH_SEED)
    for side in SIDES:
        image = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        runners = [*augcore_runners(image), *peer_runners(image), Runner(CONTROL, control)]
        calls = 200 if side <= 64 else 40
        if quick:
            calls //= 10
        report(side, median_us(runners, calls, rounds))


if __name__ == "__main__":
    main()
