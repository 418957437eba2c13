"""The seed's job end to end: files in, augmented files out, against the seed's own tools.

Workload (issues 4 and 16): 1,500 generated RGB 64x64 PNGs named in a list file, each resized
to 28x28, 3 augmented variants each, saved as TIFF: 4,500 files expected. Timed from this
process, on the same inputs, wall clock from reading the list to the last file written:

- Keras: the seed's loop verbatim on Keras 3's legacy ``ImageDataGenerator`` (``flow`` with
  ``save_to_dir``, three batches per image; ``KERAS_BACKEND=jax``);
- Augmentor: resize 28x28, rotate 40, shear 0.2, zoom 0.8-1.2, flip; ``process()`` three times
  (Augmentor has no shift; it reads a folder, not a list);
- augcore: ``augcore.run(--from-list, --size 28x28, --format tif, --per-image 3)`` with
  ``--jobs 1`` and ``--jobs 2`` (worker start-up included), in this process (where jax's
  threads make workers come from a forkserver, started once in the warm-up round) and as
  ``python -m augcore run`` in a fresh process (interpreter start, imports, forked workers);
  and ``--executor dask`` on 2 local worker processes, once starting its own LocalCluster
  (what ``--executor dask`` without ``--scheduler`` does) and once on a cluster already
  running (the scale-out path, minus the cluster's start), against ``--jobs 2``.

The durability line prices issue 12's syncs (each manifest line appended only after its file
is synced; one ``syncfs`` per batch of outputs): the time spent inside fsync/syncfs per run.
Each figure is the median of ``--repeats`` interleaved rounds, each into a fresh folder (nothing
is deleted until the end: ext4 creates files slowly right after thousands were deleted, which
would time the file system, not the tool). Each round also times a pure-CPU loop, the
"control" row: its spread says how much the machine's load moved during the run. The table
is printed twice: outputs on disk (the real case) and on a RAM file system (/dev/shm, where file
creation is cheap, to show compute alone). Two context lines say what no tool can beat: the
"floor" row (creating and renaming that many empty files in one folder, one process), and the
speed-up two processes got on pure CPU work during the run (on a shared machine, < 2.0x).
Run: ``python bench/job.py`` (``pip install -e ".[bench]" keras jax``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import SEED_SCRIPT_SETTINGS, bench_folder_last
from PIL import Image

os.environ.setdefault("KERAS_BACKEND", "jax")

INPUTS = 1500
PER_IMAGE = 3
SIDE = 64
TARGET = (28, 28)
CONTROL = "control"


def make_inputs(folder: Path, count: int, side: int = SIDE) -> Path:
    """``count`` random-textured RGB PNGs and the list file naming them (the seed's input)."""
    rng = np.random.default_rng(0)
    images = folder / "images"
    images.mkdir()
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, (side // 8, side // 8, 3), dtype=np.uint8)
        path = images / f"img{index:04d}.png"
        Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC).save(path)
        paths.append(str(path))
    listing = folder / "list.txt"
    listing.write_text("\n".join(paths) + "\n")
    return listing


def keras_seed_loop(listing: Path, out: Path) -> None:
    """The seed script (shared/seed), with only the import path updated for Keras 3."""
    from keras.src.legacy.preprocessing.image import ImageDataGenerator
    from keras.utils import img_to_array

    datagen = ImageDataGenerator(**SEED_SCRIPT_SETTINGS)
    with open(listing) as handle:
        names = [line.strip() for line in handle.readlines()]
    for line in names:
        img = Image.open(line)
        img = img.resize(TARGET)
        x = img_to_array(img)
        x = x.reshape((1, *x.shape))
        for i, _batch in enumerate(
            datagen.flow(
                x, batch_size=1, save_to_dir=str(out), save_prefix="augmented", save_format="tif"
            )
        ):
            if i >= PER_IMAGE - 1:
                break


def augmentor_process(listing: Path, out: Path) -> None:
    import Augmentor

    pipeline = Augmentor.Pipeline(str(listing.parent / "images"), str(out), save_format="TIFF")
    pipeline.resize(1.0, *TARGET)
    pipeline.rotate_without_crop(1.0, 40, 40)
    pipeline.shear(1.0, 0.2, 0.2)
    pipeline.zoom(1.0, 0.8, 1.2)
    pipeline.flip_left_right(0.5)
    for _ in range(PER_IMAGE):
        pipeline.process()


def augcore_run(jobs: int, **executor: Any) -> Callable[[Path, Path], None]:
    """``augcore.run`` in this process; ``executor`` adds ``executor=``/``scheduler=``."""

    def run(listing: Path, out: Path) -> None:
        import augcore

        augcore.run(
            [],
            out,
            from_list=listing,
            per_image=PER_IMAGE,
            seed=0,
            size="28x28",
            format="tif",
            jobs=jobs,
            quiet=True,
            **executor,
        )

    return run


SYNC_SECONDS: dict[str, list[float]] = {}  # tool -> seconds spent in fsync/syncfs, per round


@contextlib.contextmanager
def sync_clock(spent: list[float]) -> Iterator[None]:
    """Add to ``spent`` the seconds this process spends in fsync and syncfs (issue 12's
    durability: the header, one syncfs per batch of outputs, the manifest at the end)."""
    import augcore.safefile

    fsync, find_syncfs = os.fsync, augcore.safefile._syncfs
    syncfs = find_syncfs()

    def timed(function: Callable[[int], object]) -> Callable[[int], object]:
        def call(descriptor: int) -> object:
            started = time.perf_counter()
            try:
                return function(descriptor)
            finally:
                spent[-1] += time.perf_counter() - started

        return call

    spent.append(0.0)
    os.fsync = timed(fsync)  # type: ignore[assignment]
    augcore.safefile._syncfs = lambda: None if syncfs is None else timed(syncfs)
    try:
        yield
    finally:
        os.fsync, augcore.safefile._syncfs = fsync, find_syncfs


def augcore_timed(jobs: int) -> Callable[[Path, Path], None]:
    """``augcore_run`` that also notes the time spent making outputs durable."""

    def run(listing: Path, out: Path) -> None:
        with sync_clock(SYNC_SECONDS.setdefault(f"augcore --jobs {jobs}", [])):
            augcore_run(jobs)(listing, out)

    return run


def dask_cluster(stack: contextlib.ExitStack) -> Any:
    """A client of a LocalCluster of 2 single-threaded worker processes, closed with ``stack``."""
    import distributed

    from augcore.job.dask import local_cluster

    cluster = stack.enter_context(local_cluster(2))
    return stack.enter_context(distributed.Client(cluster, set_as_default=False))


def augcore_command(jobs: int) -> Callable[[Path, Path], None]:
    """``python -m augcore run ...`` in a fresh process: interpreter, imports and workers' start."""

    def run(listing: Path, out: Path) -> None:
        options = f"--per-image {PER_IMAGE} --seed 0 --size 28x28 --format tif --jobs {jobs}"
        command = [sys.executable, "-m", "augcore", "run", "--from-list", str(listing)]
        subprocess.run([*command, "--out", str(out), *options.split(), "--quiet"], check=True)

    return run


def images_written(out: Path) -> int:
    return sum(1 for path in out.rglob("*") if path.is_file() and path.name != "manifest.jsonl")


def available(module: str) -> str | None:
    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return None


CONTROL_WORK = 2_000_000


def _burn(count: int) -> int:
    total = 0
    for value in range(count):
        total += value * value
    return total


def parallel_headroom(work: int = 2_000_000) -> float:
    """Speed-up two processes get on pure CPU work right now (2.0 on an idle 2-core machine).

    The machine may be shared; this says what --jobs 2 could get at most during the run.
    """
    started = time.perf_counter()
    _burn(work)
    _burn(work)
    serial = time.perf_counter() - started
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        list(pool.map(_burn, [1, 1]))  # start the workers before timing
        started = time.perf_counter()
        list(pool.map(_burn, [work, work]))
        parallel = time.perf_counter() - started
    return serial / parallel


def cpu_control(_listing: Path, _out: Path) -> None:
    """The same pure-CPU work every round: how fast this machine is at that moment."""
    _burn(CONTROL_WORK)


def file_floor(root: Path, count: int) -> float:
    """Seconds to create and rename ``count`` tiny files in one folder: no tool can beat it."""
    folder = root / "floor"
    folder.mkdir()
    started = time.perf_counter()
    for index in range(count):
        temporary = folder / f".tmp{index}"
        temporary.write_bytes(b"x")
        os.replace(temporary, folder / f"f{index}.tif")
    return time.perf_counter() - started


def compare(
    tools: dict[str, Callable[[Path, Path], None]],
    root: Path,
    place: str,
    inputs: int,
    repeats: int,
) -> None:
    """Time every tool on the same inputs under ``root``; print the table."""
    times: dict[str, list[float]] = {}
    files: dict[str, int] = {}
    listing = make_inputs(root, inputs)
    tools = {**tools, CONTROL: cpu_control}
    for round_index in range(repeats + 1):  # round 0 warms imports and caches up
        for tool_index, (name, tool) in enumerate(tools.items()):
            out = root / f"round{round_index}-tool{tool_index}"
            out.mkdir()
            started = time.perf_counter()
            chatter = io.StringIO()  # peers' progress bars and messages
            with contextlib.redirect_stderr(chatter), contextlib.redirect_stdout(chatter):
                tool(listing, out)
            seconds = time.perf_counter() - started
            files[name] = images_written(out)
            if round_index:
                times.setdefault(name, []).append(seconds)
    control = times.pop(CONTROL)
    best = {name: statistics.median(seconds) for name, seconds in times.items()}
    expected = inputs * PER_IMAGE
    floor = file_floor(root, expected)
    print(
        f"\n## Outputs on {place}: {inputs} RGB {SIDE}x{SIDE} PNGs from a list -> "
        f"{TARGET[0]}x{TARGET[1]}, {PER_IMAGE} variants each, TIFF: {expected} files expected; "
        f"median of {repeats} rounds; {os.cpu_count()} CPUs\n"
    )
    keras = next((name for name in best if name.startswith("keras")), None)
    header = f"| {'tool':<44} | {'outputs/s':>9} | {'files written':>13} | {'vs keras':>8} |"
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for name, seconds in best.items():
        rate = files[name] / seconds
        versus = f"{rate / (files[keras] / best[keras]):.2f}x" if keras else "-"
        print(f"| {name:<44} | {rate:>9.0f} | {files[name]:>13} | {versus:>8} |")
    print(
        f"| {'floor: create + rename empty files, 1 process':<44} | {expected / floor:>9.0f} | "
        f"{expected:>13} | {'':>8} |"
    )
    print(
        f"| {'control: pure-CPU loop, s per round (min-max)':<44} | "
        f"{statistics.median(control):>9.3f} | {min(control):>6.3f}-{max(control):<6.3f} | "
        f"{'':>8} |"
    )
    one = expected / best["augcore --jobs 1"]
    two = expected / best["augcore --jobs 2"]
    print(
        f"\naugcore --jobs 2 / --jobs 1: {two / one:.2f}x (file creation dominates here; the "
        f"--jobs target is bench/job_scaling.py's); two processes got "
        f"{parallel_headroom():.2f}x on pure CPU work on this machine just now"
    )
    for jobs in (1, 2):
        spent = sorted(SYNC_SECONDS.pop(f"augcore --jobs {jobs}")[1:])  # round 0: warm-up
        share = 100 * spent[len(spent) // 2] / best[f"augcore --jobs {jobs}"]
        print(
            f"durability: augcore --jobs {jobs} spends {1000 * spent[len(spent) // 2]:.0f} ms "
            f"(median) in fsync/syncfs = {share:.1f}% of its median run (target <= 10%)"
        )
    for name in [name for name in best if "dask" in name]:
        print(f"{name} / augcore --jobs 2: {expected / best[name] / two:.2f}x")
    command_one = expected / best["augcore CLI --jobs 1 (fresh process)"]
    command_two = expected / best["augcore CLI --jobs 2 (fresh process)"]
    print(f"augcore CLI (fresh process) --jobs 2 / --jobs 1: {command_two / command_one:.2f}x")
    if keras:
        print(
            f"augcore --jobs 1 / keras: {one / (files[keras] / best[keras]):.2f}x, as a fresh CLI "
            f"process {command_one / (files[keras] / best[keras]):.2f}x (target >= 3x); "
            f"keras wrote {files[keras]} of {expected} files, augcore {files['augcore --jobs 1']}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inputs", type=int, default=INPUTS)
    args = parser.parse_args()
    bench_folder_last()
    tools: dict[str, Callable[[Path, Path], None]] = {}
    if available("keras") and available("jax"):
        tools[f"keras {available('keras')} ImageDataGenerator (seed loop)"] = keras_seed_loop
    else:
        print("keras/jax not installed: skipping the Keras row", file=sys.stderr)
    if available("Augmentor"):
        tools[f"Augmentor {available('Augmentor')} process() x{PER_IMAGE}"] = augmentor_process
    else:
        print("Augmentor not installed: skipping its row", file=sys.stderr)
    tools["augcore --jobs 1"] = augcore_timed(1)
    tools["augcore --jobs 2"] = augcore_timed(2)
    tools["augcore CLI --jobs 1 (fresh process)"] = augcore_command(1)
    tools["augcore CLI --jobs 2 (fresh process)"] = augcore_command(2)

    places = {"disk": None}
    if os.path.isdir("/dev/shm"):
        places["RAM (tmpfs)"] = "/dev/shm"
    with contextlib.ExitStack() as stack:
        if available("distributed"):
            # The scale-out path on one machine: a fresh LocalCluster per run (what
            # `--executor dask` does without --scheduler) and a cluster already running.
            tools["augcore --executor dask (new local cluster)"] = augcore_run(2, executor="dask")
            tools["augcore --executor dask (running cluster)"] = augcore_run(
                2, executor="dask", scheduler=dask_cluster(stack)
            )
        else:
            print("distributed not installed: skipping the --executor dask rows", file=sys.stderr)
        for place, directory in places.items():
            with tempfile.TemporaryDirectory(dir=directory) as scratch:
                compare(tools, Path(scratch), place, args.inputs, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
