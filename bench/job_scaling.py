"""``--jobs 2`` against ``--jobs 1`` where CPU, not file creation, dominates (issue 16).

Workload: 4,000 generated RGB 256x256 PNGs named in a list file, one augmented variant each,
written as JPEG (decoding a PNG, warping and encoding a JPEG cost milliseconds an image; the
4,000 files are few next to that work). Each tool is ``python -m augcore run`` in a fresh
process (interpreter, imports, workers' start-up included), timed into a fresh folder; the
rounds interleave ``--jobs 1``, ``--jobs 2`` and two pure-CPU controls (the same work in one
process, then split over two processes), and each figure is the median of the rounds. The
controls' ratio is what two processes could gain on this machine during the run (2.0 when idle).

``--profile`` also prints where a ``--jobs 1`` run spends its time (cProfile, top functions).
Run: ``python bench/job_scaling.py`` (``--inputs 500 --repeats 1`` for a smoke run).
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench_common import bench_folder_last, print_table
from job import CONTROL_WORK, _burn, make_inputs

INPUTS = 4000
SIDE = 256
FORMAT = "jpg"


def command(jobs: int) -> list[str]:
    options = f"--per-image 1 --seed 0 --format {FORMAT} --jobs {jobs} --quiet"
    return [sys.executable, "-m", "augcore", "run", *options.split()]


def augcore_cli(jobs: int) -> Callable[[Path, Path], None]:
    def run(listing: Path, out: Path) -> None:
        subprocess.run([*command(jobs), "--from-list", str(listing), "--out", str(out)], check=True)

    return run


def control(processes: int) -> Callable[[Path, Path], None]:
    """Four units of pure-CPU work, in this process or over ``processes`` started processes."""

    def run(_listing: Path, _out: Path) -> None:
        if processes == 1:
            for _ in range(4):
                _burn(CONTROL_WORK)
            return
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            list(pool.map(_burn, [CONTROL_WORK] * 4))

    return run


def profile_one_process(listing: Path, out: Path) -> None:
    """Where ``--jobs 1`` spends its time, run in this process under cProfile."""
    from augcore.cli import main

    arguments = [*command(1)[4:], "--from-list", str(listing), "--out", str(out)]
    profiler = cProfile.Profile()
    profiler.runcall(main, ["run", *arguments])
    print("\n## --jobs 1 profile (in this process, imports already done): top by own time\n")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=INPUTS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    bench_folder_last()
    tools = {
        "augcore CLI --jobs 1 (fresh process)": augcore_cli(1),
        "augcore CLI --jobs 2 (fresh process)": augcore_cli(2),
        "control: pure-CPU work, 1 process": control(1),
        "control: pure-CPU work, 2 processes": control(2),
    }
    times: dict[str, list[float]] = {name: [] for name in tools}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        listing = make_inputs(root, args.inputs, side=SIDE)
        for round_index in range(args.repeats + 1):  # round 0 warms the page cache up
            for tool_index, (name, tool) in enumerate(tools.items()):
                out = root / f"round{round_index}-tool{tool_index}"
                started = time.perf_counter()
                tool(listing, out)
                if round_index:
                    times[name].append(time.perf_counter() - started)
        if args.profile:
            profile_one_process(listing, root / "profiled")
    median = {name: statistics.median(seconds) for name, seconds in times.items()}
    print(
        f"\n## {args.inputs} RGB {SIDE}x{SIDE} PNGs -> 1 variant each, {FORMAT.upper()}; median "
        f"of {args.repeats} interleaved rounds, each into a fresh folder; {os.cpu_count()} CPUs\n"
    )
    print_table(
        [("run", 40), ("seconds", 8), ("min-max", 13)],
        [
            [name, f"{median[name]:.2f}", f"{min(seconds):.2f}-{max(seconds):.2f}"]
            for name, seconds in times.items()
        ],
    )
    names = list(median)
    print(
        f"\naugcore --jobs 2 / --jobs 1: {median[names[0]] / median[names[1]]:.2f}x "
        f"(target >= 1.5x); the control got {median[names[2]] / median[names[3]]:.2f}x "
        "from two processes in the same rounds"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
