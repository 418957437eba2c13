"""Augmented batches for training loops, from an array or a folder, in bounded memory.

``AugmentStream`` turns a source of same-shape images into an iterable of ``Batch`` objects
(augmented images, one record per image, and the source index of each, for looking up labels).
It is framework-neutral on purpose: a PyTorch ``IterableDataset`` or a Keras ``PyDataset``
wraps it in a few lines (docs/training-loops.md), and augcore never imports either.

Identity and determinism: output ``v`` of source image ``i`` in epoch ``e`` is the output
``(epoch_seed(e), key_i, k=v)``, where ``epoch_seed(0)`` is ``seed`` itself and later epochs
get seeds hashed from ``(seed, e)``; so each epoch sees fresh augmentations and every record
is reproduced by ``Pipeline.augment(image, seed=record.seed, key=record.key, k=record.k)``.
The epoch's order is a permutation drawn from a generator seeded by ``(seed, epoch)`` alone,
so a run restarted at epoch ``e`` sees exactly the same batches.

Memory: at most ``prefetch`` finished batches wait in a queue while one more is being built;
the producer blocks until the consumer takes one, so the footprint does not grow with the
number of images or epochs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from augcore._deprecation import renamed_keyword, warn_renamed
from augcore.errors import ImageDtypeError, ImageShapeError, StreamOptionError
from augcore.pipeline import Pipeline
from augcore.prefetch import prefetched
from augcore.record import Record
from augcore.seeding import check_seed, mix64_int
from augcore.validation import IMAGE_DTYPES, require_int

# Mixed into the shuffle generator's seed so the batch order never shares random numbers with
# the augmentation parameters derived from the same user seed.
_SHUFFLE_DOMAIN = 0x5348_5546  # "SHUF"
_EPOCH_DOMAIN = 0x4550_4F43_0000_0000  # "EPOC": keeps epoch seeds apart from small user seeds
FOLDER_MODES = ("L", "RGB", "RGBA", None)


class Batch(NamedTuple):
    """One step's worth of augmented images.

    ``images[j]`` was made from source image ``indices[j]`` and is described by ``records[j]``;
    with ``per_image=K`` each source image appears K times in a row (k = 0..K-1), all made
    with the seed ``AugmentStream.epoch_seed(epoch)``.
    """

    images: np.ndarray
    records: Sequence[Record]
    indices: np.ndarray
    epoch: int


class _ArraySource:
    """An (N, H, W[, C]) array, or any sequence of same-shape images read one at a time."""

    def __init__(self, images: Any, keys: Sequence[str] | None) -> None:
        self._images = images
        self._length = len(images)
        self._keys = keys

    def __len__(self) -> int:
        return self._length

    def key(self, index: int) -> str:
        return str(index) if self._keys is None else self._keys[index]

    def keys(self, indices: np.ndarray) -> list[str]:
        positions = indices.tolist()
        if self._keys is None:
            return list(map(str, positions))
        return [self._keys[position] for position in positions]

    def load(self, indices: np.ndarray) -> np.ndarray:
        if isinstance(self._images, np.ndarray):
            return np.asarray(np.take(self._images, indices, axis=0))
        batch = [np.asarray(self._images[int(index)]) for index in indices]
        shapes = {image.shape for image in batch}
        if len(shapes) > 1:
            raise ImageShapeError(
                f"source images must all have one shape to be batched; got {sorted(shapes)} "
                "among indices "
                f"{indices.tolist()[:8]}: resize them first, or give a folder with resize="
            )
        return np.stack(batch)


class _FolderSource:
    """Image files under a folder, found and keyed as ``augcore run`` does (relative paths).

    Files are decoded per batch by ``augcore.imageio`` (EXIF orientation, bomb limits, clear
    errors), then converted to ``mode`` so that grayscale and RGBA files batch with RGB ones.
    """

    def __init__(self, root: Path, resize: tuple[int, int] | None, mode: str | None) -> None:
        from augcore.sources import discover

        if not root.is_dir():
            raise StreamOptionError(f"source folder {str(root)!r} is not an existing folder")
        self._items = discover([root]).items
        if not self._items:
            raise StreamOptionError(f"source folder {str(root)!r} holds no image files")
        self._size = None if resize is None else (resize[1], resize[0])
        self._mode = mode

    def __len__(self) -> int:
        return len(self._items)

    def key(self, index: int) -> str:
        return self._items[index].key

    def keys(self, indices: np.ndarray) -> list[str]:
        return [self._items[position].key for position in indices.tolist()]

    def load(self, indices: np.ndarray) -> np.ndarray:
        from augcore.imageio import read_image

        batch = []
        for index in indices:
            path = self._items[int(index)].path
            image = _converted(read_image(path, size=self._size), self._mode)
            if batch and image.shape != batch[0].shape:
                first = self._items[int(indices[0])].path
                raise ImageShapeError(
                    f"{path} decodes to shape {image.shape} but {first} to {batch[0].shape}: "
                    "pass resize=(height, width) to batch images of different sizes"
                )
            batch.append(image)
        return np.stack(batch)


def _converted(image: np.ndarray, mode: str | None) -> np.ndarray:
    """``image`` (uint8 L, RGB or RGBA as read) in Pillow colour mode ``mode``."""
    current = "L" if image.ndim == 2 else {3: "RGB", 4: "RGBA"}[image.shape[2]]
    if mode is None or mode == current:
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).convert(mode))


class AugmentStream:
    """Yields ``Batch`` objects for ``epochs`` epochs; ``len()`` counts batches over all epochs.

    Args:
        source: an (N, H, W[, C]) uint8/float32 array (a ``np.memmap`` works and is read one
            batch at a time), any sequence of same-shape images (read lazily by index), or a
            folder of image files (decoded per batch).
        pipeline: the chain to apply; default ``Pipeline.default()``.
        seed: the seed of epoch 0, an integer in [0, 2**64); later epochs hash their own.
        batch_size: source images per batch (each gives ``per_image`` outputs).
        epochs: how many passes over the source one iteration makes.
        per_image: outputs per source image in every batch, >= 1 (default 1).
        shuffle: visit the source in a new order each epoch (drawn from ``(seed, epoch)``).
        drop_last: leave out the last, smaller batch of each epoch.
        keys: identity keys of array images (default: their index as a string); folder
            images are keyed by their path relative to the folder.
        resize: ``(height, width)`` every folder image is resized to, so mixed sizes batch.
        mode: the Pillow colour mode folder images are converted to (None keeps each file's).
        threads: threads the warp kernel may use.
        prefetch: batches made ahead in a background thread (0: none, made on demand).
        variants: deprecated name of ``per_image``.

    Yields:
        ``Batch(images, records, indices, epoch)``: ``images[j]`` was made from source image
        ``indices[j]`` (look labels up with it) and is described by ``records[j]``.

    Raises:
        StreamOptionError: a bad option, an empty source or a missing folder.
        ImageShapeError, ImageDtypeError: source images that cannot be batched (raised when
            the batch holding them is made).
        InputImageError: a folder file that cannot be decoded (when its batch is made).

    Example:
        >>> import numpy as np, augcore
        >>> images = np.zeros((10, 8, 8, 3), np.uint8)
        >>> stream = augcore.AugmentStream(images, seed=7, batch_size=4, epochs=2, per_image=2)
        >>> len(stream), stream.batches_per_epoch
        (6, 3)
        >>> batch = stream.batch(0, 0)
        >>> batch.images.shape, batch.indices.tolist()
        ((8, 8, 8, 3), [0, 0, 1, 1, 6, 6, 3, 3])
    """

    def __init__(
        self,
        source: Any,
        pipeline: Pipeline | None = None,
        *,
        seed: int,
        batch_size: int = 32,
        epochs: int = 1,
        per_image: int | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        keys: Sequence[str] | None = None,
        resize: tuple[int, int] | None = None,
        mode: str | None = "RGB",
        threads: int = 1,
        prefetch: int = 2,
        variants: int | None = None,
    ) -> None:
        per_image = renamed_keyword(
            "AugmentStream", ("variants", variants), ("per_image", per_image), 1, StreamOptionError
        )
        check_seed(seed, StreamOptionError)
        require_int("batch_size", batch_size, minimum=1, error=StreamOptionError)
        require_int("epochs", epochs, minimum=1, error=StreamOptionError)
        require_int("per_image", per_image, minimum=1, error=StreamOptionError)
        require_int("threads", threads, minimum=1, error=StreamOptionError)
        require_int("prefetch", prefetch, minimum=0, error=StreamOptionError)
        self.pipeline = Pipeline.default() if pipeline is None else pipeline
        self.seed = seed
        self.batch_size = batch_size
        self.epochs = epochs
        self.per_image = per_image
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.threads = threads
        self.prefetch = prefetch
        self._source = _make_source(source, keys, resize, mode)
        if len(self._source) == 0:
            raise StreamOptionError("the source holds no images; give at least one")
        if drop_last and len(self._source) < batch_size:
            raise StreamOptionError(
                f"drop_last=True with batch_size={batch_size} and only {len(self._source)} "
                "images would yield no batch: lower batch_size or set drop_last=False"
            )

    @property
    def variants(self) -> int:
        """Deprecated name of ``per_image``."""
        warn_renamed("AugmentStream.variants", "AugmentStream.per_image")
        return self.per_image

    @property
    def num_images(self) -> int:
        """Source images per epoch (each yields ``per_image`` outputs)."""
        return len(self._source)

    @property
    def batches_per_epoch(self) -> int:
        rounding = math.floor if self.drop_last else math.ceil
        return int(rounding(len(self._source) / self.batch_size))

    def __len__(self) -> int:
        return self.epochs * self.batches_per_epoch

    def key(self, index: int) -> str:
        """The identity key of source image ``index``."""
        return self._source.key(index)

    def epoch_seed(self, epoch: int) -> int:
        """The seed of epoch ``epoch``'s outputs: ``seed`` itself for epoch 0, then a hash.

        Each epoch is its own set of identities (epoch_seed, key, k), so every epoch sees fresh
        augmentations while epoch 0 equals ``pipeline.augment_batch(images, seed=seed, ...)``.
        """
        require_int("epoch", epoch, minimum=0, error=StreamOptionError)
        if epoch == 0:
            return self.seed
        return mix64_int(self.seed ^ mix64_int(_EPOCH_DOMAIN + epoch))

    def order(self, epoch: int) -> np.ndarray:
        """Source indices in the order epoch ``epoch`` visits them."""
        require_int("epoch", epoch, minimum=0, error=StreamOptionError)
        if not self.shuffle:
            return np.arange(len(self._source))
        generator = np.random.Generator(np.random.PCG64([self.seed, _SHUFFLE_DOMAIN, epoch]))
        return generator.permutation(len(self._source))

    def batch(self, epoch: int, index: int) -> Batch:
        """Batch ``index`` of epoch ``epoch``: random access, the same whenever it is asked for.

        This is what a Keras ``PyDataset.__getitem__`` calls; iteration calls it in order.
        """
        return self._batch_from_order(self.order(epoch), epoch, index)

    def __iter__(self) -> Iterator[Batch]:
        return self.iterate()

    def iterate(self, epoch: int | None = None) -> Iterator[Batch]:
        """All epochs' batches in order, or only those of ``epoch`` (for per-epoch loops)."""
        if epoch is None:
            epochs = range(self.epochs)
        else:
            require_int("epoch", epoch, minimum=0, error=StreamOptionError)
            epochs = range(epoch, epoch + 1)
        if self.prefetch == 0:
            return self._batches(epochs)
        return prefetched(lambda: self._batches(epochs), self.prefetch)

    def _batches(self, epochs: range) -> Iterator[Batch]:
        for epoch in epochs:
            order = self.order(epoch)
            for index in range(self.batches_per_epoch):
                yield self._batch_from_order(order, epoch, index)

    def _batch_from_order(self, order: np.ndarray, epoch: int, index: int) -> Batch:
        if not 0 <= index < self.batches_per_epoch:
            raise IndexError(
                f"batch index {index} is out of range: an epoch has {self.batches_per_epoch}"
            )
        positions = order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self._source.load(positions)
        keys = self._source.keys(positions)
        augmented, records = self.pipeline.augment_batch(
            images,
            seed=self.epoch_seed(epoch),
            keys=keys,
            per_image=self.per_image,
            threads=self.threads,
        )
        return Batch(augmented, records, np.repeat(positions, self.per_image), epoch)


def _make_source(
    source: Any, keys: Sequence[str] | None, resize: tuple[int, int] | None, mode: str | None
) -> _ArraySource | _FolderSource:
    if isinstance(source, (str, os.PathLike)):
        if keys is not None:
            raise StreamOptionError(
                "keys= names array images only; a folder's images are keyed by their path"
            )
        if mode not in FOLDER_MODES:
            raise StreamOptionError(
                f"mode must be one of {FOLDER_MODES} (None keeps each file's own), not {mode!r}"
            )
        return _FolderSource(Path(source), _checked_size(resize), mode)
    if resize is not None:
        raise StreamOptionError("resize= applies to folder sources only; resize arrays yourself")
    if not hasattr(source, "__len__") or not hasattr(source, "__getitem__"):
        raise StreamOptionError(
            f"source must be an image array, a sequence of images or a folder path, "
            f"not {type(source).__name__}"
        )
    if isinstance(source, np.ndarray):
        if source.ndim not in (3, 4):
            raise ImageShapeError(
                f"an array source must be (N, H, W) or (N, H, W, C); got shape {source.shape}"
            )
        if source.dtype not in IMAGE_DTYPES:
            raise ImageDtypeError(
                f"an array source must be uint8 or float32, not {source.dtype}: convert it "
                "with .astype(np.float32) (values keep their range) or to uint8 yourself"
            )
    if keys is not None:
        keys = list(keys)
        if len(keys) != len(source):
            raise StreamOptionError(f"got {len(keys)} keys for {len(source)} images; give one each")
        if len(set(keys)) != len(keys):
            raise StreamOptionError(
                "keys must be unique: two images with one key would get identical augmentations"
            )
    return _ArraySource(source, keys)


def _checked_size(resize: tuple[int, int] | None) -> tuple[int, int] | None:
    if resize is None:
        return None
    if len(resize) != 2 or not all(isinstance(side, int) and side > 0 for side in resize):
        raise StreamOptionError(
            f"resize must be (height, width) in positive pixels, not {resize!r}"
        )
    return (resize[0], resize[1])
