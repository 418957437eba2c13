"""``save_to_dir`` without Keras's collisions: deterministic names, no overwrite, a manifest.

Keras names a saved image ``{prefix}_{index}_{np.random.randint(1e4)}.{format}`` and never checks
the folder, so repeated ``flow()`` calls silently overwrite each other (keras#8249). Here the
last field is a serial number instead: one more than the largest serial already used by a file
``{prefix}_{index}_{serial}.*`` in the folder, counted per generator and prefix. A name is only
ever taken by an exclusive create (O_EXCL); if another writer got there first the folder is
rescanned and the next free serial used. Each saved image gets one line in
``keras_manifest.jsonl`` in the same folder, saying what was applied to it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
import weakref
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from PIL import Image

from augcore.errors import ConfigError
from augcore.keras._errors import FolderNotFoundError
from augcore.keras._image import array_to_img
from augcore.manifest import ManifestWriter

MANIFEST_NAME = "keras_manifest.jsonl"
MANIFEST_HEADER = MappingProxyType(
    {"writer": "augcore.keras", "purpose": "ImageDataGenerator save_to_dir"}
)


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


class SaveLedger:
    """Per generator: the next free serial per (folder, prefix), and one open manifest per folder
    (opened on the first save there, closed when the generator goes away)."""

    def __init__(self) -> None:
        self._setup()

    def _setup(self) -> None:
        self._next: dict[tuple[str, str], int] = {}
        self._manifests: dict[str, ManifestWriter] = {}
        self._lock = threading.Lock()
        weakref.finalize(self, _close_manifests, self._manifests)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a generator sent to a worker process) without locks or open files; the
        counters restart from a folder scan there, and the exclusive create keeps names unique."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup()

    def reserve(self, folder: str, prefix: str) -> int:
        with self._lock:
            serial = self._next.get((folder, prefix))
            if serial is None:
                serial = _first_free_serial(folder, prefix)
            self._next[folder, prefix] = serial + 1
            return serial

    def skip_past(self, folder: str, prefix: str, taken: int) -> None:
        """Someone else wrote into the folder: continue after both their files and ``taken``."""
        with self._lock:
            self._next[folder, prefix] = max(_first_free_serial(folder, prefix), taken + 1)

    def record(self, folder: str, entry: dict[str, Any]) -> None:
        """Append one entry to the folder's manifest (flushed at once, so a crash loses none)."""
        with self._lock:
            manifest = self._manifests.get(folder)
            if manifest is None:
                manifest = ManifestWriter(Path(folder) / MANIFEST_NAME, dict(MANIFEST_HEADER))
                manifest.open()
                self._manifests[folder] = manifest
            manifest.write(entry)


def _close_manifests(manifests: dict[str, ManifestWriter]) -> None:
    for manifest in manifests.values():
        manifest.close()


def _first_free_serial(folder: str, prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"_\d+_(\d+)\.[^.]+\Z")
    used = [int(m.group(1)) for name in os.listdir(folder) if (m := pattern.match(name))]
    return max(used, default=-1) + 1


def _write_exclusive(img: Image.Image, target: Path, file_format: str) -> bool:
    """Create ``target`` with the image, exclusively; False (nothing written) if it exists.

    Written in place, as Keras writes: a temporary file and a rename would triple the directory
    operations, which are what saving costs in a folder of thousands of images. If saving fails
    the partial file is removed; only a killed process can leave a truncated last image.
    """
    try:
        handle = open(target, "xb")  # noqa: SIM115 - closed below; O_EXCL: never overwrites
    except FileExistsError:
        return False
    try:
        with handle:
            img.save(handle, format=file_format)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        raise
    return True


class SaveToDir:
    """What an iterator needs to save its batches: folder, prefix, format and the manifest."""

    def __init__(
        self, ledger: SaveLedger, folder: str | os.PathLike[str], prefix: str, save_format: str
    ) -> None:
        self.ledger = ledger
        if not os.path.isdir(folder):
            # Keras fails at the first save with the OSError of opening a file in the folder;
            # here the iterator is refused at once, with the same exception class.
            raise FolderNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), folder)
        self.folder = str(Path(folder).resolve())
        self.prefix = str(prefix)
        if os.sep in self.prefix or "/" in self.prefix:
            raise ConfigError(
                f"save_prefix={self.prefix!r} contains a path separator; put the folder in "
                "save_to_dir and keep save_prefix a plain name."
            )
        self.extension = str(save_format)
        self.file_format = pil_format(save_format)

    def save(self, image: np.ndarray, data_format: str, index: int, entry: dict[str, Any]) -> str:
        """Save one image (min-max stretched, as Keras saves it), record it with ``entry``
        (plain JSON data), return its name."""
        img = array_to_img(image, data_format, scale=True)
        while True:
            serial = self.ledger.reserve(self.folder, self.prefix)
            name = f"{self.prefix}_{index}_{serial}.{self.extension}"
            if _write_exclusive(img, Path(self.folder, name), self.file_format):
                break
            self.ledger.skip_past(self.folder, self.prefix, serial)
        self.ledger.record(self.folder, {"file": name, "source_index": index, **entry})
        return name
