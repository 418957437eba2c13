"""Sources and output folders named by fsspec URLs (``s3://``, ``gcs://``, ``memory://``...).

A local path, and a ``file://`` URL (turned into its local path by ``local_path``), never comes
here: the job's local code (augcore.sources, augcore.imageio, augcore.job.folder) handles it.
Everything else goes through fsspec, imported only inside the functions that use it.

Rules (docs/scaling.md, "What is atomic where"):

- an output is published with ONE put of its whole bytes (``RemoteFolder.put``): object stores
  make an object visible under its name only once the put completed, so a reader never sees a
  partial object, and a put repeated by a retried task writes the same bytes again;
- outputs are accepted only on filesystems where that holds (``ATOMIC_PUT_PROTOCOLS``); a
  filesystem without atomic puts (sftp, ftp...) is refused as an output, never used unsafely;
- nothing else is written to an output folder but outputs, the manifest (augcore.job.remote)
  and the run's lock object.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from augcore.errors import OutputConflictError, StorageError

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
LOCAL_PROTOCOLS = frozenset({"file", "local"})
# Filesystems where one put makes an object appear whole or not at all.
ATOMIC_PUT_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"})
LOCK_NAME = ".augcore-lock"


def protocol_of(path: object) -> str | None:
    """The URL scheme of ``path`` (``"s3"``), or None for a plain local path."""
    match = _URL.match(path) if isinstance(path, str) else None
    return match.group(1).lower() if match else None


def is_url(path: object) -> bool:
    """True for an fsspec URL this module handles (any scheme but ``file://``/``local://``)."""
    protocol = protocol_of(path)
    return protocol is not None and protocol not in LOCAL_PROTOCOLS


def local_path(path: Any) -> Any:
    """``file:///data/x`` -> ``/data/x``; anything else is returned unchanged."""
    if protocol_of(path) in LOCAL_PROTOCOLS:
        return path.split("://", 1)[1] or "/"
    return path


class RemotePath(str):
    """An input named by an fsspec URL: a ``str`` (it prints, hashes and pickles as written)
    with the two ``Path`` members the job uses."""

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self)[1]

    @property
    def name(self) -> str:
        return posixpath.basename(self)


def filesystem(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem serving ``url`` and the path inside it.

    Raises:
        StorageError: fsspec (or the package of the URL's protocol, e.g. s3fs) is missing, or
            the protocol is unknown.
    """
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise StorageError(
            f"{url}: reading or writing URLs needs fsspec; install it with "
            'pip install "augcore[dask]" (and the filesystem\'s package, e.g. s3fs or gcsfs)'
        ) from None
    try:
        return url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:
        raise StorageError(f"{url}: the package for this protocol is missing ({exc})") from None
    except ValueError as exc:
        raise StorageError(f"{url}: not a URL fsspec knows ({exc})") from None


def read_bytes(url: str, storage_options: dict[str, Any] | None = None) -> bytes:
    """The whole content of the object at ``url`` (FileNotFoundError if there is none)."""
    fs, path = filesystem(url, storage_options)
    return fs.cat_file(path)


def _has_image_extension(name: str, extensions: frozenset[str]) -> bool:
    return posixpath.splitext(name)[1].lower() in extensions


def classify(url: str, storage_options: dict[str, Any] | None) -> str | None:
    """ "dir", "file", or None when nothing is at ``url``."""
    fs, path = filesystem(url, storage_options)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    return "dir" if info.get("type") == "directory" else "file"


def walk(
    url: str,
    extensions: frozenset[str],
    storage_options: dict[str, Any] | None,
    skip: str | None = None,
) -> list[tuple[RemotePath, str]]:
    """The images below the folder ``url``, as (URL, key) sorted by key; hidden names (any part
    starting with ``.``) and everything below ``skip`` (the output folder's URL) left out."""
    fs, root = filesystem(url, storage_options)
    root = root.rstrip("/")
    prefix = url.rstrip("/")
    skip_prefix = None if skip is None else skip.rstrip("/") + "/"
    found = []
    for path in fs.find(root):
        rel = path[len(root) :].lstrip("/")
        full = f"{prefix}/{rel}"
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        if skip_prefix is not None and full.startswith(skip_prefix):
            continue
        if _has_image_extension(rel, extensions):
            found.append((RemotePath(full), rel))
    return sorted(found, key=lambda pair: pair[1])


class RemoteFolder:
    """An output folder on an object store: outputs are put once each, whole.

    Raises:
        StorageError: the filesystem cannot publish an object atomically (see module doc).
    """

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        protocol = protocol_of(url)
        if protocol not in ATOMIC_PUT_PROTOCOLS:
            raise StorageError(
                f"{url}: outputs cannot be published atomically on {protocol}:// (an object "
                f"may be seen half-written); write to a local folder or to one of "
                f"{', '.join(sorted(p + '://' for p in ATOMIC_PUT_PROTOCOLS))}"
            )
        self.url = url.rstrip("/")
        self.storage_options = storage_options or {}
        self.fs, root = filesystem(self.url, self.storage_options)
        self.root = root.rstrip("/")

    def __str__(self) -> str:
        return self.url

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def url_of(self, rel: str) -> str:
        return f"{self.url}/{rel}"

    def exists(self) -> bool:
        return bool(self.fs.exists(self.root))

    def is_dir(self) -> bool:
        return bool(self.fs.isdir(self.root))

    def files(self) -> set[str]:
        """Every object below the folder, as paths relative to it (one listing)."""
        if not self.fs.exists(self.root):
            return set()
        start = len(self.root) + 1
        return {path[start:] for path in self.fs.find(self.root)}

    def check(self, rel: str) -> None:
        """Refuse ``rel`` unless it is a plain relative path (UnsafePathError)."""
        from augcore.sources import check_relative_paths

        check_relative_paths(self.url, [rel])

    def is_file(self, rel: str) -> bool:
        return bool(self.fs.isfile(self.path(rel)))

    def read(self, rel: str) -> bytes:
        return self.fs.cat_file(self.path(rel))

    def sha256(self, rel: str) -> str:
        return hashlib.sha256(self.read(rel)).hexdigest()

    def put(self, rel: str, data: bytes) -> None:
        """Publish ``data`` as the object ``rel``: one put, visible whole or not at all."""
        self.fs.pipe_file(self.path(rel), data)

    def delete(self, rel: str) -> None:
        with suppress(FileNotFoundError):
            self.fs.rm_file(self.path(rel))

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for one run: the lock object is created only if it does not exist
        (an exclusive create: conditional put on S3, ``x`` mode on the memory filesystem) and
        deleted when the run ends. A run killed by SIGKILL leaves it behind (see the message)."""
        lock = self.path(LOCK_NAME)
        stamp = f"host={os.uname().nodename} pid={os.getpid()}\n".encode()
        try:
            with self.fs.open(lock, "xb") as handle:
                handle.write(stamp)
        except FileExistsError:
            raise OutputConflictError(
                f"{self.url}: another augcore run holds this folder ({self.url_of(LOCK_NAME)} "
                "exists); wait for it to finish, or delete that object if no run is active "
                "(a run killed outright leaves it behind)"
            ) from None
        except (NotImplementedError, ValueError):
            # This filesystem has no exclusive create: runs into it are not locked (documented).
            stamp = b""
        try:
            yield
        finally:
            if stamp:
                self.delete(LOCK_NAME)
