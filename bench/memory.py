"""Peak RSS of streaming 10,000 vs 100,000 augmented 28x28 RGB images through AugmentStream.

Each count runs in its own fresh subprocess (peak RSS never goes down, so sharing a process
would hide growth) and reports its peak RSS (``VmHWM``) and the largest anonymous RSS it saw
between batches (both from /proc/self/status, so Linux only). Two sources:

- ``generated``: images rendered on demand from their index, so the source itself costs nothing
  and any growth would be the stream's (queued batches, records, order, caches...);
- ``memmap``: a ``.npy`` file on disk opened with ``mmap_mode="r"``. Its pages are file-backed:
  they count in RSS once touched (the OS can drop them at will), so for this source the
  anonymous RSS is the number that shows whether augcore's own memory grows.

Target (issue 6): peak RSS at 100,000 within 10 % of the peak at 10,000.
Run: ``python bench/memory.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SIDE = 28
COUNTS = (10_000, 100_000)
BATCH_SIZE = 256
SEED = 0


class GeneratedImages:
    """A lazy dataset: image i is a pure function of i, built only when asked for."""

    def __init__(self, count: int) -> None:
        self._count = count
        ramp = np.arange(SIDE, dtype=np.uint16)
        self._base = (ramp[:, None, None] * 3 + ramp[None, :, None] * 5 + np.arange(3) * 7) % 256

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self._count:
            raise IndexError(index)
        return ((self._base + index) % 256).astype(np.uint8)


def status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} line in /proc/self/status (Linux only)")


def stream_once(count: int, source_kind: str, folder: Path) -> dict[str, float]:
    """Streams ``count`` images through the seed's chain; runs inside the child process."""
    import augcore

    if source_kind == "generated":
        source = GeneratedImages(count)
    else:
        source = np.load(folder / f"images_{count}.npy", mmap_mode="r")
    stream = augcore.AugmentStream(source, seed=SEED, batch_size=BATCH_SIZE, prefetch=2)
    checksum = 0
    peak_anonymous = 0
    seen = 0
    for batch in stream:
        checksum += int(batch.images[:, SIDE // 2, SIDE // 2].sum()) + len(batch.records)
        seen += len(batch.images)
        peak_anonymous = max(peak_anonymous, status_kib("RssAnon"))
    if seen != count:
        raise RuntimeError(f"streamed {seen} images, expected {count}")
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    return {
        "peak_mib": status_kib("VmHWM") / 1024,
        "anonymous_mib": peak_anonymous / 1024,
        "sum": checksum,
    }


def write_memmaps(folder: Path) -> None:
    for count in COUNTS:
        images = np.lib.format.open_memmap(
            folder / f"images_{count}.npy", mode="w+", dtype=np.uint8, shape=(count, SIDE, SIDE, 3)
        )
        generated = GeneratedImages(count)
        for start in range(0, count, 4096):
            stop = min(start + 4096, count)
            images[start:stop] = np.stack([generated[i] for i in range(start, stop)])
        images.flush()
        del images


def run_child(count: int, source_kind: str, folder: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(count), source_kind, str(folder)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"child {count} {source_kind} failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("COUNT", "SOURCE", "FOLDER"), help="internal")
    args = parser.parse_args(argv)
    if args.child:
        count, source_kind, folder = args.child
        print(json.dumps(stream_once(int(count), source_kind, Path(folder))))
        return
    print(f"AugmentStream, seed's chain, {SIDE}x{SIDE} RGB uint8, batch {BATCH_SIZE}, prefetch 2")
    print(f"{'source':<11}{'images':>9}{'peak RSS MiB':>15}{'peak anon MiB':>15}")
    with tempfile.TemporaryDirectory(prefix="augcore-memory-") as tmp:
        folder = Path(tmp)
        write_memmaps(folder)
        verdicts = []
        for source_kind in ("generated", "memmap"):
            results = [run_child(count, source_kind, folder) for count in COUNTS]
            for count, result in zip(COUNTS, results, strict=True):
                print(
                    f"{source_kind:<11}{count:>9,}{result['peak_mib']:>15.1f}"
                    f"{result['anonymous_mib']:>15.1f}"
                )
            small, large = results
            for measure in ("peak_mib", "anonymous_mib"):
                ratio = large[measure] / small[measure]
                verdict = "met" if ratio <= 1.10 else "MISSED"
                verdicts.append(
                    f"  {source_kind} {measure.replace('_mib', '')} RSS "
                    f"{COUNTS[1]:,} / {COUNTS[0]:,}: {ratio:.3f} ({verdict}, target <= 1.10)"
                )
    print("\nratios:")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
