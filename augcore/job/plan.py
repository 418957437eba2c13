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

import numpy as np

from augcore.errors import (
    AnnotationError,
    AugcoreError,
    ConfigError,
    InputImageError,
    MatrixError,
    OutputConflictError,
    PluginContractError,
)
from augcore.imageio import OUTPUT_FORMATS, output_suffix, probe_image
from augcore.job.execute import Task
from augcore.job.folder import FolderState, inspect_folder
from augcore.job.labels import LabelPlan, labels_header, plan_labels
from augcore.job.options import PathLike, parse_size
from augcore.job.remote import inspect_remote
from augcore.safefile import NAME_MAX, name_fits
from augcore.sources import (
    BadSource,
    SourceItem,
    check_output_paths,
    check_relative_paths,
    discover,
    output_relpath,
)
from augcore.storage import RemoteFolder, is_url, local_path
from augcore.validation import is_integer


@dataclass(frozen=True)
class SkippedInput:
    """An input that produced no outputs, and why."""

    path: str
    reason: str


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
    storage_options: dict[str, Any] | None = None

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> Request:
        """The request made by a ``run``/``plan`` call, from that call's ``locals()``."""
        return cls(**{m.name: arguments[m.name] for m in fields(cls) if m.name in arguments})


@dataclass
class Prepared:
    """The outcome of the checks both ``run`` and ``plan`` make before writing anything."""

    out: Path | RemoteFolder  # a local folder, or one on an object store (augcore.storage)
    header: dict[str, Any]
    items: list[SourceItem]
    skipped: list[SkippedInput]
    state: FolderState
    pipeline: Any
    size: tuple[int, int] | None
    planned: list[str]  # per input, its per_image output names in k order
    notes: list[str]  # what the user should know that is not an error
    labels: LabelPlan | None = None


TRIAL_VARIANTS = 16


def _build_pipeline(config: Any) -> Any:
    """The run's pipeline, tried on a small image first: a chain whose sampled values overflow
    (a matrix of inf, a record JSON cannot hold) is refused before anything is written."""
    from augcore.pipeline import Pipeline

    if config is None:
        return Pipeline.default()
    pipeline = Pipeline.from_config(config)
    trial = np.zeros((32, 32, 3), np.uint8)
    try:
        _, records = pipeline.augment_batch([trial], seed=0, per_image=TRIAL_VARIANTS)
        for record in records:
            json.dumps(record.to_dict(), allow_nan=False)
    except (MatrixError, PluginContractError) as exc:  # a matrix of inf or NaN
        problem = str(exc)
    except AugcoreError:  # e.g. a crop larger than the trial image: the inputs decide
        return pipeline
    except ValueError as exc:  # json: a sampled value is inf or NaN
        problem = str(exc)
    else:
        return pipeline
    raise ConfigError(f"config: the chain's sampled values overflow ({problem}); narrow its ranges")


def _inputs_digest(items: Sequence[SourceItem]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item.key}\0{item.path}\n".encode())
    return digest.hexdigest()


def _source_name(source: PathLike) -> str:
    """How the header names a source: a URL as given, a local path absolute (``file://``
    URLs too, so a run resumes whichever way its local folder was named)."""
    source = local_path(source)
    return str(source) if is_url(source) else os.path.abspath(source)


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
        "sources": [_source_name(source) for source in request.sources],
        "from_list": None if request.from_list is None else os.path.abspath(request.from_list),
        "samples": request.samples,
        "inputs": len(items),
        "inputs_sha256": _inputs_digest(items),
    }
    return json.loads(json.dumps(header))  # exactly what reading it back will give


def _where_out_is(out: Path | RemoteFolder, sources: Sequence[PathLike]) -> list[str]:
    """Notes on an output folder inside a source (or a source inside it); an fsspec URL
    ``out`` is left out of the listing of URL sources by ``discover`` instead.

    Raises:
        OutputConflictError: ``out`` is a source folder itself.
    """
    if isinstance(out, RemoteFolder):
        return []
    real_out = Path(os.path.realpath(out))
    notes = []
    for source in sources:
        real = Path(os.path.realpath(source))
        if not real.is_dir():
            continue
        if real == real_out:
            raise OutputConflictError(
                f"--out {out} is the source folder {source} itself: outputs would be mixed "
                "with the inputs; choose another --out (e.g. a sibling folder)"
            )
        if real_out.is_relative_to(real):
            notes.append(
                f"--out {out} is inside the source folder {source}; it is not read as input"
            )
        elif real.is_relative_to(real_out):
            notes.append(f"the source folder {source} is inside --out {out}")
    return notes


def _name_limit(out: Path | RemoteFolder) -> int:
    """The longest file name (bytes) the file system of ``out`` (or its nearest parent) takes
    (for an object store, the same as a typical local one: names do not depend on the store)."""
    if isinstance(out, RemoteFolder):
        return NAME_MAX
    folder = out
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        return min(NAME_MAX, os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def _too_long(names: Sequence[str], limit: int) -> str | None:
    """Why one of an input's output names cannot be created, or None."""
    for name in names:
        last = name.rsplit("/", 1)[-1]
        if not name_fits(last, limit):
            return (
                f"its output name {last!r} would be {len(os.fsencode(last))} bytes, more than "
                f"the {limit} a file name may have here; rename the input to a shorter name"
            )
    return None


def prepare(request: Request, *, on_error: str, planning: bool, verify: bool = False) -> Prepared:
    """Every check ``run`` makes before writing; ``planning`` also reads each input's header."""
    out_name = local_path(request.out)
    out: Path | RemoteFolder = (
        RemoteFolder(out_name, request.storage_options) if is_url(out_name) else Path(out_name)
    )
    per_image = request.per_image
    parsed_size = parse_size(request.size, request.max_pixels)
    notes = _where_out_is(out, request.sources)
    discovery = discover(
        request.sources,
        from_list=request.from_list,
        samples=request.samples,
        skip=str(out) if isinstance(out, RemoteFolder) else out,
        storage_options=request.storage_options,
    )
    if not discovery.items and not discovery.bad:
        raise InputImageError(
            "no input images found (give files, folders, --from-list or --samples)"
        )
    bad: list[BadSource] = list(discovery.bad)
    items: list[SourceItem] = []
    planned: list[str] = []
    limit = _name_limit(out)
    for item in discovery.items:
        suffix = output_suffix(item.path.suffix, request.format)
        names = [output_relpath(item.key, k, suffix) for k in range(per_image)]
        reason = _too_long(names, limit)
        if reason is None and planning:
            try:
                probe_image(
                    item.path,
                    max_pixels=request.max_pixels,
                    storage_options=request.storage_options,
                )
            except InputImageError as exc:
                reason = str(exc)
        if reason is None:
            items.append(item)
            planned += names
        else:
            bad.append(BadSource(str(item.path), reason))
    skipped = [SkippedInput(entry.path, entry.reason) for entry in bad]
    if skipped and on_error == "stop" and not planning:
        listing = "\n".join(f"  {entry.path}: {entry.reason}" for entry in skipped)
        raise InputImageError(
            f"{len(skipped)} input(s) cannot be used; nothing was written:\n{listing}\n"
            "fix or remove them, or pass --on-error skip to go on without them"
        )
    pipeline = _build_pipeline(request.config)
    if isinstance(out, RemoteFolder):
        check_relative_paths(out.url, planned)
    else:
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
            state = inspect_out(out, header, planned, request.overwrite, verify)
        except OutputConflictError as exc:
            if not planning:
                raise
            state = FolderState(False, f"run would be refused: {exc}")
    return Prepared(
        out, header, items, skipped, state, pipeline, parsed_size, planned, notes, labels
    )


def inspect_out(
    out: Path | RemoteFolder,
    header: dict[str, Any],
    planned: Sequence[str],
    overwrite: bool,
    verify: bool,
) -> FolderState:
    """What ``out`` holds: new, a resume or refused (augcore.job.folder.decide); ``verify``
    checks recorded outputs' sha256 in a local folder (an object store's puts are whole)."""
    if isinstance(out, RemoteFolder):
        return inspect_remote(out, header, planned, overwrite)
    return inspect_folder(out, header, planned, overwrite, verify)


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


def planned_by(
    header: dict[str, Any],
    out: Path | RemoteFolder,
    storage_options: dict[str, Any] | None = None,
) -> tuple[dict[str, str] | None, str]:
    """What the run a manifest header describes had to write: {output path: source path}.

    The header's sources are discovered again, by the rules the run used; the result is trusted
    only when it gives the run's input digest (``inputs_sha256``). Otherwise, or when the header
    lacks what discovery needs, returns None and the reason.
    """
    try:
        per_image, fmt = header["per_image"], header["format"]
        sources, from_list = header["sources"], header["from_list"]
        if not (is_integer(per_image) and fmt in OUTPUT_FORMATS and isinstance(sources, list)):
            raise TypeError("malformed")
        samples = bool(header["samples"])
        discovery = discover(
            sources,
            from_list=from_list,
            samples=samples,
            skip=str(out) if isinstance(out, RemoteFolder) else out,
            storage_options=storage_options,
        )
    except (KeyError, TypeError, InputImageError) as exc:
        return None, f"the header does not say which inputs the run had ({exc})"
    limit = _name_limit(out)
    planned: dict[str, str] = {}
    items = []
    for item in discovery.items:
        suffix = output_suffix(item.path.suffix, fmt)
        names = [output_relpath(item.key, k, suffix) for k in range(per_image)]
        if _too_long(names, limit) is None:
            items.append(item)
            planned.update(dict.fromkeys(names, str(item.path)))
    if _inputs_digest(items) != header.get("inputs_sha256"):
        return None, (
            "the inputs found at the header's sources now differ from the run's "
            "(inputs_sha256), so which outputs the run planned cannot be known"
        )
    return planned, ""
