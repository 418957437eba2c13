"""An output folder on an object store: its state, its lock, and a manifest without appends.

The decisions are those of augcore.job.folder (new run, resume, refusal; only files the job
wrote are ever deleted); what differs is what an object store can do:

- no appends: the manifest is ``manifest.jsonl`` (the header, and every entry once a run
  ends) plus, while a run is going, fragments ``.augcore-manifest/NNNNNNNNNNNN.jsonl``, each a
  whole object put once holding the lines since the previous one. When the run ends (also on
  an error or Ctrl-C) ``manifest.jsonl`` is put again with every line, in order, and the
  fragments are deleted; a run killed outright leaves them, and readers (the next run,
  ``report``, ``replay``) read them after ``manifest.jsonl``, each output's line once.
  A single uninterrupted run's ``manifest.jsonl`` is byte-identical to a local run's.
- no temporaries: every output is one put (augcore.storage.RemoteFolder.put).
- the lock is an object created only if absent (``RemoteFolder.lock``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from augcore.errors import ManifestError
from augcore.job.folder import FolderState, decide
from augcore.manifest import (
    MANIFEST_NAME,
    Manifest,
    encode_entry,
    header_line,
    parse_entries,
    parse_manifest,
)
from augcore.sources import check_relative_paths
from augcore.storage import RemoteFolder

FRAGMENTS = ".augcore-manifest"
FRAGMENT_LINES = 4096  # lines per fragment at most...
FRAGMENT_SECONDS = 30.0  # ...and at least one fragment this often while lines are coming


def _fragments(files: set[str]) -> list[str]:
    return sorted(rel for rel in files if rel.startswith(FRAGMENTS + "/"))


def read_remote_manifest(folder: RemoteFolder, files: set[str] | None = None) -> Manifest | None:
    """The folder's manifest with any fragments a killed run left, or None when it has none.

    Raises:
        ManifestError: ``manifest.jsonl`` is damaged, or fragments exist without it.
    """
    files = folder.files() if files is None else files
    fragments = _fragments(files)
    if MANIFEST_NAME not in files:
        if fragments:
            raise ManifestError(
                f"{folder.url_of(MANIFEST_NAME)} is missing but {folder.url_of(FRAGMENTS)} "
                "holds manifest fragments; this folder was not left by augcore"
            )
        return None
    manifest = parse_manifest(folder.read(MANIFEST_NAME), folder.url_of(MANIFEST_NAME))
    seen = {entry.get("path") for entry in manifest.entries}
    for fragment in fragments:
        lines = folder.read(fragment).splitlines()
        for entry in parse_entries(lines, folder.url_of(fragment)):
            if entry.get("path") not in seen:  # a line rewritten after a crash: same bytes
                seen.add(entry.get("path"))
                manifest.entries.append(entry)
                manifest.line_numbers.append(len(manifest.entries) + 1)  # its merged line
    return manifest


def inspect_remote(
    folder: RemoteFolder, header: dict[str, Any], planned: Sequence[str], overwrite: bool
) -> FolderState:
    """``augcore.job.folder.inspect_folder`` for an object store: one listing, no writes."""
    files = folder.files()
    return decide(
        folder.url,
        lambda: read_remote_manifest(folder, files),
        header,
        planned,
        overwrite,
        recorded_paths=lambda manifest: _recorded_paths(folder, manifest),
        exists=files.__contains__,
    )


def _recorded_paths(folder: RemoteFolder, manifest: Manifest) -> list[str]:
    paths = [entry.get("path") for entry in manifest.entries]
    for path in paths:
        if not isinstance(path, str):
            raise ManifestError(f"{folder.url_of(MANIFEST_NAME)}: an entry has no output path")
    check_relative_paths(folder.url, paths)
    return paths  # type: ignore[return-value]


def clear_remote(folder: RemoteFolder, state: FolderState) -> None:
    """``augcore.job.folder.clear_for_new_run`` for an object store (fragments included)."""
    for rel in state.stale_paths:
        folder.delete(rel)
    if not state.resume:
        for rel in [MANIFEST_NAME, *_fragments(folder.files())]:
            folder.delete(rel)


class RemoteManifestWriter:
    """``augcore.manifest.ManifestWriter`` for an object store: fragments, merged on close."""

    def __init__(self, folder: RemoteFolder, header: dict[str, Any]) -> None:
        self.folder = folder
        self.header = header
        self.path = folder.url_of(MANIFEST_NAME)
        self._base = b""  # manifest.jsonl and earlier fragments, as merged
        self._lines: list[bytes] = []  # lines not yet in a fragment
        self._merged: list[bytes] = []  # lines of this run already in fragments
        self._next = 0
        self._last_put = time.monotonic()

    def __enter__(self) -> RemoteManifestWriter:
        existing = read_remote_manifest(self.folder)
        first = header_line(self.header, self.folder.url_of(MANIFEST_NAME))
        if existing is None:
            self.folder.put(MANIFEST_NAME, first)
            self._base = first
        else:
            if existing.header != json.loads(first)["header"]:
                raise ManifestError(
                    f"{self.folder.url_of(MANIFEST_NAME)}: the existing manifest belongs to a "
                    "different run; refusing to append to it"
                )
            self._base = first + b"".join(encode_entry(entry) for entry in existing.entries)
        names = _fragments(self.folder.files())
        self._next = int(names[-1].rsplit("/", 1)[1].split(".")[0]) + 1 if names else 0
        return self

    def write_lines(self, lines: Sequence[bytes]) -> None:
        """Keep ``lines``; put them as a fragment when enough have come, or enough time."""
        self._lines.extend(lines)
        if len(self._lines) >= FRAGMENT_LINES or (
            self._lines and time.monotonic() - self._last_put >= FRAGMENT_SECONDS
        ):
            self._put_fragment()

    def _put_fragment(self) -> None:
        self.folder.put(f"{FRAGMENTS}/{self._next:012d}.jsonl", b"".join(self._lines))
        self._next += 1
        self._merged.extend(self._lines)
        self._lines = []
        self._last_put = time.monotonic()

    def __exit__(self, *exc_info: object) -> None:
        """Put the whole manifest once, then delete the fragments it now holds."""
        data = self._base + b"".join(self._merged) + b"".join(self._lines)
        self.folder.put(MANIFEST_NAME, data)
        for rel in _fragments(self.folder.files()):
            self.folder.delete(rel)
