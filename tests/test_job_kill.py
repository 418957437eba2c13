"""A run killed with SIGKILL at any moment leaves nothing partial and resumes to the same bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_job import make_tree, snapshot

import augcore
from augcore.manifest import read_manifest

INPUTS = 60
PER_IMAGE = 3
RUN = (
    "import sys, augcore; augcore.run([sys.argv[1]], sys.argv[2], seed=4, size=(96, 96), "
    f"per_image={PER_IMAGE}, jobs=int(sys.argv[3]), quiet=True)"
)


def _start(data: Path, out: Path, jobs: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(data), str(out), str(jobs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _recorded(out: Path) -> int:
    try:
        return len(read_manifest(out / "manifest.jsonl").entries)
    except augcore.ManifestError:
        return 0


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (pool workers, forkserver, resource tracker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def _kill_after(process: subprocess.Popen[bytes], out: Path, lines: int) -> None:
    """SIGKILL once the manifest holds ``lines`` entries; the run's helpers must then exit."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if _recorded(out) >= lines:
            break
        time.sleep(0.002)
    helpers = _descendants(process.pid)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 15
    while _alive(helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(helpers), "worker processes outlived their killed parent"


def _assert_nothing_partial(out: Path) -> None:
    """Every image file decodes completely and is recorded at most once in a readable manifest."""
    manifest = read_manifest(out / "manifest.jsonl")
    paths = [entry["path"] for entry in manifest.entries]
    assert len(paths) == len(set(paths))
    for path in out.rglob("*.png"):
        with Image.open(path) as image:
            image.load()
    for entry in manifest.entries:
        assert (out / entry["path"]).is_file()


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_at_several_moments_then_resume_gives_the_uninterrupted_bytes(tmp_path, jobs):
    data = make_tree(tmp_path / "data", [f"img{i:03d}.png" for i in range(INPUTS)])
    reference = tmp_path / "reference"
    augcore.run([data], reference, per_image=PER_IMAGE, seed=4, jobs=1, size=(96, 96))
    out = tmp_path / "out"
    kills = 0
    for lines in (1, 40, 100):
        process = _start(data, out, jobs)
        _kill_after(process, out, lines)
        kills += process.returncode == -signal.SIGKILL
        _assert_nothing_partial(out)
    assert kills >= 2, "the runs finished before they could be killed; make the job longer"
    finish = _start(data, out, jobs)
    assert finish.wait() == 0, finish.stderr.read().decode() if finish.stderr else ""
    assert snapshot(out) == snapshot(reference)
    assert len(snapshot(out)) == INPUTS * PER_IMAGE + 1


def test_the_killed_runs_left_images_are_complete_files(tmp_path):
    """Checks the checker: a truncated PNG must fail the 'nothing partial' assertion."""
    data = make_tree(tmp_path / "data", ["a.png"])
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, jobs=1)
    written = out / "a__k0.png"
    big = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    Image.fromarray(big).save(written)
    written.write_bytes(written.read_bytes()[:100])
    with pytest.raises(OSError):
        _assert_nothing_partial(out)
