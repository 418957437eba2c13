"""The file-system rules of everything augcore reads and writes for a job.

- **Only regular files are read.** A path is stat'ed before it is opened; a FIFO, socket or
  device is refused by name without being opened (opening a FIFO blocks until a writer comes).
  The open itself is non-blocking and the descriptor is checked again, so a file swapped for a
  FIFO between the two calls cannot hang the process either.
- **Writes are atomic.** Data goes to a hidden temporary file in the target folder, then is
  renamed over the final name, so readers see the old file or the whole new one. Temporary names
  always fit the file system's name limit, whatever the final name's length.
- **Durability is explicit.** ``sync_files`` makes written files and the renames that placed
  them survive a power loss, in one call per batch where the OS allows it (Linux ``syncfs``).
- **Every write is a fault point.** ``fault_point`` names each write, rename, append and sync the
  job makes. With ``AUGCORE_FAULT_AT=N`` in the environment, the N-th fault point a process
  reaches ends that process at once (``os._exit``), half-way through the write for writes of
  data; ``AUGCORE_FAULT_ROLE=main`` or ``worker`` limits that to the run's main process or to
  its pool workers (each counts its own points); ``AUGCORE_FAULT_TRACE=FILE`` appends each
  point's process, role and name to FILE. Tests use these to crash a run at every write it
  makes; nothing else sets them.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import secrets
import stat
from collections.abc import Iterable
from typing import BinaryIO

TEMP_PREFIX = ".augcore-"
TEMP_SUFFIX = ".tmp"
NAME_MAX = 255  # bytes in one file name on the file systems augcore writes to (POSIX minimum 14)
FAULT_EXIT = 86  # the exit status of a process ended at a fault point
_TOKEN_HEX = 12


class NotRegularFileError(OSError):
    """A path names something other than a regular file; callers re-raise it as their error."""


def kind_of(mode: int) -> str:
    """What a stat mode describes, in words for a message."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading in binary mode, only if it is a regular file; never blocks.

    Raises:
        NotRegularFileError: ``path`` is a FIFO, socket, device or folder (named in the message).
        OSError: as ``open`` (no such file, permission denied, a symbolic-link loop...).
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(f"{os.fspath(path)} is {kind_of(mode)}, not a regular file")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):  # swapped after the stat above
            raise NotRegularFileError(f"{os.fspath(path)} is {kind_of(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file (see ``open_regular`` for what is refused)."""
    with open_regular(path) as handle:
        return handle.read()


class NotTextError(ValueError):
    """A file that should be UTF-8 text is not; callers re-raise it as their error."""


def read_text(path: str | os.PathLike[str]) -> str:
    """A regular file's UTF-8 text (a byte-order mark at its start is dropped).

    Raises:
        NotTextError: UTF-16 or other non-UTF-8 bytes, naming the first bad byte's line.
        NotRegularFileError, OSError: as ``open_regular``.
    """
    data = read_regular(path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotTextError("it is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NotTextError(
            f"it is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from None


def explain(error: OSError) -> str:
    """An OS error as a sentence that says what happened and what to do about it."""
    where = f"{error.filename}: " if error.filename else ""
    advice = _ADVICE.get(error.errno or 0)
    text = error.strerror or str(error)
    return f"{where}{text}" + (f"; {advice}" if advice else "")


_ADVICE = {
    errno.ENOSPC: "free some space (or choose another --out) and rerun the same command: "
    "it resumes where it stopped",
    errno.EDQUOT: "your disk quota is used up; free some space and rerun the same command",
    errno.EACCES: "check the permissions of that path, or choose another --out",
    errno.EPERM: "check the permissions of that path, or choose another --out",
    errno.EROFS: "that file system is read-only; choose another --out",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) or use fewer --jobs",
    errno.ENFILE: "the system ran out of file handles; use fewer --jobs and rerun",
    errno.ENAMETOOLONG: "shorten the path or the file name",
    errno.ELOOP: "a symbolic link points back at itself; fix or remove the link",
    errno.EIO: "the device reported an I/O error; check the disk and rerun the same command",
    errno.ENOMEM: "the system ran out of memory; use fewer --jobs or a smaller --size",
}


def name_fits(name: str, limit: int = NAME_MAX) -> bool:
    """True when ``name`` (one path component) fits the file system's name limit."""
    return len(os.fsencode(name)) <= limit


def temporary_name(name: str) -> str:
    """A hidden, unique temporary name for a file to be renamed to ``name``; always fits.

    The final name is kept in it for whoever finds a leftover, cut (at a character boundary)
    so that prefix, name, token and suffix stay within NAME_MAX bytes.
    """
    room = NAME_MAX - len(TEMP_PREFIX) - 1 - _TOKEN_HEX - len(TEMP_SUFFIX)
    kept = os.fsencode(name)[:room].decode("utf-8", "ignore") if not name_fits(name, room) else name
    return f"{TEMP_PREFIX}{kept}.{secrets.token_hex(_TOKEN_HEX // 2)}{TEMP_SUFFIX}"


def write_atomic(path: str | os.PathLike[str], data: bytes, *, durable: bool = False) -> None:
    """Place ``data`` at ``path`` all at once: readers see the old file or the whole new one.

    The temporary file lives in the target folder (same file system, so the rename is atomic).
    ``durable`` also syncs the data before the rename and the folder after it (use it for single
    files such as a manifest header; outputs are synced in batches with ``sync_files``).
    """
    folder, name = os.path.split(os.fspath(path))
    temporary = os.path.join(folder, temporary_name(name))
    fault_point("create")
    # os.open with 0o666 lets the umask decide permissions, as for any file the user creates.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            write_all(descriptor, data, "write")
            if durable:
                fault_point("fsync")
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
        fault_point("rename")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if durable:
        sync_folder(folder or ".")


def write_all(descriptor: int, data: bytes, point: str) -> None:
    """``os.write`` until all of ``data`` is written (fault point ``point``: half, then exit)."""
    if _fault_here(point):
        os.write(descriptor, data[: len(data) // 2])
        os._exit(FAULT_EXIT)
    written = os.write(descriptor, data)  # no buffered file object: one call, usually
    while written < len(data):
        written += os.write(descriptor, data[written:])


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Make the names in ``folder`` (creations, renames, deletions) survive a power loss."""
    fault_point("fsync-folder")
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform that cannot open folders (Windows): nothing to sync there
        return
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):  # folders that cannot be synced
            raise
    finally:
        os.close(descriptor)


@functools.lru_cache(maxsize=1)
def _syncfs() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """Linux ``syncfs(fd)``: one call flushes one file system (data, then metadata)."""
    name = ctypes.util.find_library("c")
    try:
        function = ctypes.CDLL(name, use_errno=True).syncfs
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_int]
    return function


def sync_files(root: str | os.PathLike[str], paths: Iterable[str]) -> None:
    """Make the files at ``paths`` (below ``root``) and their names survive a power loss.

    One ``syncfs`` of ``root``'s file system where Linux offers it: it writes every dirty page
    and the journal once, however many files there are. Elsewhere each file and each distinct
    folder is fsync'ed.
    """
    fault_point("sync")
    syncfs = _syncfs()
    if syncfs is not None:
        descriptor = os.open(root, os.O_RDONLY)
        try:
            if syncfs(descriptor) == 0:
                return
        finally:
            os.close(descriptor)
    folders = set()
    for path in paths:
        full = os.path.join(root, path)
        descriptor = os.open(full, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        folders.add(os.path.dirname(full))
    folders.add(os.fspath(root))  # names placed directly in it (a manifest) count too
    for folder in sorted(folders):
        sync_folder(folder)


# --- fault points (tests) ------------------------------------------------------------------------
_reached = [0]
_role = ["main"]


def become_worker() -> None:
    """Mark this process as a pool worker for fault points; it counts its own from zero."""
    _role[0] = "worker"
    _reached[0] = 0


def _fault_here(point: str) -> bool:
    """Count this fault point; True when the process must end here (``AUGCORE_FAULT_AT``)."""
    trace = os.environ.get("AUGCORE_FAULT_TRACE")
    at = os.environ.get("AUGCORE_FAULT_AT")
    if trace is None and at is None:
        return False
    role = os.environ.get("AUGCORE_FAULT_ROLE")
    if role is not None and role != _role[0]:
        return False
    _reached[0] += 1
    if trace is not None:
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {_role[0]} {point}\n")
    return at is not None and _reached[0] == int(at)


def fault_point(point: str) -> None:
    """Mark a write the job is about to make; ends the process here when a test asks."""
    if _fault_here(point):
        os._exit(FAULT_EXIT)
