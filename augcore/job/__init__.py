"""The augmentation job: exactly K traceable variants of every readable input, written to a folder.

A run goes through three stages, one module each:

- planning (augcore.job.plan, augcore.job.folder): discover the inputs, name every output,
  make the run's header and decide whether the output folder is new, a resume or refused;
- execution (augcore.job.execute, augcore.job.local): tasks in batches, run by workers in
  this process and in an executor's processes;
- writing (augcore.job.write, augcore.manifest): each output placed atomically by its
  worker, then its manifest line appended by this process, in input order.

Because every output is a pure function of (seed, key, k), the worker count, the executor and
the order of completion never change a byte. Rules and exit codes: docs/job.md.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcore.errors import ExecutorError, InputImageError, WorkerLostError
from augcore.job.dask import DaskExecutor, dask_client, default_workers
from augcore.job.execute import Executor, JobSpec, ThisProcess, Worker, batches, run_in_order
from augcore.job.folder import clear_for_new_run, exclusive, sweep_temporaries
from augcore.job.labels import check_label_options, write_coco
from augcore.job.options import (
    PathLike,
    as_sources,
    check_executor,
    check_job_options,
    in_process_only,
    parse_size,
)
from augcore.job.plan import Prepared, Request, SkippedInput, inspect_out, pending, prepare
from augcore.job.remote import RemoteManifestWriter, clear_remote
from augcore.job.write import Recorder
from augcore.manifest import MANIFEST_NAME, ManifestWriter, read_manifest
from augcore.safefile import fault_point
from augcore.sources import SourceItem
from augcore.storage import RemoteFolder

__all__ = ["Plan", "RunSummary", "SkippedInput", "parse_size", "plan", "run"]

MIN_INPUTS_PER_WORKER = 8


@dataclass
class RunSummary:
    """What a run did. ``complete`` is False when inputs were skipped. ``out`` is the output
    folder's ``Path``, or its URL for an fsspec output."""

    out: Path | str
    inputs: int
    per_image: int
    written: int
    already_there: int
    skipped: list[SkippedInput]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def outputs(self) -> int:
        return self.written + self.already_there

    @property
    def manifest(self) -> Path | str:
        if isinstance(self.out, str):
            return f"{self.out}/{MANIFEST_NAME}"
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

    out: Path | str
    per_image: int
    inputs: list[SourceItem]
    skipped: list[SkippedInput]
    examples: list[tuple[str, str]]
    outputs: int
    state: str
    notes: list[str] = field(default_factory=list)

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
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _location(out: Path | RemoteFolder) -> Path | str:
    return out.url if isinstance(out, RemoteFolder) else out


def plan(
    sources: PathLike | Sequence[PathLike] = (),
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
    storage_options: dict[str, Any] | None = None,
    examples: int = 5,
    annotations: PathLike | None = None,
    annotation_format: str | None = None,
) -> Plan:
    """Report what ``run`` with these arguments would write, without writing anything.

    Every input's image header is read (not its pixels), so unreadable, unsupported and
    oversized inputs are listed up front; only truncation waits for decoding.

    Args:
        sources, out, per_image, seed, config, size, format, overwrite, from_list, samples,
            max_pixels, storage_options, annotations, annotation_format: as for ``run``.
        examples: how many (source, output name) pairs to show.

    Returns:
        A ``Plan``: the readable inputs, the inputs that would be skipped and why, example
        names, the number of outputs, and the state of ``out`` (new, resume: N of M there, or
        "run would be refused: ..." with the reason).

    Raises:
        JobOptionError: a bad option value (``per_image``, ``seed``, ``format``, ``size``).
        InputImageError: no inputs at all, or an unreadable list file.
        UnsafePathError: an output would land outside ``out``.
        ConfigError: the chain config is invalid.

    Example:
        >>> p = augcore.plan(["photos/"], "augmented", per_image=3, seed=0)  # doctest: +SKIP
        >>> print(p.describe())  # doctest: +SKIP
    """
    check_job_options(per_image, seed, format, "skip", None, max_pixels)
    check_label_options(annotations, annotation_format)
    sources = as_sources(sources)
    request = Request.of(locals())
    prepared = prepare(request, on_error="skip", planning=True)
    shown = [
        (str(prepared.items[index // per_image].path), name)
        for index, name in enumerate(prepared.planned[:examples])
    ]
    return Plan(
        out=_location(prepared.out),
        per_image=per_image,
        inputs=prepared.items,
        skipped=prepared.skipped,
        examples=shown,
        outputs=len(prepared.items) * per_image,
        state=prepared.state.description,
        notes=prepared.notes,
    )


def run(
    sources: PathLike | Sequence[PathLike] = (),
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
    annotations: PathLike | None = None,
    annotation_format: str | None = None,
    verify: bool = False,
    executor: str = "local",
    scheduler: Any = None,
    storage_options: dict[str, Any] | None = None,
) -> RunSummary:
    """Write exactly ``per_image`` variants of every readable input into ``out``.

    Output ``k`` of the input with key ``cats/x.png`` is ``out/cats/x__k{k}.png``, a pure
    function of (seed, key, k); ``out/manifest.jsonl`` records each one. Rerunning the same
    call resumes (or does nothing when the run is complete).

    Args:
        sources: image files and folders (walked recursively); a single str or path is one
            source.
        out: the output folder; created if missing.
        per_image: variants written per input (K >= 1).
        seed: the run seed (>= 0).
        config: a chain config (dict, or a .toml/.json path); None uses the shipped default.
        jobs: processes to use (default: the CPU count); outputs are the same for any value.
        size: ``"WxH"`` or (width, height) to resize inputs to before augmenting.
        format: "same" (each input's own format), "png", "jpg", "tif" or "webp".
        on_error: "stop" at the first bad input, or "skip" it and list it in the summary.
        overwrite: replace an earlier, different run's files in ``out`` instead of refusing.
        quiet: None shows a progress bar only when stderr is a terminal.
        from_list: a text file naming one input a line.
        samples: include the sample images shipped with augcore.
        max_pixels: refuse inputs (and a ``size``) above this many pixels (default: Pillow's
            limit).
        annotations, annotation_format: a labelled run: the COCO file, or the folder of YOLO
            ``.txt`` or VOC ``.xml`` files, whose labels are moved with every output and
            written in the same format (docs/targets.md).
        verify: on a resume, also check each recorded output's sha256 (not only that it is a
            non-empty file) and write again any that differs.
        executor: "local" (processes on this machine) or "dask" (a Dask distributed cluster;
            ``pip install "augcore[dask]"``); outputs and manifest are the same either way.
        scheduler: with "dask": a scheduler address (``"tcp://host:8786"``) or a
            ``distributed.Client``; None starts a local cluster of ``jobs`` processes.
        storage_options: fsspec options (credentials, endpoint...) for URL sources and ``out``.

    Returns:
        A ``RunSummary``: inputs, outputs written and already there, skipped inputs, seconds.

    Raises:
        JobOptionError: a bad option value, before anything is read.
        InputImageError: a bad input with ``on_error="stop"`` (outputs written so far are kept
            and recorded), no inputs at all, or an unreadable list file.
        OutputConflictError: ``out`` holds another run, files in the way, is in use, or is a
            source folder itself.
        WorkerLostError: a worker process died (e.g. killed when memory ran out); what was
            written is recorded and the same call resumes.
        UnsafePathError: an output would land outside ``out``.
        ConfigError: the chain config is invalid.
        ExecutorError: Dask is not installed, or a batch kept killing its workers.
        SchedulerUnreachableError: the scheduler cannot be reached (nothing is written).
        StorageError: a URL's filesystem is missing, unknown, or has no atomic puts.

    Example:
        >>> summary = augcore.run(["photos/"], "augmented", per_image=3, seed=0)  # doctest: +SKIP
        >>> print(summary.line())  # doctest: +SKIP

    See docs/job.md.
    """
    started = time.perf_counter()
    check_job_options(per_image, seed, format, on_error, jobs, max_pixels)
    sources = as_sources(sources)
    check_executor(executor, scheduler, out, sources, annotations)
    check_label_options(annotations, annotation_format)
    request = Request.of(locals())
    prepared = prepare(request, on_error=on_error, planning=False, verify=verify)
    folder = prepared.out
    with contextlib.ExitStack() as stack:
        # The cluster first: a scheduler that cannot be reached leaves nothing written.
        client = None
        if executor == "dask":
            client = stack.enter_context(dask_client(scheduler, default_workers(jobs)))
        if isinstance(folder, RemoteFolder):
            stack.enter_context(folder.lock())
        else:
            fault_point("mkdir")
            folder.mkdir(parents=True, exist_ok=True)
            stack.enter_context(exclusive(folder))
        # Another run may have finished in this folder since the checks: look again.
        prepared.state = inspect_out(
            folder, prepared.header, prepared.planned, overwrite, verify
        )
        return _write_outputs(prepared, request, jobs, on_error, quiet, started, client)


def _write_outputs(
    prepared: Prepared,
    request: Request,
    jobs: int | None,
    on_error: str,
    quiet: bool | None,
    started: float,
    client: Any,
) -> RunSummary:
    """The part of ``run`` that writes: clear, sweep, augment in workers, record, summarise.

    ``client`` is the Dask client of an ``executor="dask"`` run, else None (the local pool).
    """
    out, per_image = prepared.out, request.per_image
    if isinstance(out, RemoteFolder):
        clear_remote(out, prepared.state)  # an object store has no temporaries to sweep
        manifest_writer: Any = RemoteManifestWriter(out, prepared.header)
        out_name = out.url
    else:
        clear_for_new_run(out, prepared.state)
        sweep_temporaries(out)
        # The header is placed, not synced: the Recorder's first sync makes it durable.
        manifest_writer = ManifestWriter(out / MANIFEST_NAME, prepared.header, sync_header=False)
        out_name = str(out.resolve())
    recorded = prepared.state.recorded
    storage = request.storage_options
    spec = JobSpec(
        pipeline=pickle.dumps(prepared.pipeline),
        seed=request.seed,
        per_image=per_image,
        size=prepared.size,
        out=out_name,
        max_pixels=request.max_pixels,
        storage=pickle.dumps(storage) if storage else b"",
        labels=None if prepared.labels is None else prepared.labels.spec,
    )
    tasks, already_there = pending(prepared, per_image)
    skipped = list(prepared.skipped)
    unreadable = 0
    failure: list[str] = []
    written = 0
    show = not quiet if quiet is not None else bool(sys.stderr and sys.stderr.isatty())
    # A worker costs a process start; small runs use fewer (outputs are the same).
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) // MIN_INPUTS_PER_WORKER))
    if in_process_only(request.out, request.sources):
        workers = 1
    executor: Executor = (
        _executor(spec, workers - 1) if client is None else DaskExecutor(client, spec)
    )
    with (
        executor as pool,  # first: it may fork, before tqdm starts a thread
        manifest_writer as manifest,
        # No tqdm at all unless shown: even a disabled one starts a monitor thread that
        # outlives the run, and a later run in this process could then not fork its workers.
        _progress(sum(len(task.outputs) for task in tasks), show) as progress,
    ):
        worker = Worker(spec, prepared.pipeline)
        # An object store's put is durable when it returns; a cluster's workers sync their
        # own files (augcore.job.dask); this process syncs what it and its pool wrote.
        recorder = Recorder(
            spec.out, manifest, local=isinstance(out, Path), files_synced=client is not None
        )
        processes = workers if client is None else pool.processes
        try:
            for results in run_in_order(
                worker, batches(tasks, processes), pool, lambda: bool(failure)
            ):
                for result in results:
                    recorder.add(result.written, recorded)
                    written += len(result.written)
                    if progress is not None:
                        progress.update(len(result.task.outputs))
                    if result.error is not None:
                        skipped.append(SkippedInput(result.task.path, result.error))
                        unreadable += 1
                        if on_error == "stop" and not failure:
                            failure.append(result.error)
        except (WorkerLostError, ExecutorError) as exc:
            recorder.flush()  # what finished is recorded, so the rerun resumes after it
            if isinstance(exc, ExecutorError):
                raise
            raise WorkerLostError(
                f"a worker process died while augmenting (killed by the system, e.g. when "
                f"memory ran out, or by a signal); the {already_there + written} outputs "
                f"finished so far are kept and recorded in {manifest_writer.path}; rerun the "
                "same command to resume (with fewer --jobs or a smaller --size if memory ran "
                "out)"
            ) from None
        recorder.flush()
    if client is not None and isinstance(out, Path):
        sweep_temporaries(out)  # what workers lost mid-write left (their batches were rerun)
    if failure:
        raise InputImageError(
            f"{failure[0]}\nstopped at this input; the {already_there + written} outputs "
            f"written so far are kept and recorded in {manifest_writer.path}; fix or remove "
            "the input and rerun to resume, or pass --on-error skip"
        )
    labels = prepared.labels
    if labels is not None and labels.coco is not None:
        write_coco(out, labels.coco, read_manifest(out / MANIFEST_NAME))
    return RunSummary(
        out=_location(out),
        inputs=len(prepared.items) - unreadable,
        per_image=per_image,
        written=written,
        already_there=already_there,
        skipped=skipped,
        seconds=time.perf_counter() - started,
        notes=prepared.notes,
    )


def _executor(spec: JobSpec, processes: int) -> Executor:
    """Worker processes for the run; none (and no multiprocessing import) for one process."""
    if not processes:
        return ThisProcess(spec)
    from augcore.job.local import LocalPool

    return LocalPool(spec, processes)


def _progress(total: int, show: bool) -> Any:
    """A progress bar over ``total`` outputs, or None (tqdm imported only when one is shown)."""
    if not show:
        return contextlib.nullcontext()
    from tqdm import tqdm

    return tqdm(total=total, unit="img", desc="augcore")
