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
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcore.errors import ManifestError, OutputConflictError
from augcore.imageio import file_sha256
from augcore.manifest import MANIFEST_NAME, Manifest, header_line, read_manifest
from augcore.safefile import TEMP_PREFIX, TEMP_SUFFIX, fault_point, read_regular
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
    for number, path in zip(manifest.line_numbers, paths, strict=True):
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


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def _is_done(path: Path, entry: dict[str, Any], verify: bool) -> bool:
    """Whether a recorded output is really there: a regular file (not a link), not empty, and
    with ``verify`` of the recorded sha256. (A line is appended only after its file is synced,
    so a file the job wrote is never short after a crash; ``verify`` finds other damage.)"""
    try:
        info = path.lstat()  # a link is never a file augcore wrote
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return False
    return not verify or file_sha256(path) == entry.get("sha256")


def _unfinished_header(path: Path, header: dict[str, Any]) -> bool:
    """True when ``path`` holds a beginning of this run's header line and nothing else: a start
    interrupted by an older augcore, which wrote the header in place (now it is renamed in)."""
    try:
        data = read_regular(path)
    except OSError:
        return False
    return b"\n" not in data and header_line(header).startswith(data)


def inspect_folder(
    out: Path,
    header: dict[str, Any],
    planned: Sequence[str],
    overwrite: bool,
    verify: bool = False,
) -> FolderState:
    """Decide between a new run, a resume, and a refusal, without changing anything.

    A resume counts as done the planned outputs the manifest records that are on disk as
    non-empty regular files (``verify``: with the recorded checksum); the others are written
    again, to the same bytes.
    """
    manifest_path = out / MANIFEST_NAME
    return decide(
        str(out),
        lambda: (
            read_manifest(manifest_path)
            if os.path.lexists(manifest_path) and not _unfinished_header(manifest_path, header)
            else None
        ),
        header,
        planned,
        overwrite,
        recorded_paths=lambda manifest: _recorded_paths(manifest, out),
        exists=lambda rel: os.path.lexists(os.path.join(out, rel)),
        done=lambda rel, entry: _is_done(out / rel, entry, verify),
        stale_paths=lambda manifest: _recorded_paths(manifest, out) + _label_paths(manifest, out),
    )


def decide(
    where: str,
    read: Callable[[], Manifest | None],
    header: dict[str, Any],
    planned: Sequence[str],
    overwrite: bool,
    *,
    recorded_paths: Callable[[Manifest], list[str]],
    exists: Callable[[str], bool],
    done: Callable[[str, dict[str, Any]], bool] | None = None,
    stale_paths: Callable[[Manifest], list[str]] | None = None,
) -> FolderState:
    """``inspect_folder``'s decision for a folder anywhere (augcore.job.remote too): ``read``
    gives its manifest (None: there is none), ``recorded_paths`` the paths a manifest lists
    (one per entry), checked to stay inside, ``exists`` whether something is at an output's
    name, ``done`` whether a recorded output (and its entry) is really finished (default:
    ``exists``), and ``stale_paths`` what ``--overwrite`` deletes of another run (default:
    its recorded paths)."""
    try:
        manifest = read()
    except ManifestError as exc:
        if not overwrite:
            raise OutputConflictError(
                f"{exc}; pass --overwrite (overwrite=True) to replace it, or use another --out"
            ) from None
        return FolderState(False, "unreadable manifest, will be replaced")
    if manifest is not None:
        if manifest.header == header:
            recorded = dict(zip(recorded_paths(manifest), manifest.entries, strict=True))
            finished = done or (lambda rel, _: exists(rel))
            present = {rel for rel in planned if rel in recorded and finished(rel, recorded[rel])}
            description = f"resume: {len(present)} of {len(planned)} outputs there"
            return FolderState(True, description, set(recorded), present)
        changed = ", ".join(differences(manifest.header, header))
        if not overwrite:
            raise OutputConflictError(
                f"{where} holds the output of a different run (differs in: {changed}); "
                "rerun with the same arguments to resume, pass --overwrite (overwrite=True) to "
                "replace that run's files, or choose another --out"
            )
        stale = (stale_paths or recorded_paths)(manifest)
        return FolderState(False, f"replacing an earlier run ({changed})", stale_paths=stale)
    clashes = [rel for rel in planned if exists(rel)]
    if clashes and not overwrite:
        raise OutputConflictError(
            f"{where} already has {len(clashes)} of this run's output names but no manifest of "
            f"it (e.g. {clashes[0]}); pass --overwrite (overwrite=True) or choose another --out"
        )
    return FolderState(False, "new" if not clashes else f"overwriting {len(clashes)} files")


def clear_for_new_run(out: Path, state: FolderState) -> None:
    """Remove the previous run's files (only those its manifest lists) and its manifest."""
    for rel in state.stale_paths:
        fault_point("unlink")
        safe_output_path(out, rel).unlink(missing_ok=True)
    if not state.resume:
        fault_point("unlink")
        (out / MANIFEST_NAME).unlink(missing_ok=True)


def sweep_temporaries(out: Path) -> None:
    """Delete temporary files an interrupted run left (never finished outputs)."""
    for leftover in out.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        if leftover.is_file():
            fault_point("unlink")
            leftover.unlink()


LOCK_WAIT = 5.0  # seconds a run waits for the lock before it refuses


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """Hold an advisory lock on the output folder for a whole run, so two runs never interleave.

    POSIX ``flock`` on the folder itself (no lock file to leave behind); where ``fcntl`` does not
    exist (Windows) runs are not locked. Forked worker processes share the lock, so it is held
    until the last process of a run has ended: when a run's main process is killed, its workers
    still finishing a write keep the folder theirs until they exit (a moment later), and a rerun
    started at once waits up to LOCK_WAIT seconds for them instead of refusing.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    descriptor = os.open(out, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputConflictError(
                        f"{out}: another augcore run is writing into this folder; wait for it "
                        "to finish"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock (once no worker shares it)
