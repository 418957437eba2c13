"""The output folder: its lock, what an earlier run left in it, and that run's leftovers.

``inspect_folder`` decides, without changing anything, between a new run, a resume (the
manifest's header equals this run's) and a refusal (another run's files or manifest, unless
``overwrite``). ``exclusive`` holds the folder for the whole run; ``clear_for_new_run`` and
``sweep_temporaries`` are the only deletions the job makes, and each deletes only files the job
itself wrote: the paths an earlier manifest lists (checked to lie inside the folder) and
temporary files with the job's prefix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcore.errors import ManifestError, OutputConflictError
from augcore.imageio import TEMP_PREFIX, TEMP_SUFFIX
from augcore.manifest import MANIFEST_NAME, Manifest, read_manifest
from augcore.sources import check_output_paths, safe_output_path


@dataclass
class FolderState:
    """What is in the output folder: ``resume`` keeps its manifest and the files it records."""

    resume: bool
    description: str
    recorded: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)  # planned, recorded, and on disk: done
    stale_paths: list[str] = field(default_factory=list)


def _recorded_paths(manifest: Manifest, out: Path) -> list[str]:
    """The output paths a manifest lists, each checked to be a safe path inside ``out``."""
    paths = [entry.get("path") for entry in manifest.entries]
    for number, path in enumerate(paths, start=2):
        if not isinstance(path, str):
            raise ManifestError(f"{out / MANIFEST_NAME}: line {number} has no output path")
    check_output_paths(out, paths)
    return paths


def _label_paths(manifest: Manifest, out: Path) -> list[str]:
    """The annotation files a labelled run wrote (augcore.job.labels): each output's YOLO/VOC
    file, and a COCO run's annotations.json; checked like the outputs' paths."""
    paths = [
        entry["annotations"]["path"]
        for entry in manifest.entries
        if isinstance(entry.get("annotations"), dict)
        and isinstance(entry["annotations"].get("path"), str)
    ]
    labels = manifest.header.get("annotations")
    if isinstance(labels, dict) and labels.get("format") == "coco":
        paths.append("annotations.json")
    check_output_paths(out, paths)
    return paths


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def inspect_folder(
    out: Path, header: dict[str, Any], planned: Sequence[str], overwrite: bool
) -> FolderState:
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
            return FolderState(False, "unreadable manifest, will be replaced")
        if manifest.header == header:
            recorded = set(_recorded_paths(manifest, out))
            present = {rel for rel in planned if rel in recorded and (out / rel).exists()}
            description = f"resume: {len(present)} of {len(planned)} outputs there"
            return FolderState(True, description, recorded, present)
        changed = ", ".join(_differences(manifest.header, header))
        if not overwrite:
            raise OutputConflictError(
                f"{out} holds the output of a different run (differs in: {changed}); "
                "rerun with the same arguments to resume, pass --overwrite (overwrite=True) to "
                "replace that run's files, or choose another --out"
            )
        stale = _recorded_paths(manifest, out) + _label_paths(manifest, out)
        return FolderState(False, f"replacing an earlier run ({changed})", stale_paths=stale)
    clashes = [rel for rel in planned if os.path.exists(os.path.join(out, rel))]
    if clashes and not overwrite:
        raise OutputConflictError(
            f"{out} already has {len(clashes)} of this run's output names but no manifest of it "
            f"(e.g. {clashes[0]}); pass --overwrite (overwrite=True) or choose another --out"
        )
    return FolderState(False, "new" if not clashes else f"overwriting {len(clashes)} files")


def clear_for_new_run(out: Path, state: FolderState) -> None:
    """Remove the previous run's files (only those its manifest lists) and its manifest."""
    for rel in state.stale_paths:
        safe_output_path(out, rel).unlink(missing_ok=True)
    if not state.resume:
        (out / MANIFEST_NAME).unlink(missing_ok=True)


def sweep_temporaries(out: Path) -> None:
    """Delete temporary files an interrupted run left (never finished outputs)."""
    for leftover in out.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        if leftover.is_file():
            leftover.unlink()


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
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
