"""Answering "what did augmentation do to my data?" from a run's manifest, and proving it.

``report`` summarises the recorded steps: how many outputs each transform touched and the
range and mean of every numeric parameter it drew. ``replay`` regenerates every output from the
source and its record alone (``Pipeline.apply_record``: the recorded parameters, no sampling)
and compares the bytes with both the recorded checksum and the file on disk; it also samples
(seed, key, k) afresh with the header's chain and checks that the record is exactly what that
gives, so a record edited together with its file and checksum is still caught.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augcore.errors import InputImageError, ManifestError
from augcore.imageio import encode_image, file_sha256, read_image, sha256_hex
from augcore.manifest import MANIFEST_NAME, Manifest, read_manifest
from augcore.safefile import write_atomic
from augcore.sources import safe_output_path
from augcore.storage import RemoteFolder, is_url, local_path
from augcore.validation import is_integer, is_number

if TYPE_CHECKING:
    from augcore.pipeline import Pipeline


@dataclass
class ParamStats:
    """The values one parameter of one transform took across the outputs it touched."""

    count: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf
    total: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    def add(self, value: float) -> None:
        self.count += 1
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.total += value


@dataclass
class TransformStats:
    name: str
    outputs: int = 0
    params: dict[str, ParamStats] = field(default_factory=lambda: defaultdict(ParamStats))


@dataclass
class Report:
    """Per-transform counts and parameter statistics over every output of a run."""

    out: Path | str
    outputs: int
    transforms: list[TransformStats]
    damaged: list[str] = field(default_factory=list)
    """Manifest lines that could not be counted ("line N: why")."""

    def table(self) -> str:
        width = max([len(stats.name) for stats in self.transforms] + [9])
        lines = [
            f"{self.outputs} outputs in {self.out}",
            f"{'transform':<{width}}  {'outputs':>15}  {'parameter':<12} "
            f"{'min':>10} {'mean':>10} {'max':>10}",
        ]
        for stats in self.transforms:
            share = 100.0 * stats.outputs / self.outputs if self.outputs else 0.0
            touched = f"{stats.outputs} ({share:.1f}%)"
            rows = sorted(stats.params.items()) or [("-", None)]
            for index, (name, values) in enumerate(rows):
                lead = f"{stats.name:<{width}}  {touched:>15}" if index == 0 else " " * (width + 17)
                numbers = (
                    f"{values.minimum:>10.4g} {values.mean:>10.4g} {values.maximum:>10.4g}"
                    if values is not None
                    else ""
                )
                lines.append(f"{lead}  {name:<12} {numbers}".rstrip())
        if self.damaged:
            lines.append(f"{len(self.damaged)} damaged manifest line(s) not counted:")
            lines += [f"  {problem}" for problem in self.damaged]
        return "\n".join(lines)


def _count(entry: dict[str, Any], by_name: dict[str, TransformStats]) -> None:
    """Add one entry's steps to the statistics; ManifestError if its record is malformed."""
    steps = _record_of(entry)["steps"]
    if not all(
        isinstance(step, dict)
        and isinstance(step.get("name"), str)
        and isinstance(step.get("params", {}), dict)
        for step in steps
    ):
        raise ManifestError("a step of its record is not {name, params}")
    seen_here = set()
    for step in steps:
        stats = by_name.setdefault(step["name"], TransformStats(step["name"]))
        if step["name"] not in seen_here:
            stats.outputs += 1
            seen_here.add(step["name"])
        for param, value in step.get("params", {}).items():
            number = _finite(value)
            if number is not None:
                stats.params[param].add(number)


def _finite(value: Any) -> float | None:
    """A recorded parameter as a finite float, or None (not a number, or beyond float range)."""
    if not is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class _LocalFolder:
    """A local output folder with the operations replay uses (``RemoteFolder`` has them too);
    every path goes through ``safe_output_path``, so none leaves the folder."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def __str__(self) -> str:
        return str(self.out)

    def check(self, rel: str) -> None:
        safe_output_path(self.out, rel)

    def is_file(self, rel: str) -> bool:
        return safe_output_path(self.out, rel).is_file()

    def sha256(self, rel: str) -> str:
        return file_sha256(safe_output_path(self.out, rel))

    def url_of(self, rel: str) -> str:
        return str(self.out / rel)

    def put(self, rel: str, data: bytes) -> None:
        target = safe_output_path(self.out, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)


def _open_run(
    out: str | os.PathLike[str], storage_options: dict[str, Any] | None
) -> tuple[Any, Manifest]:
    """The output folder of a run (local, or an fsspec URL) and its manifest."""
    out = local_path(out)
    if not is_url(out):
        # Not strict: a damaged line is named by the audit, and the others still checked.
        return _LocalFolder(Path(out)), read_manifest(Path(out) / MANIFEST_NAME, strict=False)
    from augcore.job.remote import read_remote_manifest

    folder = RemoteFolder(str(out), storage_options)
    manifest = read_remote_manifest(folder)
    if manifest is None:
        raise ManifestError(
            f"{folder.url_of(MANIFEST_NAME)}: no manifest here (was this written by augcore run?)"
        )
    return folder, manifest


def report(out: str | os.PathLike[str], *, storage_options: dict[str, Any] | None = None) -> Report:
    """Summarise the steps recorded in ``out/manifest.jsonl`` (``out`` may be an fsspec URL).

    A damaged line (not JSON, or a malformed record) is named in ``Report.damaged`` and the
    others are still counted.
    """
    folder, manifest = _open_run(out, storage_options)
    out = folder.out if isinstance(folder, _LocalFolder) else folder.url
    by_name: dict[str, TransformStats] = {}
    damaged = list(manifest.damaged)
    counted = 0
    for number, entry in zip(manifest.line_numbers, manifest.entries, strict=True):
        try:
            _count(entry, by_name)
            counted += 1
        except ManifestError as exc:
            damaged.append(f"line {number}: {exc}")
    return Report(out=out, outputs=counted, transforms=list(by_name.values()), damaged=damaged)


def _record_of(entry: dict[str, Any]) -> dict[str, Any]:
    record = entry.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("steps"), list):
        raise ManifestError(f"manifest entry {entry.get('path')!r} has no valid record")
    return record


@dataclass
class ReplayResult:
    """Outcome of a replay; ``ok`` when every recorded output was regenerated byte for byte."""

    out: Path | str
    checked: int = 0
    matched: int = 0
    tampered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    irreproducible: list[str] = field(default_factory=list)
    unsampled: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    unreadable_sources: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    """Outputs the header's plan says the run had to write, with no manifest line."""
    extra: list[str] = field(default_factory=list)
    """Manifest lines for outputs the header's plan does not have."""
    duplicated: list[str] = field(default_factory=list)
    """Outputs recorded more than once (each checked once)."""
    skipped_inputs: list[str] = field(default_factory=list)
    """Planned outputs of inputs that cannot be read now (skipped by ``--on-error skip``)."""
    notes: list[str] = field(default_factory=list)
    #: labelled runs: annotations that differ from what the labels and records give
    annotations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.tampered
            or self.missing
            or self.irreproducible
            or self.unsampled
            or self.corrupt
            or self.unreadable_sources
            or self.unrecorded
            or self.extra
            or self.duplicated
            or self.annotations
        )

    def lines(self) -> list[str]:
        found = [f"tampered (file differs from its record): {path}" for path in self.tampered]
        found += [f"missing: {path}" for path in self.missing]
        found += [f"restored (was missing): {path}" for path in self.restored]
        found += [
            f"irreproducible (replay gives other bytes than recorded): {path}"
            for path in self.irreproducible
        ]
        found += [
            f"record is not what (seed, key, k) samples with the header's chain: {path}"
            for path in self.unsampled
        ]
        found += [f"record unusable: {reason}" for reason in self.corrupt]
        found += [f"source unreadable: {reason}" for reason in self.unreadable_sources]
        found += [
            f"unrecorded (planned by the header, no manifest line): {path}"
            for path in self.unrecorded
        ]
        found += [f"extra (recorded, not in the header's plan): {path}" for path in self.extra]
        found += [f"duplicated (recorded more than once): {path}" for path in self.duplicated]
        found += [f"not written, input unreadable now: {reason}" for reason in self.skipped_inputs]
        found += [f"note: {note}" for note in self.notes]
        found += [f"annotations differ: {reason}" for reason in self.annotations]
        verdict = "all match" if self.ok else "MISMATCH"
        found.append(
            f"replay: {self.matched} of {self.checked} outputs match byte for byte, "
            f"{len(self.restored)} restored, in {self.out} ({verdict})"
        )
        return found


def _replay_entry(
    entry: dict[str, Any],
    image: np.ndarray,
    pipeline: Pipeline,
    seed: int | None,
    folder: Any,
    check: bool,
    result: ReplayResult,
) -> None:
    """Check one output three ways: identity and re-sampling, replayed bytes, file bytes."""
    from augcore.pipeline import Record

    relpath = str(entry.get("path"))
    folder.check(relpath)
    recorded = _record_of(entry)
    record = Record.from_dict(recorded)
    _, sampled = pipeline.augment(image, seed=record.seed, key=record.key, k=record.k)
    identity = (record.seed, record.key, record.k)
    if identity != (seed, entry.get("key"), entry.get("k")) or (
        json.loads(json.dumps(sampled.to_dict())) != recorded
    ):
        result.unsampled.append(relpath)
    data = encode_image(pipeline.apply_record(image, record), os.path.splitext(relpath)[1])
    if sha256_hex(data) != entry.get("sha256"):
        result.irreproducible.append(relpath)
    elif not folder.is_file(relpath):
        if check:
            result.missing.append(relpath)
        else:
            folder.put(relpath, data)
            result.restored.append(relpath)
    elif folder.sha256(relpath) != entry["sha256"]:
        result.tampered.append(relpath)
    else:
        result.matched += 1


def _size_of(manifest: Manifest) -> tuple[int, int] | None:
    size = manifest.header.get("size")
    if size is None:
        return None
    if not (isinstance(size, list) and len(size) == 2 and all(is_integer(v) for v in size)):
        raise ManifestError(f"the header's size {size!r} is not [width, height]")
    return size[0], size[1]


_FIELDS = {"path": str, "source": str, "key": str, "sha256": str, "k": int}


def _usable_entries(manifest: Manifest, result: ReplayResult) -> list[dict[str, Any]]:
    """The entries to replay, each path once; malformed and repeated lines are named."""
    first_line: dict[str, int] = {}
    usable = []
    for number, entry in zip(manifest.line_numbers, manifest.entries, strict=True):
        wrong = [name for name, kind in _FIELDS.items() if not isinstance(entry.get(name), kind)]
        if wrong:
            result.corrupt.append(f"line {number}: no valid {', '.join(wrong)}")
            continue
        path = entry["path"]
        if path in first_line:
            result.duplicated.append(f"{path} (lines {first_line[path]} and {number})")
            continue
        first_line[path] = number
        usable.append(entry)
    return usable


def _compare_with_plan(
    manifest: Manifest,
    folder: Any,
    recorded: set[str],
    result: ReplayResult,
    storage_options: dict[str, Any] | None,
) -> None:
    """Name the outputs the header's plan has and the manifest lacks, and the reverse."""
    from augcore.job.plan import planned_by

    out = folder.out if isinstance(folder, _LocalFolder) else folder
    planned, why = planned_by(manifest.header, out, storage_options)
    if planned is None:
        result.notes.append(f"not compared with the run's plan: {why}")
        return
    result.extra += sorted(recorded - planned.keys())
    unreadable: dict[str, str | None] = {}
    for path, source in planned.items():
        if path in recorded:
            continue
        if source not in unreadable:
            try:  # decoded: a truncated input is found, as the run found it
                read_image(source, storage_options=storage_options)
                unreadable[source] = None
            except InputImageError as exc:
                unreadable[source] = str(exc)
        if unreadable[source] is None:
            result.unrecorded.append(path)
        else:
            result.skipped_inputs.append(f"{path}: {unreadable[source]}")


def replay(
    out: str | os.PathLike[str],
    *,
    check: bool = True,
    storage_options: dict[str, Any] | None = None,
) -> ReplayResult:
    """Regenerate every output recorded in ``out``'s manifest and compare bytes.

    Each output is rebuilt from its source and its recorded parameters alone
    (``Pipeline.apply_record``) and compared with the recorded sha256 and with the file; its
    (seed, key, k) is also sampled afresh with the header's chain and compared with the record.
    The manifest is also compared with what the header's plan says the run had to write:
    outputs without a line (unrecorded), lines for outputs not in the plan (extra) and outputs
    recorded twice (duplicated) are named. A damaged line is named and the others still checked.

    Args:
        out: the ``--out`` folder of a run (it holds ``manifest.jsonl``).
        check: True (the default) writes nothing. False writes back missing outputs whose
            regenerated bytes match the recorded checksum; a file that differs from its record
            is reported and never overwritten.
        storage_options: fsspec options when ``out`` (or a source) is a URL.

    Returns:
        A ``ReplayResult``: counts, and the paths found tampered, missing, irreproducible,
        mis-recorded, unusable, unrecorded, extra or duplicated; ``ok`` is True when every
        output matched and the manifest holds exactly the planned outputs.

    Raises:
        ManifestError: no manifest, or one whose header cannot be replayed.
        ConfigError: the header's chain no longer builds (an unknown transform...).
        UnsafePathError: a recorded path would leave ``out``.

    Example:
        >>> result = augcore.replay("augmented", check=True)  # doctest: +SKIP
        >>> print("\\n".join(result.lines()))  # doctest: +SKIP
    """
    from augcore.pipeline import Pipeline

    folder, manifest = _open_run(out, storage_options)
    where = folder.url_of(MANIFEST_NAME)
    if not isinstance(manifest.header.get("chain"), dict):
        raise ManifestError(f"{where}: the header has no chain config to replay")
    pipeline = Pipeline.from_config(manifest.header["chain"])
    try:
        size = _size_of(manifest)
    except ManifestError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    seed = manifest.header.get("seed")
    out = folder.out if isinstance(folder, _LocalFolder) else folder.url
    result = ReplayResult(out=out)
    result.corrupt += [f"{where}: {problem}" for problem in manifest.damaged]
    entries = _usable_entries(manifest, result)
    for entry in entries:
        folder.check(entry["path"])  # before anything is read or written
    recorded = {entry["path"] for entry in entries}
    _compare_with_plan(manifest, folder, recorded, result, storage_options)
    labels = _label_replay(manifest, pipeline)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_source[entry["source"]].append(entry)
    for source, group in by_source.items():
        try:
            image = read_image(source, size=size, storage_options=storage_options)
        except InputImageError as exc:
            result.checked += len(group)
            result.unreadable_sources.append(str(exc))
            continue
        for entry in group:
            result.checked += 1
            try:
                _replay_entry(entry, image, pipeline, seed, folder, check, result)
                problem = None if labels is None else labels.problem(entry, image.shape, out)
                if problem is not None:
                    result.annotations.append(problem)
            except ManifestError as exc:  # one bad record must not hide the state of the rest
                result.corrupt.append(str(exc))
    problem = None if labels is None else labels.coco_problem(manifest, out)
    if problem is not None:
        result.annotations.append(problem)
    return result


def _label_replay(manifest: Manifest, pipeline: Pipeline) -> Any:
    """A labelled run's annotation checker (augcore.job.labels), None for other runs."""
    if "annotations" not in manifest.header:
        return None
    from augcore.job.labels import LabelReplay

    keys = [str(entry.get("key")) for entry in manifest.entries]
    return LabelReplay(manifest.header, keys, pipeline.targets)
