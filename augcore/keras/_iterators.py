"""Keras's batch iterators: the ``Iterator`` base and ``flow``'s ``NumpyArrayIterator``.

Batches, shuffling, labels, sample weights, subsets and error messages follow Keras 3's legacy
iterators (``keras/src/legacy/preprocessing/image.py``), including their subclassing hook
``_get_batches_of_transformed_samples(index_array)``. Where Keras reseeds the global numpy RNG
with ``seed + total_batches_seen`` before each batch, these iterators make
``np.random.RandomState(seed + total_batches_seen)`` for that batch and install it for the
thread building the batch (``augcore.keras._random``), so a seeded iterator yields Keras's
batches without touching global state and stays deterministic under threads. Unseeded iterators
draw from their generator's own RandomState.

While Keras is imported, every iterator is also a Keras 3 ``PyDataset``
(``augcore.keras._pydataset``), so ``model.fit(datagen.flow(x, y))`` works. ``save_to_dir``
names differ from Keras's on purpose: see ``augcore.keras._saving``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from augcore.errors import BatchLengthError, ConfigError, ImageShapeError
from augcore.keras._errors import BatchIndexError
from augcore.keras._pydataset import keras_py_dataset, with_py_dataset
from augcore.keras._random import BatchDraw, current_draw, drawing_from
from augcore.keras._saving import SaveLedger, SaveToDir, json_ready

if TYPE_CHECKING:
    from augcore.keras._generator import ImageDataGenerator

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


class Iterator:
    """Index bookkeeping shared by all iterators; subclasses build the batches.

    Subclasses set ``image_data_generator`` (and their data) before calling ``__init__``.
    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are Keras's ``PyDataset``
    options, used by ``model.fit``.
    """

    white_list_formats = WHITE_LIST_FORMATS
    image_data_generator: ImageDataGenerator | None = None
    saver: SaveToDir | None = None
    data_format: str = "channels_last"
    dtype: Any = "float32"

    def __new__(cls, *args: Any, **kwargs: Any) -> Iterator:
        return super().__new__(with_py_dataset(cls))

    def __init__(
        self,
        n: int,
        batch_size: int,
        shuffle: bool,
        seed: int | None,
        *,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        # PyDataset.__init__'s attributes, set here because PyDataset may not be a base class.
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array: np.ndarray | None = None
        generator = self.image_data_generator
        self._rng = np.random.RandomState() if generator is None else generator.random_state
        self._next_draw = BatchDraw(self._rng, None)
        self.index_generator = self._flow_index()

    def _batch_rng(self) -> np.random.RandomState:
        """Where Keras calls np.random.seed(seed + total_batches_seen): a fresh RandomState."""
        if self.seed is not None:
            self._rng = np.random.RandomState(self.seed + self.total_batches_seen)
        return self._rng

    def _set_index_array(self) -> None:
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = self._rng.permutation(self.n)

    def __getitem__(self, idx: int) -> Any:
        if idx >= len(self):
            raise BatchIndexError(
                f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}"
            )
        with self.lock:
            draw = BatchDraw(self._batch_rng(), self.total_batches_seen)
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array()
            index_array = self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._build(index_array, draw)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def __repr__(self) -> str:
        # Keras's fit puts this in its "Unrecognized data type: x=..." error.
        text = f"<{type(self).__name__}: {self.n} samples, batch_size={self.batch_size}"
        py_dataset = keras_py_dataset()
        if py_dataset is not None and not isinstance(self, py_dataset):
            text += (
                "; made before Keras was imported, so not a keras.utils.PyDataset: make it "
                "after `import keras` to pass it to model.fit"
            )
        return text + ">"

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def reset(self) -> None:
        self.batch_index = 0

    def _flow_index(self) -> Generator[np.ndarray, None, None]:
        """Keras's endless index generator; the batch's stream waits in ``_next_draw``."""
        self.reset()
        while True:
            rng = self._batch_rng()
            if self.batch_index == 0:
                self._set_index_array()
            current_index = 0 if self.n == 0 else (self.batch_index * self.batch_size) % self.n
            if self.n > current_index + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self._next_draw = BatchDraw(rng, self.total_batches_seen)
            self.total_batches_seen += 1
            yield self.index_array[current_index : current_index + self.batch_size]

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        with self.lock:
            index_array = next(self.index_generator)
            draw = self._next_draw
        # The batch is built outside the lock, as in Keras, so threads can build in parallel.
        return self._build(index_array, draw)

    def next(self) -> Any:
        """The next batch: Keras 2 and tf-keras spell ``next(iterator)`` this way."""
        return self.__next__()

    def _build(self, index_array: np.ndarray, draw: BatchDraw) -> Any:
        with drawing_from(draw.rng, draw.batch_number):
            return self._get_batches_of_transformed_samples(index_array)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        """Build the batch of the samples in ``index_array`` (override in subclasses).

        Random draws made here, directly or through the generator, come from this batch's
        stream (``augcore.keras._random.current_rng``), as Keras's come from its reseeded RNG.
        """
        raise NotImplementedError

    def _transform_batch(
        self, images: list[np.ndarray], image_shape: tuple[int, ...], index_array: np.ndarray
    ) -> np.ndarray:
        """Augment and standardize each image, in Keras's draw order; save them if asked."""
        generator = self.image_data_generator
        batch_x = np.zeros((len(images), *image_shape), dtype=self.dtype)
        applied: list[dict[str, Any]] = []
        for i, x in enumerate(images):
            if generator is not None:
                params = generator.get_random_transform(x.shape)
                applied.append(params)
                x = generator.standardize(generator.apply_transform(x, params))
            batch_x[i] = x
        if self.saver is not None:
            draw = current_draw()
            for i, j in enumerate(index_array):
                entry: dict[str, Any] = {
                    "source": self._source_name(int(j)),
                    "flow_seed": self.seed,
                    "batch": None if draw is None else draw.batch_number,
                }
                if generator is not None:
                    matrix = generator.pull_matrix(images[i].shape, applied[i])
                    entry["params"] = json_ready(applied[i])
                    entry["matrix"] = None if matrix is None else matrix.tolist()
                    entry["generator"] = generator.describe()
                self.saver.save(batch_x[i], self.data_format, int(j), entry)
        return batch_x

    def _source_name(self, index: int) -> str | None:
        return None

    def _make_saver(self, save_to_dir: Any, save_prefix: str, save_format: str) -> None:
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.saver = None
        if save_to_dir:
            generator = self.image_data_generator
            ledger = SaveLedger() if generator is None else generator.save_ledger
            self.saver = SaveToDir(ledger, save_to_dir, save_prefix, save_format)


def check_subset(subset: str | None, spaced: bool = True) -> None:
    """Keras's subset check (its message lacks a space in the file iterators)."""
    if subset is not None and subset not in {"training", "validation"}:
        separator = "; " if spaced else ";"
        period = "." if spaced else ""
        raise ConfigError(
            f'Invalid subset name: {subset}{separator}expected "training" or "validation"{period}'
        )


class NumpyArrayIterator(Iterator):
    """Batches from in-memory arrays: ``x`` (or ``(x, misc)``), optional ``y`` and weights."""

    def __init__(
        self,
        x: Any,
        y: Any,
        image_data_generator: ImageDataGenerator,
        batch_size: int = 32,
        shuffle: bool = False,
        sample_weight: Any = None,
        seed: int | None = None,
        data_format: str = "channels_last",
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        ignore_class_split: bool = False,
        dtype: Any = "float32",
    ) -> None:
        self.dtype = dtype
        x, x_misc = _split_misc(x)
        if y is not None and len(x) != len(y):
            raise BatchLengthError(
                "`x` (images tensor) and `y` (labels) should have the same length. "
                f"Found: x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}"
            )
        if sample_weight is not None and len(x) != len(sample_weight):
            raise BatchLengthError(
                "`x` (images tensor) and `sample_weight` should have the same length. "
                f"Found: x.shape = {np.asarray(x).shape}, "
                f"sample_weight.shape = {np.asarray(sample_weight).shape}"
            )
        if subset is not None:
            check_subset(subset)
            split_idx = int(len(x) * image_data_generator._validation_split)
            if (
                y is not None
                and not ignore_class_split
                and not np.array_equal(np.unique(y[:split_idx]), np.unique(y[split_idx:]))
            ):
                raise ConfigError(
                    "Training and validation subsets have different number of classes after "
                    "the split. If your numpy arrays are sorted by the label, you might want to "
                    "shuffle them. (Or pass ignore_class_split=True to split them as they are.)"
                )
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            x_misc = [np.asarray(xx[part]) for xx in x_misc]
            if y is not None:
                y = y[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ImageShapeError(
                "Input data in `NumpyArrayIterator` should have rank 4. You passed an array "
                f"with shape {self.x.shape}"
            )
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn(
                "NumpyArrayIterator is set to use the data format convention "
                f'"{data_format}" (channels on axis {channels_axis}), i.e. expected either 1, 3, '
                f"or 4 channels on axis {channels_axis}. However, it was passed an array with "
                f"shape {self.x.shape} ({self.x.shape[channels_axis]} channels).",
                stacklevel=3,
            )
        self.y = np.asarray(y) if y is not None else None
        self.sample_weight = np.asarray(sample_weight) if sample_weight is not None else None
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self._make_saver(save_to_dir, save_prefix, save_format)
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        images = [self.x[j].astype(self.dtype) for j in index_array]
        batch_x = self._transform_batch(images, self.x.shape[1:], index_array)
        batch_x_miscs = [xx[index_array] for xx in self.x_misc]
        output: tuple[Any, ...] = (batch_x if not batch_x_miscs else [batch_x, *batch_x_miscs],)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output


def _split_misc(x: Any) -> tuple[Any, list[np.ndarray]]:
    """``flow((x, misc))``: the images and the extra inputs, which must be as long."""
    if not isinstance(x, (tuple, list)):
        return x, []
    x_misc = [np.asarray(x[1])] if not isinstance(x[1], list) else [np.asarray(xx) for xx in x[1]]
    images = x[0]
    for xx in x_misc:
        if len(images) != len(xx):
            raise BatchLengthError(
                "All of the arrays in `x` should have the same length. Found a pair with: "
                f"len(x[0]) = {len(images)}, len(x[?]) = {len(xx)}"
            )
    return images, x_misc
