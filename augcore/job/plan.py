"""Planning a run: from the caller's request to the tasks, their output names and the header.

Nothing here writes. ``prepare`` discovers the inputs (augcore.sources), builds the chain, names
every output, checks the names stay inside the output folder, makes the run's header (its
identity) and inspects the folder (augcore.job.folder); ``pending`` then turns what is not
done yet into tasks. ``run`` and ``plan`` both start here, so a plan describes exactly what the
run with the same arguments would do.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from augcore.errors import AnnotationError, InputImageError, JobOptionError, OutputConflictError
from augcore.imageio import OUTPUT_FORMATS, output_suffix, probe_image
from augcore.job.execute import Task
from augcore.job.folder import FolderState, inspect_folder
from augcore.job.labels import LabelPlan, labels_header, plan_labels
from augcore.sources import BadSource, SourceItem, check_output_paths, discover, output_relpath
from augcore.validation import is_integer

PathLike = str | os.PathLike[str]
ON_ERROR = ("stop", "skip")


@dataclass(frozen=True)
class SkippedInput:
    """An input that produced no outputs, and why."""

    path: str
    reason: str


def parse_size(size: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"28x28"`` or ``(28, 28)`` -> (width, height); None keeps the input size.

    Raises:
        JobOptionError: not two positive integers.
    """
    if size is None:
        return None
    if isinstance(size, str):
        width, _, height = size.lower().partition("x")
        try:
            parsed = (int(width), int(height))
        except ValueError:
            raise JobOptionError(f"size {size!r} is not WIDTHxHEIGHT, e.g. 28x28") from None
    else:
        try:
            parsed = tuple(int(value) for value in size)
        except (TypeError, ValueError):
            raise JobOptionError(f"size {size!r} must be two positive integers") from None
    if len(parsed) != 2 or min(parsed) < 1:
        raise JobOptionError(f"size {size!r} must be two positive integers WIDTHxHEIGHT")
    return parsed[0], parsed[1]


def check_job_options(
    per_image: object, seed: object, fmt: object, on_error: object, jobs: object
) -> None:
    """Refuse bad job options before anything is read or written.

    Raises:
        JobOptionError: naming the option, what it got and what is allowed.
    """
    if not is_integer(per_image) or per_image < 1:  # type: ignore[operator]
        raise JobOptionError(f"per_image must be a positive integer, got {per_image!r}")
    if not is_integer(seed) or seed < 0:  # type: ignore[operator]
        raise JobOptionError(f"seed must be a non-negative integer, got {seed!r}")
    if fmt not in OUTPUT_FORMATS:
        raise JobOptionError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    if on_error not in ON_ERROR:
        raise JobOptionError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    if jobs is not None and (not is_integer(jobs) or jobs < 1):  # type: ignore[operator]
        raise JobOptionError(f"jobs must be a positive integer, got {jobs!r}")


@dataclass(frozen=True)
class Request:
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
    annotations: PathLike | None = None
    annotation_format: str | None = None

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> Request:
        """The request made by a ``run``/``plan`` call, from that call's ``locals()``."""
        return cls(**{m.name: arguments[m.name] for m in fields(cls) if m.name in arguments})


@dataclass
class Prepared:
    """The outcome of the checks both ``run`` and ``plan`` make before writing anything."""

    out: Path
    header: dict[str, Any]
    items: list[SourceItem]
    skipped: list[SkippedInput]
    state: FolderState
    pipeline: Any
    size: tuple[int, int] | None
    planned: list[str]  # per input, its per_image output names in k order
    labels: LabelPlan | None = None


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


def run_header(
    request: Request,
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


def prepare(request: Request, *, on_error: str, planning: bool) -> Prepared:
    """Every check ``run`` makes before writing; ``planning`` also reads each input's header."""
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
    planned = [
        output_relpath(item.key, k, output_suffix(item.path.suffix, request.format))
        for item in items
        for k in range(per_image)
    ]
    if out.exists() and not out.is_dir():
        raise OutputConflictError(f"{out} exists and is not a folder; choose another --out")
    check_output_paths(out, planned)
    header = run_header(request, pipeline.to_config(), parsed_size, items)
    labels = None
    if request.annotations is not None and request.annotation_format is not None:
        keys = [item.key for item in items]
        labels = plan_labels(request.annotations, request.annotation_format, keys, pipeline.targets)
        header["annotations"] = labels_header(request.annotations, request.annotation_format)
        items, planned = _refuse_unlabelled(labels, items, planned, per_image, skipped, on_error)
    state = FolderState(False, "new")
    if out.is_dir():
        try:
            state = inspect_folder(out, header, planned, request.overwrite)
        except OutputConflictError as exc:
            if not planning:
                raise
            state = FolderState(False, f"run would be refused: {exc}")
    return Prepared(out, header, items, skipped, state, pipeline, parsed_size, planned, labels)


def _refuse_unlabelled(
    labels: LabelPlan,
    items: list[SourceItem],
    planned: list[str],
    per_image: int,
    skipped: list[SkippedInput],
    on_error: str,
) -> tuple[list[SourceItem], list[str]]:
    """Inputs whose annotations are broken, and annotations naming no input: refused before
    anything is written, or (``on_error="skip"``) skipped and listed."""
    if labels.problems and on_error == "stop":
        listing = "\n".join(f"  {problem.message}" for problem in labels.problems)
        raise AnnotationError(
            f"{len(labels.problems)} annotation problem(s); nothing was written:\n{listing}\n"
            "fix the annotations, or pass --on-error skip to go on without those images"
        )
    bad = {problem.key for problem in labels.problems if problem.key is not None}
    for problem in labels.problems:
        skipped.append(SkippedInput(problem.key or labels.spec.path, problem.message))
    keep = [index for index, item in enumerate(items) if item.key not in bad]
    names = [planned[i * per_image + k] for i in keep for k in range(per_image)]
    return [items[i] for i in keep], names


def pending(prepared: Prepared, per_image: int) -> tuple[list[Task], int]:
    """The outputs still to write, per input, and how many are already there (resume)."""
    present = prepared.state.present
    tasks: list[Task] = []
    already_there = 0
    for index, item in enumerate(prepared.items):
        names = prepared.planned[index * per_image : (index + 1) * per_image]
        missing = tuple((k, name) for k, name in enumerate(names) if name not in present)
        already_there += per_image - len(missing)
        if missing:
            given = None if prepared.labels is None else prepared.labels.by_key.get(item.key)
            tasks.append(Task(str(item.path), item.key, missing, given))
    return tasks, already_there
