"""The run manifest: one JSON header line, then one JSON line per written output.

The header is placed atomically (augcore.safefile.write_atomic, synced), so the file either does
not exist or starts with a whole header. After it the file is append-only and every batch of
lines is flushed as soon as it is written, so a process killed at any moment leaves at most one
torn last line. Readers drop such a line; the writer cuts it off before appending, so a resumed
run never glues a new entry onto half of an old one. ``sync`` makes the lines written so far
survive a power loss. Only a regular file is read as a manifest (a FIFO is refused, not opened).
Schema: docs/manifest.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from augcore.errors import ManifestError
from augcore.safefile import (
    NotRegularFileError,
    explain,
    fault_point,
    read_regular,
    write_all,
    write_atomic,
)

MANIFEST_NAME = "manifest.jsonl"
FORMAT_KEY = "augcore_manifest"
FORMAT_VERSION = 1


@dataclass
class Manifest:
    """A parsed manifest: the run's header and its output entries, in the order written."""

    header: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False
    """True when an incomplete last line (a run killed mid-write) was dropped."""
    damaged: list[str] = field(default_factory=list)
    """Lines that are not JSON objects ("line N: why"), when read with ``strict=False``."""
    line_numbers: list[int] = field(default_factory=list)
    """The file line of each entry (the header is line 1)."""


def _encode(record: dict[str, Any], what: str, path: str | os.PathLike[str]) -> bytes:
    if not isinstance(record, dict):
        raise ManifestError(
            f"{path}: a manifest {what} must be a dict, got {type(record).__name__}"
        )
    try:
        text = json.dumps(record, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ManifestError(
            f"{path}: the manifest {what} is not plain JSON ({exc}); convert numpy values with "
            ".tolist() or float() first"
        ) from exc
    return text.encode("utf-8") + b"\n"


def encode_entry(entry: dict[str, Any]) -> bytes:
    """One entry as its manifest line, for ``ManifestWriter.write_lines``.

    Lets the expensive part (JSON encoding) run where the entry is made, e.g. in a worker
    process, while one process appends the lines.
    """
    return _encode(entry, "entry", Path(MANIFEST_NAME))


def header_line(header: dict[str, Any], path: str | os.PathLike[str] = MANIFEST_NAME) -> bytes:
    """The first line of a manifest for a run with ``header`` (``path`` names it in errors;
    also compared with a file's first bytes)."""
    return _encode({FORMAT_KEY: FORMAT_VERSION, "header": header}, "header", path)


def _parse_header(line: bytes, path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        first = json.loads(line)
    except ValueError as exc:
        raise ManifestError(
            f"{path}: line 1 is not JSON ({exc}); this is not an augcore manifest"
        ) from None
    if not isinstance(first, dict) or first.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ManifestError(
            f"{path}: line 1 is not an augcore manifest header (expected "
            f'{{"{FORMAT_KEY}": {FORMAT_VERSION}, "header": ...}})'
        )
    header = first.get("header")
    if not isinstance(header, dict):
        raise ManifestError(f"{path}: the manifest header is not a JSON object")
    return header


def read_manifest(path: str | os.PathLike[str], *, strict: bool = True) -> Manifest:
    """Read a manifest, tolerating a torn last line.

    With ``strict`` (the default) any other damage is a ManifestError naming the line; without
    it, damaged lines are listed in ``Manifest.damaged`` and the others are read (audits use
    this, so one bad line does not hide the state of the rest).
    """
    path = Path(path)
    try:
        data = read_regular(path)
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: no manifest here (was this folder written by augcore run?)"
        ) from None
    except NotRegularFileError as exc:
        raise ManifestError(f"{exc}; a manifest is a regular file") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest ({explain(exc)})") from exc
    return parse_manifest(data, path, strict=strict)


def parse_manifest(data: bytes, path: str | os.PathLike[str], *, strict: bool = True) -> Manifest:
    """A manifest from its bytes (``path`` names it in errors), with the rules of
    ``read_manifest``: a torn last line is dropped, any other damage is a ManifestError (or,
    without ``strict``, listed in ``Manifest.damaged``)."""
    lines = data.split(b"\n")
    torn = lines.pop() != b""  # text after the last newline was never finished
    if not lines:
        raise ManifestError(f"{path}: the manifest is empty or its header line is incomplete")
    manifest = Manifest(header=_parse_header(lines[0], path), torn_tail=torn)
    _read_entries(manifest, lines[1:], path, 2, strict)
    return manifest


def parse_entries(
    lines: Sequence[bytes], path: str | os.PathLike[str], first_number: int = 1
) -> list[dict[str, Any]]:
    """Entry lines (without their newlines) as dicts; a bad line is a ManifestError naming
    ``path`` and its line number."""
    manifest = Manifest(header={})
    _read_entries(manifest, lines, path, first_number, strict=True)
    return manifest.entries


def _read_entries(
    manifest: Manifest,
    lines: Sequence[bytes],
    path: str | os.PathLike[str],
    first_number: int,
    strict: bool,
) -> None:
    for number, line in enumerate(lines, start=first_number):
        try:
            entry = json.loads(line)
        except ValueError as exc:
            problem = f"line {number} is corrupt ({exc})"
        else:
            if isinstance(entry, dict):
                manifest.entries.append(entry)
                manifest.line_numbers.append(number)
                continue
            problem = f"line {number} is not a JSON object"
        if strict:
            raise ManifestError(f"{path}: {problem}")
        manifest.damaged.append(problem)


class ManifestWriter:
    """Append entries to a manifest, creating it with ``header`` or continuing an existing one.

    Continuing requires the existing header to equal ``header`` (the caller decides whether a
    different run may take over the folder; this class never mixes two runs in one file).
    """

    def __init__(
        self, path: str | os.PathLike[str], header: dict[str, Any], *, sync_header: bool = True
    ) -> None:
        """``sync_header=False``: the caller syncs the header itself before the first entry
        (the job's Recorder does, with the first batch of outputs: one sync instead of three).
        """
        self.path = Path(path)
        self.header = header
        self.sync_header = sync_header
        self._file: Any = None

    def __enter__(self) -> ManifestWriter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        ours = header_line(self.header, self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            existing = read_regular(self.path)
        except FileNotFoundError:
            existing = b""
        except NotRegularFileError as exc:
            raise ManifestError(f"{exc}; a manifest is a regular file") from None
        complete = existing.rfind(b"\n") + 1  # bytes up to the last finished line
        if not complete:  # no manifest, or a header torn by a crash (or an older augcore)
            write_atomic(self.path, ours, durable=self.sync_header)
        else:
            first = _parse_header(existing[: existing.index(b"\n")], self.path)
            if first != json.loads(ours)["header"]:  # compared as JSON reads it back
                raise ManifestError(
                    f"{self.path}: the existing manifest belongs to a different run; "
                    "refusing to append to it"
                )
        handle = open(self.path, "r+b")  # noqa: SIM115 - closed in close()
        try:
            if complete and complete != len(existing):
                fault_point("manifest-truncate")
                handle.truncate(complete)  # drop the torn line a killed run left behind
            handle.seek(0, os.SEEK_END)
        except BaseException:
            handle.close()
            raise
        self._file = handle

    def write(self, entry: dict[str, Any]) -> None:
        """Append one entry and flush it to the OS (survives a killed process)."""
        self.write_lines([_encode(entry, "entry", self.path)])

    def write_lines(self, lines: Sequence[bytes]) -> None:
        """Append lines made by ``encode_entry`` in one write, then flush."""
        if self._file is None:
            raise ManifestError(f"{self.path}: the manifest writer is not open")
        data = b"".join(lines)
        if data.count(b"\n") != len(lines) or (lines and not data.endswith(b"\n")):
            raise ManifestError(f"{self.path}: write_lines takes lines made by encode_entry")
        if not data:
            return
        self._file.flush()
        write_all(self._file.fileno(), data, "manifest-append")

    def sync(self) -> None:
        """Make every line written so far survive a power loss."""
        if self._file is not None:
            fault_point("manifest-sync")
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Sync and close; the lines written are then durable."""
        if self._file is not None:
            try:
                self.sync()
            finally:
                self._file.close()
                self._file = None
