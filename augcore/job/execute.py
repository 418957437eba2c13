"""Running the job's tasks: what a task is, the worker that does one, and executors.

A ``Task`` is one input and the outputs still to write for it. A ``Worker`` reads the input,
augments it and writes those outputs (augcore.job.write), returning one manifest line per file.
An ``Executor`` runs batches of tasks somewhere else (other processes, other machines) and hands
back futures; ``run_in_order`` yields the results batch by batch in input order, augmenting in this
process too while the oldest batch is still running elsewhere.

Rules every executor keeps (so that outputs never depend on where a batch ran):

- a worker is built from a ``JobSpec`` alone and writes exactly the paths its tasks carry;
- running a batch twice (a retry after a lost worker) writes the same bytes again;
- results come back as ``TaskResult``s: the parent alone appends manifest lines.

The local process pool is in augcore.job.local, the Dask executor in augcore.job.dask; another
executor is one more module with the same members (``processes``, ``parent_works``,
``ready``, ``submit`` and the context manager).
"""

from __future__ import annotations

import functools
import math
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from augcore.annotations import ImageLabels
from augcore.errors import (
    AnnotationError,
    AugcoreError,
    CanvasError,
    InputImageError,
    ManifestError,
)
from augcore.imageio import encode_image, pixel_limit, read_image
from augcore.job.labels import LabelSpec, follow_record, read_labels, write_labels
from augcore.job.write import output_entry, output_writer

IN_FLIGHT_PER_WORKER = 2
BATCHES_PER_PROCESS = 4  # at least, when there are enough inputs
BATCH_INPUTS = 64  # inputs per worker call: amortises the pipeline's per-call cost (16: 3x)
HELD_BATCHES = 16  # batches in flight or finished and waiting for an older one, at most
BATCH_VALUES = 1 << 22  # at most this many input values are augmented at once (bounds memory)


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs; hashable so each worker process builds its pipeline once."""

    pipeline: bytes  # pickled: unpickling is ~1000x faster than resolving a config's plugins
    seed: int
    per_image: int
    size: tuple[int, int] | None
    out: str
    max_pixels: int | None
    storage: bytes = b""  # pickled fsspec storage_options for URL sources and outputs
    labels: LabelSpec | None = None  # a labelled run (augcore.job.labels)


@dataclass(frozen=True)
class Task:
    """One input and the outputs still to write for it: (k, path inside the output folder).

    The paths are the ones the parent planned and checked to stay inside the folder; the
    worker writes exactly those, never names of its own making.
    """

    path: str
    key: str
    outputs: tuple[tuple[int, str], ...]
    labels: ImageLabels | None = None  # a COCO run's labels of this input, read by the parent


@dataclass
class TaskResult:
    """What a worker did for one task: (output path, manifest line) per file, or an error."""

    task: Task
    written: list[tuple[str, bytes]] = field(default_factory=list)
    error: str | None = None


class BatchFuture(Protocol):
    """The part of ``concurrent.futures.Future`` that ``run_in_order`` uses (Dask's has it too)."""

    def done(self) -> bool: ...

    def cancel(self) -> bool: ...

    def cancelled(self) -> bool: ...

    def result(self) -> list[TaskResult]: ...


class Executor(Protocol):
    """Runs batches of tasks away from this process; entered for the length of one run.

    ``processes`` is how many batches it runs at once (0: none, this process does all the
    work); ``ready()`` is False while it is still starting (this process works meanwhile).
    ``parent_works`` says whether this process augments batches too (the local pool: yes; a
    cluster, whose client may be a laptop far from the data: no).
    """

    processes: int
    parent_works: bool

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def ready(self) -> bool: ...

    def submit(self, batch: Sequence[Task]) -> BatchFuture: ...


class Worker:
    """Reads, augments, encodes and writes the outputs of a batch of inputs."""

    def __init__(self, spec: JobSpec, pipeline: Any = None) -> None:
        self.spec = spec
        self.pipeline = pickle.loads(spec.pipeline) if pipeline is None else pipeline
        self.storage_options: dict[str, Any] = pickle.loads(spec.storage) if spec.storage else {}
        self.write = output_writer(spec.out, self.storage_options)
        self.labels: dict[str, ImageLabels] = {}  # this batch's labels, by input key

    def __call__(self, batch: Sequence[Task]) -> list[TaskResult]:
        """One result per task, in order. Same-shape neighbours are augmented in one call."""
        results = [TaskResult(task) for task in batch]
        group: list[tuple[TaskResult, np.ndarray]] = []
        spec = self.spec
        for result in results:
            try:
                image = read_image(
                    result.task.path,
                    size=spec.size,
                    max_pixels=spec.max_pixels,
                    storage_options=self.storage_options,
                )
                if spec.labels is not None:  # read and checked before any output is written
                    self.labels[result.task.key] = read_labels(
                        spec.labels,
                        result.task.key,
                        result.task.labels,
                        image.shape,
                        resized=spec.size is not None,
                    )
            except (InputImageError, AnnotationError) as exc:
                result.error = str(exc)
                continue
            values = self._output_values(result, image)
            if values is None:
                continue
            if group and (
                group[0][1].shape != image.shape or (len(group) + 1) * values > BATCH_VALUES
            ):
                self._augment(group)
                group = []
            group.append((result, image))
        if group:
            self._augment(group)
        self.labels.clear()
        return results

    def _output_values(self, result: TaskResult, image: np.ndarray) -> int | None:
        """How many values one output of ``image`` holds (its canvas may differ from the
        input's), or None with the input's error set: a canvas the chain cannot make from it,
        or one over the job's pixel limit (the inputs' limit), is that input's problem."""
        try:
            shape = self.pipeline.output_shape(image.shape)
        except CanvasError as exc:
            result.error = f"{result.task.path}: the chain cannot augment it ({exc})"
            return None
        limit = pixel_limit(self.spec.max_pixels)
        if limit is not None and shape[0] * shape[1] > limit:
            result.error = (
                f"{result.task.path}: the chain would make a {shape[0]}x{shape[1]} output, over "
                f"the pixel limit of {limit} (max_pixels); make the chain's output smaller"
            )
            return None
        return max(image.size, int(np.prod(shape)))

    def _augment(self, group: Sequence[tuple[TaskResult, np.ndarray]]) -> None:
        spec = self.spec
        try:
            outputs, records = self.pipeline.augment_batch(
                [image for _, image in group],
                seed=spec.seed,
                keys=[result.task.key for result, _ in group],
                per_image=spec.per_image,
            )
        except AugcoreError as exc:  # e.g. a chain whose sampled values overflow a matrix
            for result, _ in group:
                result.error = f"{result.task.path}: the chain cannot augment it ({exc})"
            return
        for index, (result, _) in enumerate(group):
            task = result.task
            for k, rel in task.outputs:
                slot = index * spec.per_image + k
                record = records[slot].to_dict()
                annotations = None
                if spec.labels is not None:  # the labels file goes first: no orphaned output
                    moved = follow_record(spec.labels, self.labels[task.key], record)
                    annotations = write_labels(spec.labels, spec.out, rel, moved)
                data = encode_image(outputs[slot], os.path.splitext(rel)[1])
                try:  # the line first: a record JSON cannot hold must not leave an image behind
                    line = output_entry(rel, task.path, task.key, k, data, record, annotations)
                except ManifestError as exc:
                    result.error = (
                        f"{task.path}: output {k}'s record cannot be written to the manifest "
                        f"({exc}); the chain sampled a value JSON cannot hold (inf or NaN): "
                        "narrow the ranges in the config"
                    )
                    break
                self.write(rel, data)
                result.written.append((rel, line))


@functools.lru_cache(maxsize=1)
def worker_for(spec: JobSpec) -> Worker:
    """The worker of this process for ``spec``: built once per process, then reused."""
    return Worker(spec)


def run_batch(spec: JobSpec, batch: Sequence[Task]) -> list[TaskResult]:
    """What an executor runs remotely: this process's worker for ``spec`` on ``batch``."""
    return worker_for(spec)(batch)


def batches(tasks: Sequence[Task], processes: int) -> Iterator[tuple[Task, ...]]:
    """Consecutive tasks in batches: large enough to amortise per-call costs, small enough
    to give every process several batches, so all finish together (how inputs are batched
    never changes an output)."""
    size = max(1, min(BATCH_INPUTS, math.ceil(len(tasks) / (processes * BATCHES_PER_PROCESS))))
    for start in range(0, len(tasks), size):
        yield tuple(tasks[start : start + size])


@dataclass
class Finished:
    """A batch already run: the ``BatchFuture`` of work done in this process.

    (Not a ``concurrent.futures.Future``: importing that module costs a one-process run
    ``logging`` and threading set-up for nothing.)
    """

    results: list[TaskResult]

    def done(self) -> bool:
        return True

    def cancel(self) -> bool:
        return False  # as for a finished Future: too late to cancel

    def cancelled(self) -> bool:
        return False

    def result(self) -> list[TaskResult]:
        return self.results


class ThisProcess:
    """The executor of a one-process run (``--jobs 1``): it has no other process, so
    ``run_in_order`` never hands it a batch; ``submit`` would run one here."""

    processes = 0
    parent_works = True

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec

    def __enter__(self) -> ThisProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def ready(self) -> bool:
        return False

    def submit(self, batch: Sequence[Task]) -> Finished:
        return Finished(run_batch(self.spec, batch))


def run_in_order(
    worker: Worker,
    batches: Iterable[Sequence[Task]],
    executor: Executor,
    stopping: Callable[[], bool],
) -> Iterator[list[TaskResult]]:
    """Results batch by batch in input order, from the executor's processes and this one.

    Each executor process has at most IN_FLIGHT_PER_WORKER batches (one running, the next
    queued), so the last ones are not stuck in one queue while the others idle. While the oldest
    batch is still running elsewhere, this process augments the next one itself. At most
    HELD_BATCHES batches are in flight or finished and waiting for an older one (their results
    are small: paths and lines). Once ``stopping()`` is true no new batch starts; batches
    already running finish and are yielded, so no written file goes unrecorded.
    """
    queued = iter(batches)
    pending: deque[tuple[BatchFuture, bool]] = deque()  # (result, in the executor)
    in_executor = 0  # batches handed to the executor and not yet yielded
    try:
        while True:
            while (
                executor.ready()
                and not stopping()
                and in_executor < IN_FLIGHT_PER_WORKER * executor.processes
                # a cluster larger than HELD_BATCHES / 2 processes still gets two batches each
                and len(pending) < max(HELD_BATCHES, IN_FLIGHT_PER_WORKER * executor.processes)
            ):
                batch = next(queued, None)
                if batch is None:
                    break
                pending.append((executor.submit(batch), True))
                in_executor += 1
            if (
                executor.parent_works
                and not stopping()
                and len(pending) < HELD_BATCHES
                and not (pending and pending[0][0].done())
            ):
                batch = next(queued, None)
                if batch is not None:
                    pending.append((Finished(worker(batch)), False))
                    continue
            if not pending:
                return
            future, from_executor = pending.popleft()
            in_executor -= from_executor
            if stopping():
                for waiting, _ in pending:
                    waiting.cancel()  # a no-op for batches running or finished
            if not future.cancelled():
                yield future.result()
    finally:
        for future, _ in pending:
            future.cancel()
