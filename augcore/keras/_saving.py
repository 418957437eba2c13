"""``save_to_dir`` without Keras's collisions: deterministic names, no overwrite, a manifest.

Keras names a saved image ``{prefix}_{index}_{np.random.randint(1e4)}.{format}`` and never checks
the folder, so repeated ``flow()`` calls silently overwrite each other (keras#8249). Here the
last field is a serial number instead: one more than the largest serial already used by a file
``{prefix}_{index}_{serial}.*`` in the folder, counted per generator and prefix. A name is only
ever taken by an exclusive, atomic create; if another writer got there first the folder is
rescanned and the next free serial used. Each saved image gets one line in
``keras_manifest.jsonl`` in the same folder, saying what was applied to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from augcore.errors import ConfigError
from augcore.keras._image import array_to_img
from augcore.manifest import ManifestWriter

MANIFEST_NAME = "keras_manifest.jsonl"
MANIFEST_HEADER = {"writer": "augcore.keras", "purpose": "ImageDataGenerator save_to_dir"}


def pil_format(save_format: str) -> str:
    """The Pillow format name for a Keras ``save_format`` such as "png", "jpg" or "tif"."""
    extension = "." + str(save_format).lower()
    formats = Image.registered_extensions()
    if extension not in formats:
        raise ConfigError(
            f"save_format={save_format!r} is not an image format Pillow can write; use e.g. "
            '"png", "jpeg" or "tif".'
        )
    return formats[extension]


def json_ready(value: Any) -> Any:
    """Plain JSON types for numpy scalars/arrays inside params and configs."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class SerialNames:
    """Hands out collision-free serials per (folder, prefix); one instance per generator."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a generator sent to a worker process) without the lock; counters restart
        from a folder scan there, which the exclusive create keeps collision-free."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._next = {}
        self._lock = threading.Lock()

    def reserve(self, folder: Path, prefix: str) -> int:
        key = (str(folder.resolve()), prefix)
        with self._lock:
            serial = self._next.get(key)
            if serial is None:
                serial = self._scan(folder, prefix)
            self._next[key] = serial + 1
            return serial

    def rescan(self, folder: Path, prefix: str) -> None:
        """Forget the cached counter: someone else wrote into the folder."""
        with self._lock:
            self._next.pop((str(folder.resolve()), prefix), None)

    @staticmethod
    def _scan(folder: Path, prefix: str) -> int:
        pattern = re.compile(re.escape(prefix) + r"_\d+_(\d+)\.[^.]+\Z")
        used = [int(m.group(1)) for name in os.listdir(folder) if (m := pattern.match(name))]
        return max(used, default=-1) + 1


def _write_exclusive(img: Image.Image, target: Path, file_format: str) -> bool:
    """Atomically create ``target`` with the image; False (nothing written) if it exists."""
    fd, temp_name = tempfile.mkstemp(prefix=".augcore-tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            img.save(handle, format=file_format)
        try:
            os.link(temp_name, target)  # fails if the name is taken: never overwrites
        except FileExistsError:
            return False
        except OSError:  # a filesystem without hard links: claim the name, then replace it
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return False
            os.replace(temp_name, target)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)


class SaveToDir:
    """What an iterator needs to save its batches: folder, prefix, format and the manifest."""

    def __init__(
        self, names: SerialNames, folder: str | os.PathLike[str], prefix: str, save_format: str
    ) -> None:
        self.names = names
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ConfigError(
                f"save_to_dir={os.fspath(folder)!r} is not an existing folder; create it first."
            )
        self.prefix = str(prefix)
        self.extension = str(save_format)
        self.file_format = pil_format(save_format)

    def save(self, image: np.ndarray, data_format: str, index: int, entry: dict[str, Any]) -> str:
        """Save one image (min-max stretched, as Keras saves it), record it, return its name."""
        img = array_to_img(image, data_format, scale=True)
        while True:
            serial = self.names.reserve(self.folder, self.prefix)
            name = f"{self.prefix}_{index}_{serial}.{self.extension}"
            if _write_exclusive(img, self.folder / name, self.file_format):
                break
            self.names.rescan(self.folder, self.prefix)
        with ManifestWriter(self.folder / MANIFEST_NAME, MANIFEST_HEADER) as manifest:
            manifest.write(json_ready({"file": name, "source_index": index, **entry}))
        return name
