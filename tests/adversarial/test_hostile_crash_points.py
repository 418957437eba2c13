"""Issue 12, class 2: a crash at ANY write is resumable, to the same bytes.

Every write, rename, append, unlink and sync the job makes passes a named fault point
(augcore.safefile); a traced run lists them all, then the run is repeated once per point with
``AUGCORE_FAULT_AT=N``, which ends the process there (half-way through for writes of data). After
each crash: every output the manifest records is complete, and rerunning the same call completes
to the bytes of an uninterrupted run, with no temporary file left. Scenarios: a new run with
``jobs=1`` and ``jobs=2`` (a crash in a worker is a dead worker: the run must end with
WorkerLostError), a resume (torn manifest tail, leftover temporary), an ``overwrite`` of another
run. Also: a real SIGKILL of a pool worker, and the empty or half-written manifest header an
older augcore left when it crashed (or the disk filled) during the header.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_job import make_tree, snapshot
from test_job_kill import _descendants

import augcore
from augcore.job.write import Recorder
from augcore.manifest import read_manifest
from augcore.safefile import FAULT_EXIT, TEMP_PREFIX

WORKER_LOST = 3  # the forked run's status when it ended with WorkerLostError
OTHER_ERROR = 4


def _in_child(call: Callable[[], object], environment: dict[str, str]) -> int:
    """Run ``call`` in a forked copy of this process; its exit status (FAULT_EXIT at a fault)."""
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            os.environ.update(environment)
            Recorder.SYNC_SECONDS = 1e9  # flush by count only: the same points every time
            call()
        except augcore.WorkerLostError:
            status = WORKER_LOST
        except BaseException:
            traceback.print_exc()  # shown with the failing test
            status = OTHER_ERROR
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status)


def _points(call: Callable[[], object], trace: Path, role: str) -> int:
    """How many fault points the busiest process of ``role`` passes in a clean run."""
    environment = {"AUGCORE_FAULT_TRACE": str(trace), "AUGCORE_FAULT_ROLE": role}
    assert _in_child(call, environment) == 0
    return max(Counter(line.split()[0] for line in trace.read_text().splitlines()).values())


def _recorded_outputs_are_complete(out: Path, removing: bool = False) -> None:
    """Every output the manifest records is there with its recorded bytes. ``removing``: the
    manifest may be an earlier run's that ``overwrite`` is deleting: its files are whole or gone.
    """
    if not (out / "manifest.jsonl").exists():
        return
    for entry in read_manifest(out / "manifest.jsonl").entries:
        path = out / entry["path"]
        if removing and not path.exists():
            continue
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], path


def _crash_everywhere(
    tmp_path: Path,
    prepare: Callable[[Path], None],
    call: Callable[[Path], object],
    reference: Path,
    role: str = "main",
    shared: bool = False,
    removing: bool = False,
) -> Counter[int]:
    """Crash ``call`` at each fault point of ``role`` in turn; rerun; compare with ``reference``.

    ``shared``: several processes share the work, and how much each does varies from run to
    run, so a process may finish before its N-th point (status 0). Returns how many crashed
    runs ended with each status.
    """
    probe = tmp_path / f"probe-{role}"
    prepare(probe)
    points = _points(lambda: call(probe), tmp_path / f"trace-{role}.txt", role)
    statuses: Counter[int] = Counter()
    for at in range(1, points + 1):
        out = tmp_path / f"crash-{role}-{at}"
        prepare(out)
        fault = {"AUGCORE_FAULT_AT": str(at), "AUGCORE_FAULT_ROLE": role}
        status = _in_child(lambda out=out: call(out), fault)
        statuses[status] += 1
        expected = (FAULT_EXIT, WORKER_LOST, 0) if shared else (FAULT_EXIT, WORKER_LOST)
        assert status in expected, f"fault point {at}: status {status}"
        _recorded_outputs_are_complete(out, removing)
        assert _in_child(lambda out=out: call(out), {}) == 0, f"rerun after fault point {at}"
        assert snapshot(out) == snapshot(reference), f"fault point {at}"
        assert not [path for path in out.rglob(f"{TEMP_PREFIX}*")], f"fault point {at}"
    return statuses


def _nothing(out: Path) -> None:
    pass


def _job(
    tmp_path: Path, names: list[str], **options: Any
) -> tuple[Path, Path, Callable[[Path], object]]:
    """Inputs, the uninterrupted result of ``options`` (one process), and the call to crash."""
    data = make_tree(tmp_path / "data", names)
    reference = tmp_path / "reference"
    augcore.run([data], reference, **{**options, "jobs": 1, "overwrite": False})
    return data, reference, lambda out: augcore.run([data], out, quiet=True, **options)


@pytest.mark.parametrize(("jobs", "inputs"), [(1, 4), (2, 16)])
def test_a_crash_at_every_write_of_a_new_run_resumes_to_the_same_bytes(tmp_path, jobs, inputs):
    names = [f"f{index:02d}.png" for index in range(inputs - 1)] + ["sub/deep.png"]
    per_image = 2 if jobs == 1 else 1
    _, reference, call = _job(tmp_path, names, per_image=per_image, seed=3, jobs=jobs)
    shared = jobs > 1
    statuses = _crash_everywhere(tmp_path, _nothing, call, reference, shared=shared)
    assert statuses[FAULT_EXIT] >= 8  # the header's five, at least one output's three
    if shared:  # a crash in a worker: the run ends with WorkerLostError, then resumes
        in_workers = _crash_everywhere(tmp_path, _nothing, call, reference, "worker", shared)
        assert set(in_workers) <= {WORKER_LOST, 0} and in_workers[WORKER_LOST] >= 3


def test_a_crash_at_every_write_of_a_resume_resumes_to_the_same_bytes(tmp_path):
    names = [f"f{index}.png" for index in range(4)]
    _, reference, call = _job(tmp_path, names, per_image=2, seed=1, jobs=1)

    def interrupted(out: Path) -> None:
        """What a killed run leaves: two lines lost, a torn line, a temporary file."""
        call(out)
        manifest = out / "manifest.jsonl"
        lines = manifest.read_bytes().splitlines(keepends=True)
        manifest.write_bytes(b"".join(lines[:-3]) + lines[-3][:30])
        (out / f"{TEMP_PREFIX}f3__k1.png.0123456789ab.tmp").write_bytes(b"half")
        (out / "f3__k1.png").unlink()

    _crash_everywhere(tmp_path, interrupted, call, reference)


def test_a_crash_at_every_write_of_an_overwrite_resumes_to_the_same_bytes(tmp_path):
    names = [f"f{index}.png" for index in range(3)]
    data, reference, call = _job(tmp_path, names, per_image=1, seed=9, jobs=1, overwrite=True)

    def earlier(out: Path) -> None:
        augcore.run([data], out, per_image=2, seed=0, jobs=1)

    _crash_everywhere(tmp_path, earlier, call, reference, removing=True)


@pytest.mark.parametrize("left", ["", "prefix"])
def test_an_empty_or_half_written_header_from_a_crash_is_resumed(tmp_path, left):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    reference = tmp_path / "reference"
    augcore.run([data], reference, per_image=2, seed=0, jobs=1)
    header = (reference / "manifest.jsonl").read_bytes().split(b"\n")[0]
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_bytes(header[: len(header) // 2] if left else b"")
    augcore.run([data], out, per_image=2, seed=0, jobs=1)
    assert snapshot(out) == snapshot(reference)


def test_a_half_written_header_of_another_run_is_still_refused(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_bytes(b'{"augcore_manifest":1,"header":{"augcore_version":"9')
    with pytest.raises(augcore.OutputConflictError, match="incomplete"):
        augcore.run([data], out, per_image=1, seed=0, jobs=1)


RUN = (
    "import sys, augcore; sys.exit(augcore.cli.main(['run', sys.argv[1], '--out', sys.argv[2], "
    "'--per-image', '3', '--size', '96x96', '--jobs', '2', '--quiet']))"
)


def _pool_workers(pid: int) -> list[int]:
    """The forked pool workers of ``pid``: its children running the same command line."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    workers = []
    for child in _descendants(pid):
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() == command:
                workers.append(child)
        except OSError:
            continue
    return workers


def test_a_sigkilled_worker_ends_the_run_with_a_named_error_and_it_resumes(tmp_path):
    data = make_tree(tmp_path / "data", [f"img{index:03d}.png" for index in range(80)])
    reference = tmp_path / "reference"
    augcore.run([data], reference, per_image=3, seed=0, jobs=1, size=(96, 96))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", "import augcore.cli; " + RUN, str(data), str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while process.poll() is None and not workers and time.monotonic() < deadline:
        workers = _pool_workers(process.pid)
        time.sleep(0.01)
    assert workers, "the run had no pool worker to kill"
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run finished before the worker was killed")  # a very fast machine
    assert process.returncode == 1, err
    assert "a worker process died" in err and "rerun the same command" in err
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    _recorded_outputs_are_complete(out)
    augcore.run([data], out, per_image=3, seed=0, jobs=2, size=(96, 96))
    assert snapshot(out) == snapshot(reference)
    entries = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]
    assert len({entry["path"] for entry in entries}) == len(entries) == 240
