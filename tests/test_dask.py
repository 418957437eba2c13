"""The job on a real Dask cluster (``--executor dask``) and on fsspec URLs, against the bytes a
local run writes.

One ``LocalCluster(n_workers=2, processes=True)`` on 127.0.0.1 serves the module; its worker
processes are checked to be gone when it closes. The oracle everywhere is a local run of the
same command: outputs and manifest byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sys
from pathlib import Path

import dask
import distributed
import fsspec
import psutil
import pytest
from test_job import make_image, snapshot

import augcore
from augcore.cli import main
from augcore.cli.job import EXIT_ERROR, EXIT_MISMATCH, EXIT_OK
from augcore.errors import ExecutorError, JobOptionError, SchedulerUnreachableError
from augcore.job import remote
from augcore.job.dask import local_cluster
from augcore.safefile import TEMP_PREFIX

NAMES = [f"{folder}/img{i}.png" for folder in ("cats", "dogs/deep") for i in range(10)]
SIZES = [(20, 14), (14, 20), (16, 16)]


@pytest.fixture(scope="module")
def client():
    # LocalCluster(n_workers=2, processes=True, threads_per_worker=1) on 127.0.0.1
    with (
        local_cluster(2) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        assert isinstance(cluster, distributed.LocalCluster)
        workers = client.run(os.getpid)
        assert len(workers) == 2
        yield client
        workers |= client.run(os.getpid)  # a worker restarted after a kill is a new process
    processes = []
    for pid in set(workers.values()):
        with contextlib.suppress(psutil.NoSuchProcess):  # already gone
            processes.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, f"cluster processes outlived the tests: {alive}"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    for seed, name in enumerate(NAMES):
        make_image(root / name, size=SIZES[seed % len(SIZES)], seed=seed)
    return root


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> dict[str, bytes]:
    """What ``--executor local --jobs 2`` writes for the command every test runs."""
    out = tmp_path_factory.mktemp("reference") / "out"
    augcore.run([data], out, per_image=3, seed=7, jobs=2)
    return snapshot(out)


def test_outputs_and_manifest_are_byte_identical_to_a_local_run(client, data, reference, tmp_path):
    summary = augcore.run(
        [data], tmp_path / "out", per_image=3, seed=7, executor="dask", scheduler=client
    )
    assert summary.written == len(NAMES) * 3
    assert snapshot(tmp_path / "out") == reference


def test_the_default_local_cluster_runs_the_job_and_is_closed_with_it(data, reference, tmp_path):
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    augcore.run([data], tmp_path / "out", per_image=3, seed=7, jobs=2, executor="dask")
    assert snapshot(tmp_path / "out") == reference
    started = [
        child
        for child in psutil.Process().children(recursive=True)
        if child.pid not in before
    ]
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, f"worker processes outlived the run: {alive}"


def test_the_client_does_not_augment(client, data, reference, tmp_path, monkeypatch):
    def refuse(self, batch):
        raise AssertionError("the client augmented a batch")

    monkeypatch.setattr(augcore.job.execute.Worker, "__call__", refuse)  # in this process only
    augcore.run([data], tmp_path / "out", per_image=3, seed=7, executor="dask", scheduler=client)
    assert snapshot(tmp_path / "out") == reference


def test_the_cli_runs_on_a_scheduler_address(client, data, reference, tmp_path):
    argv = [
        "run",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--per-image",
        "3",
        "--seed",
        "7",
        "--executor",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--quiet",
    ]
    assert main(argv) == EXIT_OK
    assert snapshot(tmp_path / "out") == reference


def _die_on_the_first_rename(marker: str) -> None:
    """In a worker: the first rename of the whole cluster (the one that creates ``marker``)
    kills this worker process instead, after the temporary file was written in full."""
    real_replace = os.replace

    def replace(source, target):
        try:
            descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return real_replace(source, target)
        os.write(descriptor, os.fsencode(source))
        os.close(descriptor)
        os._exit(1)

    os.replace = replace


def test_a_worker_killed_mid_write_changes_nothing_and_leaves_no_temporary(
    client, data, reference, tmp_path
):
    marker = tmp_path / "killed"
    client.run(_die_on_the_first_rename, str(marker))
    out = tmp_path / "out"
    summary = augcore.run([data], out, per_image=3, seed=7, executor="dask", scheduler=client)
    left_behind = Path(marker.read_text())  # the kill happened, with this temporary written
    assert left_behind.name.startswith(TEMP_PREFIX) and left_behind.parent.is_relative_to(out)
    assert not left_behind.exists()
    assert summary.written == len(NAMES) * 3
    assert snapshot(out) == reference  # no duplicate manifest line, no temporary, same bytes


def _allow_failures(count: int, dask_scheduler=None) -> None:
    dask_scheduler.allowed_failures = count  # Dask passes its scheduler by this name


def _die_on_every_rename() -> None:
    os.replace = lambda source, target: os._exit(1)


def test_a_batch_that_keeps_killing_its_workers_is_an_executor_error(client, data, tmp_path):
    client.run_on_scheduler(_allow_failures, 0)  # the first worker death is one too many
    try:
        client.run(_die_on_every_rename)
        with pytest.raises(ExecutorError, match="killed every Dask worker that ran it"):
            augcore.run([data], tmp_path / "out", per_image=1, seed=0, executor="dask",
                         scheduler=client)
    finally:
        client.run_on_scheduler(_allow_failures, 3)
        client.restart()  # fresh worker processes, without the patch
    assert not list((tmp_path / "out").rglob("*.png"))  # nothing was renamed into place


def _interrupt(out: Path) -> None:
    """What a run killed outright leaves: the last outputs unrecorded (one of them never
    written), a torn manifest line and a temporary file."""
    manifest = out / "manifest.jsonl"
    lines = manifest.read_bytes().splitlines(keepends=True)
    lost = [json.loads(line)["path"] for line in lines[-25:]]
    manifest.write_bytes(b"".join(lines[:-25]) + lines[-25][:30])
    for rel in lost[:20]:
        (out / rel).unlink()
    (out / f"{TEMP_PREFIX}{Path(lost[0]).name}.abc123.tmp").write_bytes(b"half an image")


@pytest.mark.parametrize(("first", "second"), [("local", "dask"), ("dask", "local")])
def test_a_run_started_on_one_executor_finishes_on_the_other(
    client, data, reference, tmp_path, first, second
):
    def run(executor):
        scheduler = client if executor == "dask" else None
        return augcore.run(
            [data],
            tmp_path / "out",
            per_image=3,
            seed=7,
            jobs=2,
            executor=executor,
            scheduler=scheduler,
        )

    run(first)
    _interrupt(tmp_path / "out")
    summary = run(second)
    assert (summary.written, summary.already_there) == (25, len(NAMES) * 3 - 25)
    assert snapshot(tmp_path / "out") == reference


def _unused_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_named_and_nothing_is_written(data, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_unused_loopback_port()}"
    out = tmp_path / "out"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(SchedulerUnreachableError, match=address):
            augcore.run([data], out, per_image=3, seed=7, executor="dask", scheduler=address)
        argv = [
            "run",
            str(data),
            "--out",
            str(out),
            "--per-image",
            "3",
            "--executor",
            "dask",
            "--scheduler",
            address,
        ]
        assert main(argv) == EXIT_ERROR
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


def test_without_distributed_the_dask_executor_says_how_to_install(
    data, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ExecutorError, match=r'pip install "augcore\[dask\]"'):
        augcore.run([data], tmp_path / "out", per_image=1, seed=0, executor="dask")
    argv = ["run", str(data), "--out", str(tmp_path / "out"), "--per-image", "1"]
    assert main([*argv, "--executor", "dask"]) == EXIT_ERROR
    assert 'pip install "augcore[dask]"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_file_url_is_the_local_path_and_resumes_its_run(data, reference, tmp_path):
    augcore.run([f"file://{data}"], f"file://{tmp_path}/out", per_image=3, seed=7)
    assert snapshot(tmp_path / "out") == reference  # the header names the plain path
    again = augcore.run([data], tmp_path / "out", per_image=3, seed=7)
    assert (again.written, again.already_there) == (0, len(NAMES) * 3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"executor": "ray"}, "executor must be one of local, dask"),
        ({"scheduler": "tcp://127.0.0.1:1"}, "only with executor 'dask'"),
        ({"executor": "dask", "out": "memory://x"}, "memory:// exists inside one process"),
        (
            {"out": "memory://x", "annotations": "a.json", "annotation_format": "coco"},
            "annotations are written to a local --out folder only",
        ),
    ],
)
def test_bad_executor_options_are_refused_before_anything_runs(data, tmp_path, options, message):
    arguments = {"out": tmp_path / "out", **options}
    with pytest.raises(JobOptionError, match=message):
        augcore.run([data], per_image=1, seed=0, **arguments)
    assert not (tmp_path / "out").exists()


@pytest.fixture
def memory(data):
    """The inputs uploaded to a fresh memory:// folder; everything under it removed after."""
    fs = fsspec.filesystem("memory")
    root = f"/augcore-test-{os.getpid()}"
    for name in NAMES:
        fs.pipe_file(f"{root}/src/{name}", (data / name).read_bytes())
    fs.pipe_file(f"{root}/src/.hidden/skipped.png", (data / NAMES[0]).read_bytes())
    yield fs, f"memory://{root}"
    fs.rm(root, recursive=True)


def _objects(fs, root: str) -> dict[str, bytes]:
    start = len(root) + 1
    return {path[start:]: fs.cat_file(path) for path in sorted(fs.find(root))}


def test_memory_sources_and_output_round_trip_with_replay(memory, reference, capsys):
    fs, url = memory
    summary = augcore.run([f"{url}/src"], f"{url}/out", per_image=3, seed=7, jobs=2)
    assert summary.written == len(NAMES) * 3
    written = _objects(fs, url.removeprefix("memory://") + "/out")
    manifest = written.pop("manifest.jsonl")
    assert written == {name: data for name, data in reference.items() if name != "manifest.jsonl"}
    # The same entries as the local run but for where the sources are: ``source`` and the
    # header's ``sources`` name the URLs.
    local_lines = reference["manifest.jsonl"].splitlines()
    for ours, local in zip(manifest.splitlines()[1:], local_lines[1:], strict=True):
        ours, local = json.loads(ours), json.loads(local)
        assert ours.pop("source") == f"{url}/src/{ours['key']}"
        local.pop("source")
        assert ours == local

    assert augcore.plan([f"{url}/src"], f"{url}/out", per_image=3, seed=7).state == (
        f"resume: {len(NAMES) * 3} of {len(NAMES) * 3} outputs there"
    )
    assert augcore.replay(f"{url}/out", check=True).ok
    assert augcore.report(f"{url}/out").outputs == len(NAMES) * 3
    victim = f"{url}/out/{NAMES[0][:-4]}__k1.png"
    fs.rm_file(victim.removeprefix("memory://"))
    assert main(["replay", f"{url}/out", "--check"]) == EXIT_MISMATCH
    assert main(["replay", f"{url}/out"]) == EXIT_OK  # writes the missing output back
    assert fs.cat_file(victim.removeprefix("memory://")) == reference[f"{NAMES[0][:-4]}__k1.png"]
    fs.pipe_file(victim.removeprefix("memory://"), b"tampered")
    assert main(["replay", f"{url}/out", "--check"]) == EXIT_MISMATCH
    assert "tampered" in capsys.readouterr().out
    again = augcore.run([f"{url}/src"], f"{url}/out", per_image=3, seed=7)
    assert (again.written, again.already_there) == (0, len(NAMES) * 3)


def test_a_killed_run_on_an_object_store_resumes_from_its_manifest_fragments(memory, monkeypatch):
    fs, url = memory
    root = url.removeprefix("memory://")
    augcore.run([f"{url}/src"], f"{url}/reference", per_image=3, seed=7)
    monkeypatch.setattr(remote, "FRAGMENT_LINES", 40)  # the last lines stay unput
    # Killed outright: the final put of the manifest and the lock's removal never happen.
    monkeypatch.setattr(remote.RemoteManifestWriter, "__exit__", lambda self, *exc: None)
    monkeypatch.setattr(augcore.storage.RemoteFolder, "delete", lambda self, rel: None)
    augcore.run([f"{url}/src"], f"{url}/out", per_image=3, seed=7)
    monkeypatch.undo()
    fragments = [p for p in fs.find(f"{root}/out") if f"/{remote.FRAGMENTS}/" in p]
    recorded = sum(len(fs.cat_file(path).splitlines()) for path in fragments)
    assert fragments and 0 < recorded < len(NAMES) * 3
    fs.rm_file(f"{root}/out/.augcore-lock")  # what the refusal message tells the user to do
    summary = augcore.run([f"{url}/src"], f"{url}/out", per_image=3, seed=7)
    assert (summary.written, summary.already_there) == (len(NAMES) * 3 - recorded, recorded)
    assert _objects(fs, f"{root}/out") == _objects(fs, f"{root}/reference")


def test_a_second_run_into_a_locked_object_store_folder_is_refused(memory):
    fs, url = memory
    fs.pipe_file(url.removeprefix("memory://") + "/out/.augcore-lock", b"host=x pid=1\n")
    with pytest.raises(augcore.OutputConflictError, match="another augcore run holds"):
        augcore.run([f"{url}/src"], f"{url}/out", per_image=1, seed=0)


def test_outputs_on_a_filesystem_without_atomic_puts_are_refused(data):
    with pytest.raises(augcore.StorageError, match="cannot be published atomically"):
        augcore.run([data], "ftp://127.0.0.1/out", per_image=1, seed=0)


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


SCALING = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"


@pytest.mark.parametrize("index", range(len(_python_blocks(SCALING))))
def test_the_scaling_examples_run_as_scripts(index, capsys) -> None:
    """docs/scaling.md's python blocks as a reader runs them, ``__name__ == "__main__"``
    (tests/test_docs.py runs the page as a session, where the guarded cluster example only
    defines ``main``): the first starts a LocalCluster of two worker processes."""
    block = _python_blocks(SCALING)[index]
    exec(compile(block, str(SCALING), "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    assert "byte for byte the same" in printed or "(all match)" in printed


def test_a_cluster_task_syncs_the_files_it_wrote_before_returning_their_lines(
    tmp_path, monkeypatch
):
    import hashlib

    from test_job import default_spec, make_tree

    from augcore.job import dask as dask_executor
    from augcore.job.execute import Task

    data = make_tree(tmp_path / "data", ("a.png", "b.png", "c.png"))
    batch = tuple(
        Task(str(path), path.name, ((0, f"{path.stem}__k0.png"),))
        for path in sorted(data.iterdir())
    )
    out = tmp_path / "out"
    synced = []

    def sync_files(root, paths):  # what is on disk when the task asks for the sync
        digest = {rel: hashlib.sha256((Path(root) / rel).read_bytes()).hexdigest() for rel in paths}
        synced.append((root, digest))

    monkeypatch.setattr(dask_executor, "sync_files", sync_files)
    results = dask_executor.run_durable_batch(default_spec(out), batch)
    lines = [json.loads(line) for result in results for _, line in result.written]
    assert synced == [(str(out), {entry["path"]: entry["sha256"] for entry in lines})]
    assert sorted(synced[0][1]) == ["a__k0.png", "b__k0.png", "c__k0.png"]
