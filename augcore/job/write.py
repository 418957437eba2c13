"""Writing the job's results: each output placed atomically, then, once durable, its line.

Rules: an output appears under its final name all at once (augcore.safefile.write_atomic: a
temporary file in the same folder, then a rename; on an object store, one put); the manifest
line that records it is made in the worker just before (so a record JSON cannot hold leaves
no file behind); the parent's ``Recorder`` appends it only after the file and its name are
synced to disk. A manifest line therefore always records a complete file, even after a power
loss.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Container, Iterable
from typing import Any

from augcore.imageio import sha256_hex
from augcore.manifest import ManifestWriter, encode_entry
from augcore.safefile import fault_point, sync_files, write_atomic
from augcore.storage import RemoteFolder, is_url


def output_writer(out: str, storage_options: dict[str, Any]) -> Callable[[str, bytes], None]:
    """The function that places one output's bytes at ``out/rel``: ``write_output`` for a local
    folder, a write-once put for an fsspec URL (augcore.storage)."""
    if is_url(out):
        return RemoteFolder(out, storage_options).put
    return functools.partial(write_output, out, folders=set())


def write_output(out: str, rel: str, data: bytes, folders: set[str]) -> None:
    """Place ``data`` at ``out/rel``; ``folders`` remembers the folders already made."""
    target = os.path.join(out, rel)  # strings: pathlib costs add up here
    folder = os.path.dirname(target)
    if folder not in folders:
        fault_point("mkdir")
        os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    write_atomic(target, data)


def output_entry(
    rel: str,
    source: str,
    key: str,
    k: int,
    data: bytes,
    record: dict[str, Any],
    annotations: dict[str, Any] | None = None,
) -> bytes:
    """The manifest line of one output written with ``data`` (schema: docs/manifest.md);
    ``annotations``: what its labels became (augcore.job.labels), in labelled runs only."""
    entry: dict[str, Any] = {
        "path": rel,
        "source": source,
        "key": key,
        "k": k,
        "sha256": sha256_hex(data),
        "record": record,
    }
    if annotations is not None:
        entry["annotations"] = annotations
    return encode_entry(entry)


class Recorder:
    """Appends manifest lines only once the files they record are durable, in batches.

    Lines wait here until ``SYNC_OUTPUTS`` of them are waiting, or ``SYNC_SECONDS`` have passed
    since the last sync and at least ``SYNC_SPACING`` times as long as that sync took (a slow,
    shared disk then gets fewer syncs: they stay near 1/SYNC_SPACING of the run's time); then
    the files they record (and the renames that placed them) are synced with one call
    (augcore.safefile.sync_files) and the lines appended. So after a power loss every output
    the manifest records is complete, and a sync costs one call per batch, not one per file.
    A crash loses at most the waiting lines: their files are rewritten, to the same bytes, by
    the resume.

    ``local``: False for an object store (its put is durable when it returns: nothing to
    sync); ``files_synced``: the workers synced the files themselves (a Dask cluster's, which
    may be other machines), so only the manifest's header is synced here.
    """

    SYNC_OUTPUTS = 4096
    SYNC_SECONDS = 1.0
    SYNC_SPACING = 25

    def __init__(
        self,
        out: str,
        manifest: ManifestWriter | Any,
        *,
        local: bool = True,
        files_synced: bool = False,
    ) -> None:
        self.out = out
        self.manifest = manifest
        self.local = local
        self.files_synced = files_synced
        self.lines: list[bytes] = []
        self.paths: list[str] = []
        self.synced_at = time.monotonic()
        self.wait = self.SYNC_SECONDS
        self.header_synced = False

    def add(self, written: Iterable[tuple[str, bytes]], recorded: Container[str]) -> None:
        """Take (path, line) pairs just written; ``recorded`` paths already have their line."""
        for rel, line in written:
            self.paths.append(rel)
            if rel not in recorded:
                self.lines.append(line)
        if (
            not self.local  # nothing to sync: lines go on at once (the writer batches puts)
            or len(self.paths) >= self.SYNC_OUTPUTS
            or time.monotonic() - self.synced_at >= self.wait
        ):
            self.flush()

    def flush(self) -> None:
        """Sync the files written since the last flush, then append their lines."""
        started = time.monotonic()
        if self.paths:
            if self.local:
                # The first sync also makes the manifest's header (placed, not synced) durable.
                first = [] if self.header_synced else [self.manifest.path.name]
                files = first if self.files_synced else [*first, *self.paths]
                if files:
                    sync_files(self.out, files)
                self.header_synced = True
            self.manifest.write_lines(self.lines)
        self.lines, self.paths = [], []
        self.synced_at = time.monotonic()
        self.wait = max(self.SYNC_SECONDS, self.SYNC_SPACING * (self.synced_at - started))
