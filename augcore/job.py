"""The augmentation job: exactly K traceable variants of every readable input, written to a folder.

``run`` discovers inputs (augcore.sources), builds the chain, checks the output folder
(new, resumable, or a conflicting earlier run), then streams the inputs through 1..J worker
processes. Workers read, augment, encode and atomically place the files; the parent appends a
manifest line for each file only after it is in place. Because every output is a pure function
of (seed, key, k), the worker count and the order of completion never change a byte.
Rules and exit codes: docs/job.md.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from augcore.errors import (
    InputImageError,
    ManifestError,
    OutputConflictError,
)
from augcore.imageio import (
    OUTPUT_FORMATS,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    encode_image,
    output_suffix,
    probe_image,
    read_image,
    sha256_hex,
    write_atomic,
)
from augcore.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestWriter,
    encode_entry,
    read_manifest,
)
from augcore.sources import (
    BadSource,
    SourceItem,
    check_output_paths,
    discover,
    output_relpath,
    safe_output_path,
)

PathLike = str | os.PathLike[str]
IN_FLIGHT_PER_WORKER = 2
BATCHES_PER_PROCESS = 4  # at least, when there are enough inputs
HELD_BATCHES = 16  # batches in flight or finished and waiting for an older one, at most
MIN_INPUTS_PER_WORKER = 8
BATCH_INPUTS = 16  # inputs per worker call: amortises the pipeline's per-call cost
BATCH_VALUES = 1 << 22  # at most this many input values are augmented at once (bounds memory)


@dataclass(frozen=True)
class SkippedInput:
    """An input that produced no outputs, and why."""

    path: str
    reason: str


@dataclass
class RunSummary:
    """What a run did. ``complete`` is False when inputs were skipped."""

    out: Path
    inputs: int
    per_image: int
    written: int
    already_there: int
    skipped: list[SkippedInput]
    seconds: float

    @property
    def outputs(self) -> int:
        return self.written + self.already_there

    @property
    def manifest(self) -> Path:
        return self.out / MANIFEST_NAME

    @property
    def complete(self) -> bool:
        return not self.skipped

    def line(self) -> str:
        return (
            f"augcore: {self.inputs} inputs x {self.per_image} = {self.outputs} outputs in "
            f"{self.out} ({self.written} written, {self.already_there} already there), "
            f"{len(self.skipped)} skipped, {self.seconds:.2f} s"
        )


@dataclass
class Plan:
    """What ``run`` with the same arguments would do; nothing is written to make it."""

    out: Path
    per_image: int
    inputs: list[SourceItem]
    skipped: list[SkippedInput]
    examples: list[tuple[str, str]]
    outputs: int
    state: str

    def describe(self) -> str:
        lines = [
            f"inputs found: {len(self.inputs) + len(self.skipped)}",
            f"readable inputs: {len(self.inputs)} x {self.per_image} per image = "
            f"{self.outputs} outputs",
            f"output folder: {self.out} ({self.state})",
        ]
        lines += [f"  {source} -> {name}" for source, name in self.examples]
        if len(self.examples) < self.outputs:
            lines.append(f"  ... and {self.outputs - len(self.examples)} more")
        lines += [f"will skip {skip.path}: {skip.reason}" for skip in self.skipped]
        return "\n".join(lines)


@dataclass(frozen=True)
class _JobSpec:
    """Everything a worker needs; hashable so each worker process builds its pipeline once."""

    pipeline: bytes  # pickled: unpickling is ~1000x faster than resolving a config's plugins
    seed: int
    per_image: int
    size: tuple[int, int] | None
    out: str
    max_pixels: int | None


@dataclass(frozen=True)
class _Task:
    """One input and the outputs still to write for it: (k, path inside the output folder).

    The paths are the ones the parent planned and checked to stay inside the folder; the
    worker writes exactly those, never names of its own making.
    """

    path: str
    key: str
    outputs: tuple[tuple[int, str], ...]


@dataclass
class _TaskResult:
    """What a worker did for one task: (output path, manifest line) per file, or an error."""

    task: _Task
    written: list[tuple[str, bytes]] = field(default_factory=list)
    error: str | None = None


def parse_size(size: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"28x28"`` or ``(28, 28)`` -> (width, height); None keeps the input size."""
    if size is None:
        return None
    if isinstance(size, str):
        width, _, height = size.lower().partition("x")
        try:
            parsed = (int(width), int(height))
        except ValueError:
            raise ValueError(f"size {size!r} is not WIDTHxHEIGHT, e.g. 28x28") from None
    else:
        parsed = tuple(int(value) for value in size)
    if len(parsed) != 2 or min(parsed) < 1:
        raise ValueError(f"size {size!r} must be two positive integers WIDTHxHEIGHT")
    return parsed[0], parsed[1]


def _check_options(per_image: int, seed: int, fmt: str, on_error: str, jobs: int | None) -> None:
    if isinstance(per_image, bool) or not isinstance(per_image, int) or per_image < 1:
        raise ValueError(f"per_image must be a positive integer, got {per_image!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    if on_error not in ("stop", "skip"):
        raise ValueError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")


def _build_pipeline(config: Any) -> Any:
    from augcore.pipeline import Pipeline

    if config is None:
        return Pipeline.default()
    return Pipeline.from_config(config)


def _inputs_digest(items: Sequence[SourceItem]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item.key}\0{item.path}\n".encode())
    return digest.hexdigest()


def _header(
    request: _Request,
    chain: dict[str, Any],
    size: tuple[int, int] | None,
    items: Sequence[SourceItem],
) -> dict[str, Any]:
    """The run's identity: two runs are the same run exactly when their headers are equal."""
    from augcore import __version__

    header = {
        "augcore_version": __version__,
        "seed": request.seed,
        "per_image": request.per_image,
        "size": list(size) if size else None,
        "format": request.format,
        "chain": chain,
        "sources": [os.path.abspath(source) for source in request.sources],
        "from_list": None if request.from_list is None else os.path.abspath(request.from_list),
        "samples": request.samples,
        "inputs": len(items),
        "inputs_sha256": _inputs_digest(items),
    }
    return json.loads(json.dumps(header))  # exactly what reading it back will give


def _recorded_paths(manifest: Manifest, out: Path) -> list[str]:
    """The output paths a manifest lists, each checked to be a safe path inside ``out``."""
    paths = [entry.get("path") for entry in manifest.entries]
    for number, path in enumerate(paths, start=2):
        if not isinstance(path, str):
            raise ManifestError(f"{out / MANIFEST_NAME}: line {number} has no output path")
    check_output_paths(out, paths)
    return paths


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


@dataclass
class _FolderState:
    """What is in the output folder: ``resume`` keeps its manifest and the files it records."""

    resume: bool
    description: str
    recorded: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)  # planned, recorded, and on disk: done
    stale_paths: list[str] = field(default_factory=list)


def _inspect_folder(
    out: Path, header: dict[str, Any], planned: Sequence[str], overwrite: bool
) -> _FolderState:
    """Decide between a new run, a resume, and a refusal, without changing anything."""
    manifest_path = out / MANIFEST_NAME
    if manifest_path.exists():
        try:
            manifest = read_manifest(manifest_path)
        except ManifestError as exc:
            if not overwrite:
                raise OutputConflictError(
                    f"{exc}; pass --overwrite (overwrite=True) to replace it, or use another --out"
                ) from None
            return _FolderState(False, "unreadable manifest, will be replaced")
        if manifest.header == header:
            recorded = set(_recorded_paths(manifest, out))
            present = {rel for rel in planned if rel in recorded and (out / rel).exists()}
            description = f"resume: {len(present)} of {len(planned)} outputs there"
            return _FolderState(True, description, recorded, present)
        changed = ", ".join(_differences(manifest.header, header))
        if not overwrite:
            raise OutputConflictError(
                f"{out} holds the output of a different run (differs in: {changed}); "
                "rerun with the same arguments to resume, pass --overwrite (overwrite=True) to "
                "replace that run's files, or choose another --out"
            )
        stale = _recorded_paths(manifest, out)
        return _FolderState(False, f"replacing an earlier run ({changed})", stale_paths=stale)
    clashes = [rel for rel in planned if os.path.exists(os.path.join(out, rel))]
    if clashes and not overwrite:
        raise OutputConflictError(
            f"{out} already has {len(clashes)} of this run's output names but no manifest of it "
            f"(e.g. {clashes[0]}); pass --overwrite (overwrite=True) or choose another --out"
        )
    return _FolderState(False, "new" if not clashes else f"overwriting {len(clashes)} files")


def _clear_for_new_run(out: Path, state: _FolderState) -> None:
    """Remove the previous run's files (only those its manifest lists) and its manifest."""
    for rel in state.stale_paths:
        safe_output_path(out, rel).unlink(missing_ok=True)
    if not state.resume:
        (out / MANIFEST_NAME).unlink(missing_ok=True)


def _sweep_temporaries(out: Path) -> None:
    """Delete temporary files an interrupted run left (never finished outputs)."""
    for leftover in out.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        if leftover.is_file():
            leftover.unlink()


class _Worker:
    """Reads, augments, encodes and writes the outputs of a batch of inputs."""

    def __init__(self, spec: _JobSpec, pipeline: Any = None) -> None:
        self.spec = spec
        self.pipeline = pickle.loads(spec.pipeline) if pipeline is None else pipeline
        self.folders: set[str] = set()  # output folders known to exist

    def __call__(self, batch: Sequence[_Task]) -> list[_TaskResult]:
        """One result per task, in order. Same-shape neighbours are augmented in one call."""
        results = [_TaskResult(task) for task in batch]
        group: list[tuple[_TaskResult, np.ndarray]] = []
        spec = self.spec
        for result in results:
            try:
                image = read_image(result.task.path, size=spec.size, max_pixels=spec.max_pixels)
            except InputImageError as exc:
                result.error = str(exc)
                continue
            if group and (
                group[0][1].shape != image.shape or (len(group) + 1) * image.size > BATCH_VALUES
            ):
                self._augment(group)
                group = []
            group.append((result, image))
        if group:
            self._augment(group)
        return results

    def _augment(self, group: Sequence[tuple[_TaskResult, np.ndarray]]) -> None:
        spec = self.spec
        outputs, records = self.pipeline.augment_batch(
            [image for _, image in group],
            seed=spec.seed,
            keys=[result.task.key for result, _ in group],
            variants=spec.per_image,
        )
        for index, (result, _) in enumerate(group):
            task = result.task
            for k, rel in task.outputs:
                slot = index * spec.per_image + k
                data = encode_image(outputs[slot], os.path.splitext(rel)[1])
                target = os.path.join(spec.out, rel)  # strings: pathlib costs add up here
                folder = os.path.dirname(target)
                if folder not in self.folders:
                    os.makedirs(folder, exist_ok=True)
                    self.folders.add(folder)
                write_atomic(target, data)
                entry = {
                    "path": rel,
                    "source": task.path,
                    "key": task.key,
                    "k": k,
                    "sha256": sha256_hex(data),
                    "record": records[slot].to_dict(),
                }
                result.written.append((rel, encode_entry(entry)))


@functools.lru_cache(maxsize=1)
def _worker_for(spec: _JobSpec) -> _Worker:
    """The worker of this process for ``spec``: built once (pool initializer), then reused."""
    return _Worker(spec)


def _start_worker(spec: _JobSpec) -> None:
    """Pool initializer: build this process's worker, and end the process with its parent.

    Pool workers block on their task queue forever if the parent is killed (SIGKILL gives it
    no chance to shut the pool down), so a watcher thread exits when the parent's sentinel
    closes. A worker killed mid-write leaves only a hidden temporary file, swept on resume.
    """
    _worker_for(spec)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_with, args=(parent.sentinel,), name="augcore-parent-watch", daemon=True
        ).start()


def _exit_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])  # returns when the parent is gone
    os._exit(1)  # no cleanup to run: finished files are in place, unfinished ones are temporary


def _run_batch(spec: _JobSpec, batch: Sequence[_Task]) -> list[_TaskResult]:
    return _worker_for(spec)(batch)


def _fork_is_safe() -> bool:
    """True when this process has no thread a fork could leave holding a lock.

    Forking copies only the calling thread; a lock another thread held stays locked in the
    child. Safe means: no Python thread but this one (a tqdm monitor, a user's thread) and no
    more OS threads than numpy's BLAS pool can account for (BLAS re-creates its pool after a
    fork; a library with its own native threads, such as jax, shows up as more).
    """
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() != 1:
        return False
    try:
        os_threads = len(os.listdir("/proc/self/task"))
    except OSError:
        return False
    return os_threads <= (os.cpu_count() or 1)


class _ModuleRecorder(pickle.Unpickler):
    """Unpickles while noting the module of every class or function the pickle names."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module)
        return super().find_class(module, name)


def _modules_of(pickled: bytes) -> list[str]:
    """The modules unpickling ``pickled`` needs (the chain's transforms, the pipeline...)."""
    recorder = _ModuleRecorder(pickled)
    recorder.load()
    return sorted(recorder.modules)


class _Pool:
    """``processes`` worker processes for one run (none for ``--jobs 1``), started on entry.

    Each process builds its pipeline once from ``spec``. Where fork is safe the processes are
    forked at once (milliseconds). Otherwise a forkserver starts them, which first imports
    augcore (about half a second), so that happens in a helper thread and ``ready()`` tells
    when batches can go to the pool; the parent augments meanwhile.
    """

    def __init__(self, spec: _JobSpec, processes: int) -> None:
        self.spec = spec
        self.processes = processes
        self._ready = threading.Event()
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Pool:
        if not self.processes:
            return self
        fork = _fork_is_safe()
        if fork:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
            if context.get_start_method() == "forkserver":
                # The server imports augcore and the chain's modules once (if it is not running
                # yet); workers forked from it then start without importing them again.
                context.set_forkserver_preload([__name__, *_modules_of(self.spec.pipeline)])
        self._executor = ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=_start_worker, initargs=(self.spec,)
        )
        if fork:
            self._start()  # before this process has any other thread
        else:
            threading.Thread(target=self._start, name="augcore-pool-start", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> None:
        assert self._executor is not None
        try:
            self._executor.submit(int)  # any task: the first submit starts the processes
        finally:
            self._ready.set()

    def ready(self) -> bool:
        return self._ready.is_set()

    def submit(self, batch: Sequence[_Task]) -> Future[list[_TaskResult]]:
        assert self._executor is not None
        return self._executor.submit(_run_batch, self.spec, batch)


def _batches(tasks: Sequence[_Task], jobs: int) -> Iterator[tuple[_Task, ...]]:
    """Consecutive tasks in batches: large enough to amortise per-call costs, small enough
    to give every process several batches, so all finish together (how inputs are batched
    never changes an output)."""
    size = max(1, min(BATCH_INPUTS, math.ceil(len(tasks) / (jobs * BATCHES_PER_PROCESS))))
    for start in range(0, len(tasks), size):
        yield tuple(tasks[start : start + size])


def _done(results: list[_TaskResult]) -> Future[list[_TaskResult]]:
    future: Future[list[_TaskResult]] = Future()
    future.set_result(results)
    return future


def _execute(
    worker: _Worker,
    batches: Iterable[Sequence[_Task]],
    pool: _Pool,
    stopping: Callable[[], bool],
) -> Iterator[list[_TaskResult]]:
    """Results batch by batch in input order, from the pool's processes and this one.

    Each pool process has at most IN_FLIGHT_PER_WORKER batches (one running, the next queued),
    so the last ones are not stuck in one queue while the others idle. While the oldest batch
    is still running elsewhere, this process augments the next one itself. At most
    HELD_BATCHES batches are in flight or finished and waiting for an older one (their results
    are small: paths and lines). Once ``stopping()`` is true no new batch starts; batches
    already running finish and are yielded, so no written file goes unrecorded.
    """
    queued = iter(batches)
    pending: deque[tuple[Future[list[_TaskResult]], bool]] = deque()  # (result, in the pool)
    in_pool = 0  # batches handed to the pool and not yet yielded
    try:
        while True:
            while (
                pool.ready()
                and not stopping()
                and in_pool < IN_FLIGHT_PER_WORKER * pool.processes
                and len(pending) < HELD_BATCHES
            ):
                batch = next(queued, None)
                if batch is None:
                    break
                pending.append((pool.submit(batch), True))
                in_pool += 1
            if (
                not stopping()
                and len(pending) < HELD_BATCHES
                and not (pending and pending[0][0].done())
            ):
                batch = next(queued, None)
                if batch is not None:
                    pending.append((_done(worker(batch)), False))
                    continue
            if not pending:
                return
            future, from_pool = pending.popleft()
            in_pool -= from_pool
            if stopping():
                for waiting, _ in pending:
                    waiting.cancel()  # a no-op for batches running or finished
            if not future.cancelled():
                yield future.result()
    finally:
        for future, _ in pending:
            future.cancel()


@dataclass
class _Prepared:
    """The outcome of the checks both ``run`` and ``plan`` make before writing anything."""

    out: Path
    header: dict[str, Any]
    items: list[SourceItem]
    skipped: list[SkippedInput]
    state: _FolderState
    pipeline: Any
    size: tuple[int, int] | None
    planned: list[str]


@dataclass(frozen=True)
class _Request:
    """The arguments ``run`` and ``plan`` share, exactly as the caller gave them."""

    sources: Sequence[PathLike]
    out: PathLike
    per_image: int
    seed: int
    config: Any
    size: str | Sequence[int] | None
    format: str
    overwrite: bool
    from_list: PathLike | None
    samples: bool
    max_pixels: int | None

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> _Request:
        """The request made by a ``run``/``plan`` call, from that call's ``locals()``."""
        return cls(**{member.name: arguments[member.name] for member in fields(cls)})


def _prepare(request: _Request, *, on_error: str, planning: bool) -> _Prepared:
    out = Path(request.out)
    per_image = request.per_image
    parsed_size = parse_size(request.size)
    discovery = discover(
        request.sources, from_list=request.from_list, samples=request.samples, skip=out
    )
    if not discovery.items and not discovery.bad:
        raise InputImageError(
            "no input images found (give files, folders, --from-list or --samples)"
        )
    bad: list[BadSource] = list(discovery.bad)
    items = discovery.items
    if planning:
        readable = []
        for item in items:
            try:
                probe_image(item.path, max_pixels=request.max_pixels)
                readable.append(item)
            except InputImageError as exc:
                bad.append(BadSource(str(item.path), str(exc)))
        items = readable
    skipped = [SkippedInput(entry.path, entry.reason) for entry in bad]
    if skipped and on_error == "stop" and not planning:
        listing = "\n".join(f"  {entry.path}: {entry.reason}" for entry in skipped)
        raise InputImageError(
            f"{len(skipped)} input(s) cannot be used; nothing was written:\n{listing}\n"
            "fix or remove them, or pass --on-error skip to go on without them"
        )
    pipeline = _build_pipeline(request.config)
    planned = [  # per input, its per_image output names in k order
        output_relpath(item.key, k, output_suffix(item.path.suffix, request.format))
        for item in items
        for k in range(per_image)
    ]
    if out.exists() and not out.is_dir():
        raise OutputConflictError(f"{out} exists and is not a folder; choose another --out")
    check_output_paths(out, planned)
    header = _header(request, pipeline.to_config(), parsed_size, items)
    state = _FolderState(False, "new")
    if out.is_dir():
        try:
            state = _inspect_folder(out, header, planned, request.overwrite)
        except OutputConflictError as exc:
            if not planning:
                raise
            state = _FolderState(False, f"run would be refused: {exc}")
    return _Prepared(out, header, items, skipped, state, pipeline, parsed_size, planned)


def plan(
    sources: Sequence[PathLike] = (),
    out: PathLike = "augmented",
    *,
    per_image: int,
    seed: int,
    config: Any = None,
    size: str | Sequence[int] | None = None,
    format: str = "same",
    overwrite: bool = False,
    from_list: PathLike | None = None,
    samples: bool = False,
    max_pixels: int | None = None,
    examples: int = 5,
) -> Plan:
    """Report what ``run`` with these arguments would write; reads image headers only."""
    _check_options(per_image, seed, format, "skip", None)
    request = _Request.of(locals())
    prepared = _prepare(request, on_error="skip", planning=True)
    shown = [
        (str(prepared.items[index // per_image].path), name)
        for index, name in enumerate(prepared.planned[:examples])
    ]
    return Plan(
        out=prepared.out,
        per_image=per_image,
        inputs=prepared.items,
        skipped=prepared.skipped,
        examples=shown,
        outputs=len(prepared.items) * per_image,
        state=prepared.state.description,
    )


def _pending(prepared: _Prepared, per_image: int) -> tuple[list[_Task], int]:
    """The outputs still to write, per input, and how many are already there (resume)."""
    present = prepared.state.present
    tasks: list[_Task] = []
    already_there = 0
    for index, item in enumerate(prepared.items):
        names = prepared.planned[index * per_image : (index + 1) * per_image]
        missing = tuple((k, name) for k, name in enumerate(names) if name not in present)
        already_there += per_image - len(missing)
        if missing:
            tasks.append(_Task(str(item.path), item.key, missing))
    return tasks, already_there


def run(
    sources: Sequence[PathLike] = (),
    out: PathLike = "augmented",
    *,
    per_image: int,
    seed: int,
    config: Any = None,
    jobs: int | None = None,
    size: str | Sequence[int] | None = None,
    format: str = "same",
    on_error: str = "stop",
    overwrite: bool = False,
    quiet: bool | None = None,
    from_list: PathLike | None = None,
    samples: bool = False,
    max_pixels: int | None = None,
) -> RunSummary:
    """Write exactly ``per_image`` variants of every readable input into ``out``.

    ``config``: a chain config (dict or .toml/.json path); None uses the shipped default.
    ``quiet``: None shows a progress bar only when stderr is a terminal.
    Raises InputImageError (bad input with on_error="stop"), OutputConflictError (the folder
    holds another run), UnsafePathError, ConfigError. See docs/job.md.
    """
    started = time.perf_counter()
    _check_options(per_image, seed, format, on_error, jobs)
    request = _Request.of(locals())
    prepared = _prepare(request, on_error=on_error, planning=False)
    prepared.out.mkdir(parents=True, exist_ok=True)
    with _exclusive(prepared.out):
        # Another run may have finished in this folder since the checks: look again.
        prepared.state = _inspect_folder(prepared.out, prepared.header, prepared.planned, overwrite)
        return _write_outputs(prepared, request, jobs, on_error, quiet, started)


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold an advisory lock on the output folder for a whole run, so two runs never interleave.

    POSIX ``flock`` on the folder itself (no lock file to leave behind); where ``fcntl`` does not
    exist (Windows) runs are not locked.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    descriptor = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputConflictError(
                f"{out}: another augcore run is writing into this folder; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write_outputs(
    prepared: _Prepared,
    request: _Request,
    jobs: int | None,
    on_error: str,
    quiet: bool | None,
    started: float,
) -> RunSummary:
    """The part of ``run`` that writes: clear, sweep, augment in workers, record, summarise."""
    out, per_image = prepared.out, request.per_image
    _clear_for_new_run(out, prepared.state)
    _sweep_temporaries(out)
    recorded = prepared.state.recorded
    spec = _JobSpec(
        pipeline=pickle.dumps(prepared.pipeline),
        seed=request.seed,
        per_image=per_image,
        size=prepared.size,
        out=str(out.resolve()),
        max_pixels=request.max_pixels,
    )
    tasks, already_there = _pending(prepared, per_image)
    skipped = list(prepared.skipped)
    unreadable = 0
    failure: list[str] = []
    written = 0
    show = not quiet if quiet is not None else bool(sys.stderr and sys.stderr.isatty())
    # A worker costs a process start; small runs use fewer (outputs are the same).
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) // MIN_INPUTS_PER_WORKER))
    with (
        _Pool(spec, workers - 1) as pool,  # first: it may fork, before tqdm starts a thread
        ManifestWriter(out / MANIFEST_NAME, prepared.header) as manifest,
        # No tqdm at all unless shown: even a disabled one starts a monitor thread that
        # outlives the run, and a later run in this process could then not fork its workers.
        (
            tqdm(total=sum(len(task.outputs) for task in tasks), unit="img", desc="augcore")
            if show
            else contextlib.nullcontext()
        ) as progress,
    ):
        worker = _Worker(spec, prepared.pipeline)
        for results in _execute(worker, _batches(tasks, workers), pool, lambda: bool(failure)):
            manifest.write_lines(
                [line for result in results for rel, line in result.written if rel not in recorded]
            )
            for result in results:
                written += len(result.written)
                if progress is not None:
                    progress.update(len(result.task.outputs))
                if result.error is not None:
                    skipped.append(SkippedInput(result.task.path, result.error))
                    unreadable += 1
                    if on_error == "stop" and not failure:
                        failure.append(result.error)
    if failure:
        raise InputImageError(
            f"{failure[0]}\nstopped at this input; the {already_there + written} outputs "
            f"written so far are kept and recorded in {out / MANIFEST_NAME}; fix or remove "
            "the input and rerun to resume, or pass --on-error skip"
        )
    return RunSummary(
        out=out,
        inputs=len(prepared.items) - unreadable,
        per_image=per_image,
        written=written,
        already_there=already_there,
        skipped=skipped,
        seconds=time.perf_counter() - started,
    )
