"""Finding inputs, giving each a stable unique key, and turning keys into safe output paths.

The rules (docs/job.md, "Keys and names"):

- A directory source is walked recursively (sorted, hidden entries, symlinked folders and the
  output folder skipped, image extensions only); a file's key is its path relative to it.
- Only regular files are inputs. FIFOs, sockets, devices, broken links, symbolic-link loops and
  folders that cannot be listed are returned as bad sources with the reason, never opened and
  never dropped silently.
- Files named directly and the lines of a ``--from-list`` file form one group whose root is the
  deepest folder containing all of them; their keys are paths relative to that root.
- Keys are made unique in discovery order: when a key's output stem (the key without its
  extension) is already taken, ``~2``, ``~3``... is added to the stem, so a file listed twice,
  or ``x.png`` next to ``x.jpg``, still gets its own outputs.
- Output ``k`` of key ``cats/x.png`` is ``cats/x__k{k}{suffix}`` below the output folder, and
  no output path may resolve outside that folder.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from augcore.errors import InputImageError, UnsafePathError
from augcore.imageio import READ_EXTENSIONS
from augcore.safefile import NotRegularFileError, NotTextError, explain, kind_of, read_text
from augcore.storage import RemotePath, classify, is_url, local_path, walk

KEY_SEPARATOR = "__k"


@dataclass(frozen=True)
class SourceItem:
    """One input: where it is read from and the unique key its outputs are named after."""

    path: Path | RemotePath
    key: str


@dataclass(frozen=True)
class BadSource:
    """An input found unusable before any image is decoded, and why."""

    path: str
    reason: str


@dataclass
class Discovery:
    items: list[SourceItem]
    bad: list[BadSource]


def samples_dir() -> Path:
    """The sample images shipped inside the package (``augcore run --samples``)."""
    return Path(str(resources.files("augcore") / "data" / "samples"))


def read_list(path: str | os.PathLike[str]) -> list[str]:
    """The paths in a list file: one a line, surrounding spaces and blank lines ignored.

    The file must be UTF-8 text; a UTF-8 byte-order mark at its start is allowed and dropped.
    Anything else (UTF-16, Latin-1 bytes, a FIFO instead of a file) is refused by name.
    """
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise InputImageError(f"{path}: list file not found") from None
    except NotRegularFileError as exc:
        raise InputImageError(f"{exc}; a list file must be a regular text file") from None
    except NotTextError as exc:
        raise InputImageError(f"{path}: the list file cannot be read: {exc}") from None
    except OSError as exc:
        raise InputImageError(f"{path}: cannot read the list file ({explain(exc)})") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _has_image_extension(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in READ_EXTENSIONS


def _why_not_readable(path: str) -> str | None:
    """Why a path found or named as an input cannot be one (stat only, never opened), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return "a broken symbolic link" if os.path.islink(path) else "no such file or directory"
        return explain(OSError(exc.errno, exc.strerror))
    except ValueError:  # a NUL byte in the name
        return "the path contains a NUL byte"
    if not stat.S_ISREG(mode):
        return f"{kind_of(mode)}, not a regular file; only regular files are read"
    return None


def _walk(root: Path, skip: str | None, bad: list[BadSource]) -> list[Path]:
    """Image files below ``root``; anything unusable found on the way is added to ``bad``."""
    found = []
    if skip is not None and os.path.realpath(root) == skip:
        return found

    def unlistable(error: OSError) -> None:
        reason = f"cannot list this folder ({explain(OSError(error.errno, error.strerror))})"
        bad.append(BadSource(str(error.filename), reason))

    for folder, subfolders, files in os.walk(root, onerror=unlistable):  # symlinked folders are
        subfolders[:] = [  # not followed: no loops, no escaping the tree
            name
            for name in subfolders
            if not name.startswith(".") and os.path.realpath(os.path.join(folder, name)) != skip
        ]
        for name in files:
            if name.startswith(".") or not _has_image_extension(name):
                continue
            path = os.path.join(folder, name)
            reason = _why_not_readable(path)
            if reason is None:
                found.append(Path(path))
            else:
                bad.append(BadSource(path, reason))
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


UNKNOWN_EXTENSION = f"unknown image extension (expected one of {' '.join(sorted(READ_EXTENSIONS))})"


def _relative_keys(paths: Sequence[Path | RemotePath]) -> list[str]:
    """Keys for loose files: paths relative to the deepest folder that holds all of them
    (for URLs, the deepest common folder of their paths after ``scheme://``)."""
    if not paths:
        return []
    plain = [path.split("://", 1)[1] if is_url(path) else os.fspath(path) for path in paths]
    root = os.path.commonpath([os.path.dirname(path) for path in plain])
    return [os.path.relpath(path, root).replace(os.sep, "/") for path in plain]


def unique_keys(keys: Iterable[str]) -> list[str]:
    """Give every key its own output stem, in order: later duplicates get ``~2``, ``~3``..."""
    taken: set[str] = set()
    result = []
    for key in keys:
        stem, suffix = os.path.splitext(key)
        candidate, number = stem, 1
        while candidate in taken:
            number += 1
            candidate = f"{stem}~{number}"
        taken.add(candidate)
        result.append(candidate + suffix)
    return result


def discover(
    sources: Sequence[str | os.PathLike[str]] = (),
    *,
    from_list: str | os.PathLike[str] | None = None,
    samples: bool = False,
    skip: str | os.PathLike[str] | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Discovery:
    """Expand sources into keyed inputs; missing or non-image paths are returned in ``bad``.

    Folder walks never enter ``skip`` (the output folder: a rerun must not read its own
    outputs as inputs). An unreadable list file raises InputImageError: without it nothing is
    known about the run. Sources may be fsspec URLs (augcore.storage; ``storage_options``
    configures their filesystem); ``file://`` URLs are local paths.
    """
    skip_url = str(skip) if is_url(skip) else None
    skip_real = None if skip is None or skip_url else os.path.realpath(skip)
    roots: list[Path | RemotePath] = [samples_dir()] if samples else []
    loose: list[Path | RemotePath] = []
    bad: list[BadSource] = []
    named = [str(local_path(source)) for source in sources]
    if from_list is not None:
        named += [local_path(line) for line in read_list(from_list)]
    for name in named:
        if is_url(name):
            kind = classify(name, storage_options)
            if kind is None:
                bad.append(BadSource(name, "no such file or directory"))
            elif kind == "dir":
                roots.append(RemotePath(name))
            elif not _has_image_extension(name):
                bad.append(BadSource(name, UNKNOWN_EXTENSION))
            else:
                loose.append(RemotePath(name))
            continue
        try:
            path = os.path.abspath(name)
            mode = os.stat(path).st_mode
        except (OSError, ValueError):
            bad.append(BadSource(name, _why_not_readable(name) or "cannot be read"))
            continue
        if stat.S_ISDIR(mode):
            roots.append(Path(path))
        elif (reason := _why_not_readable(path)) is not None:
            bad.append(BadSource(name, reason))
        elif not _has_image_extension(path):
            bad.append(BadSource(name, UNKNOWN_EXTENSION))
        else:
            loose.append(Path(path))
    found: list[tuple[Path | RemotePath, str]] = []
    for root in roots:
        if isinstance(root, RemotePath):
            found += walk(root, READ_EXTENSIONS, storage_options, skip_url)
        else:
            found += [
                (path, path.relative_to(root).as_posix()) for path in _walk(root, skip_real, bad)
            ]
    found += zip(loose, _relative_keys(loose), strict=True)
    keys = unique_keys(key for _, key in found)
    items = [SourceItem(path, key) for (path, _), key in zip(found, keys, strict=True)]
    return Discovery(items=items, bad=bad)


def output_relpath(key: str, k: int, suffix: str) -> str:
    """The output path (relative to the output folder) of variant ``k`` of ``key``."""
    stem = os.path.splitext(key)[0]
    return f"{stem}{KEY_SEPARATOR}{k}{suffix}"


def _plain_parts(out: object, relpath: str) -> list[str]:
    """The names in ``relpath``, refused unless each is a plain name (no "", ".", "..", "\\")."""
    parts = relpath.split("/")
    if "\\" in relpath or any(part in ("", ".", "..") for part in parts):
        raise UnsafePathError(
            f"output path {relpath!r} is not a plain relative path inside {out}; refusing it"
        )
    return parts


def check_relative_paths(out: object, relpaths: Iterable[str]) -> None:
    """Refuse any path that is not plain and relative (the check for an object store's folder,
    which has no symbolic links to leave it through)."""
    for relpath in relpaths:
        _plain_parts(out, relpath)


def _refuse_escape(out: Path, relpath: str) -> UnsafePathError:
    return UnsafePathError(
        f"output path {relpath!r} would land outside {out} (through a symbolic link); refusing it"
    )


def safe_output_path(out: Path, relpath: str) -> Path:
    """``out / relpath``, refused if it is absolute, climbs with ``..`` or leaves via a symlink."""
    target = out.joinpath(*_plain_parts(out, relpath))
    if not target.parent.resolve().is_relative_to(out.resolve()):
        raise _refuse_escape(out, relpath)
    return target


def check_output_paths(out: Path, relpaths: Iterable[str]) -> None:
    """``safe_output_path`` for many paths, resolving each distinct folder only once."""
    real_out = out.resolve()
    folders: dict[str, str] = {}
    for relpath in relpaths:
        folders.setdefault("/".join(_plain_parts(out, relpath)[:-1]), relpath)
    for folder, relpath in folders.items():
        if not out.joinpath(folder).resolve().is_relative_to(real_out):
            raise _refuse_escape(out, relpath)
