"""Keras's batch iterators (``flow``, ``flow_from_directory``, ``flow_from_dataframe``).

Batches, shuffling, labels, sample weights and subsets follow Keras 3's legacy iterators. Where
Keras reseeds the global numpy RNG with ``seed + total_batches_seen`` before each batch, these
iterators create ``np.random.RandomState(seed + total_batches_seen)`` for that batch and draw the
shuffle and every image's parameters from it, so a seeded iterator yields Keras's batches
without touching global state (and stays deterministic under threads). Unseeded iterators draw
from their generator's own RandomState. ``save_to_dir`` names differ on purpose: see
``augcore.keras._saving``.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Generator
from collections.abc import Iterator as IteratorABC
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from augcore.errors import BatchLengthError, ConfigError, ImageShapeError
from augcore.keras._image import img_to_array, load_img
from augcore.keras._saving import SaveLedger, SaveToDir, json_ready

if TYPE_CHECKING:
    from augcore.keras._generator import ImageDataGenerator

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


class BatchDraw(NamedTuple):
    """Where one batch's random draws come from, and which batch of the iterator's life it is."""

    rng: np.random.RandomState
    batch_number: int


class Iterator(IteratorABC):
    """Index bookkeeping shared by all iterators; subclasses build the batches.

    Subclasses set ``image_data_generator`` (and their data) before calling ``__init__``.
    """

    white_list_formats = WHITE_LIST_FORMATS
    image_data_generator: ImageDataGenerator | None
    saver: SaveToDir | None
    data_format: str
    dtype: Any

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None) -> None:
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array: np.ndarray | None = None
        generator = self.image_data_generator
        self._rng = generator.random_state if generator else np.random.RandomState()
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
            raise IndexError(f"asked for batch {idx}, but this iterator has {len(self)} batches")
        with self.lock:
            rng = self._batch_rng()
            batch_number = self.total_batches_seen
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array()
            index_array = self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(index_array, BatchDraw(rng, batch_number))

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def reset(self) -> None:
        self.batch_index = 0

    def _flow_index(self) -> Generator[tuple[np.ndarray, BatchDraw], None, None]:
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
            draw = BatchDraw(rng, self.total_batches_seen)
            self.total_batches_seen += 1
            yield self.index_array[current_index : current_index + self.batch_size], draw

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        with self.lock:
            index_array, draw = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array, draw)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray, draw: BatchDraw) -> Any:
        raise NotImplementedError

    def _transform_batch(
        self,
        images: list[np.ndarray],
        image_shape: tuple[int, ...],
        index_array: np.ndarray,
        draw: BatchDraw,
    ) -> np.ndarray:
        """Augment and standardize each image, in Keras's draw order; save them if asked."""
        generator = self.image_data_generator
        batch_x = np.zeros((len(images), *image_shape), dtype=self.dtype)
        applied: list[dict[str, Any]] = []
        for i, x in enumerate(images):
            if generator:
                params = generator.draw_for_iterator(x.shape, draw.rng)
                applied.append(params)
                x = generator.standardize(generator.apply_transform(x, params))
            batch_x[i] = x
        if self.saver is not None:
            for i, j in enumerate(index_array):
                entry: dict[str, Any] = {
                    "source": self._source_name(int(j)),
                    "flow_seed": self.seed,
                    "batch": draw.batch_number,
                }
                if generator:
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
            ledger = generator.save_ledger if generator else SaveLedger()
            self.saver = SaveToDir(ledger, save_to_dir, save_prefix, save_format)


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
        if isinstance(x, (tuple, list)):
            x_misc = (
                [np.asarray(x[1])]
                if not isinstance(x[1], list)
                else [np.asarray(xx) for xx in x[1]]
            )
            x = x[0]
            for xx in x_misc:
                if len(x) != len(xx):
                    raise BatchLengthError(
                        "all arrays in x must have the same length; found "
                        f"len(x[0]) = {len(x)}, len(x[?]) = {len(xx)}"
                    )
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise BatchLengthError(
                "x (images) and y (labels) must have the same length; found x.shape = "
                f"{np.asarray(x).shape}, y.shape = {np.asarray(y).shape}"
            )
        if sample_weight is not None and len(x) != len(sample_weight):
            raise BatchLengthError(
                "x (images) and sample_weight must have the same length; found x.shape = "
                f"{np.asarray(x).shape}, sample_weight.shape = {np.asarray(sample_weight).shape}"
            )
        if subset is not None:
            if subset not in {"training", "validation"}:
                raise ConfigError(f'subset must be "training" or "validation", got {subset!r}.')
            split_idx = int(len(x) * image_data_generator._validation_split)
            if (
                y is not None
                and not ignore_class_split
                and not np.array_equal(np.unique(y[:split_idx]), np.unique(y[split_idx:]))
            ):
                raise ConfigError(
                    "the training and validation subsets have different classes after the "
                    "split; if your arrays are sorted by label, shuffle them first (or pass "
                    "ignore_class_split=True)."
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
                f"flow() needs x of rank 4 (a batch of images), got shape {self.x.shape}."
            )
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn(
                f'NumpyArrayIterator uses data format "{data_format}" (channels on axis '
                f"{channels_axis}), i.e. expects 1, 3 or 4 channels on that axis, but x has "
                f"shape {self.x.shape} ({self.x.shape[channels_axis]} channels).",
                stacklevel=3,
            )
        self.y = np.asarray(y) if y is not None else None
        self.sample_weight = np.asarray(sample_weight) if sample_weight is not None else None
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self._make_saver(save_to_dir, save_prefix, save_format)
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray, draw: BatchDraw) -> Any:
        images = [self.x[j].astype(self.dtype) for j in index_array]
        batch_x = self._transform_batch(images, self.x.shape[1:], index_array, draw)
        batch_x_miscs = [xx[index_array] for xx in self.x_misc]
        output: tuple[Any, ...] = (batch_x if not batch_x_miscs else [batch_x, *batch_x_miscs],)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output


def _iter_valid_files(
    directory: str, white_list_formats: tuple[str, ...], follow_links: bool
) -> Generator[tuple[str, str], None, None]:
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda x: x[0]):
        for fname in sorted(files):
            if fname.lower().endswith(".tiff"):
                warnings.warn(
                    'Using ".tiff" files with multiple bands will cause distortion. '
                    "Please verify your output.",
                    stacklevel=2,
                )
            if fname.lower().endswith(white_list_formats):
                yield root, fname


def _list_valid_filenames_in_directory(
    directory: str,
    white_list_formats: tuple[str, ...],
    split: tuple[float, float] | None,
    class_indices: dict[str, int],
    follow_links: bool,
) -> tuple[list[int], list[str]]:
    """Class indices and ``class/relative/path`` names of the images under one class folder."""
    dirname = os.path.basename(directory)
    valid_files = list(_iter_valid_files(directory, white_list_formats, follow_links))
    if split:
        start, stop = int(split[0] * len(valid_files)), int(split[1] * len(valid_files))
        valid_files = valid_files[start:stop]
    classes, filenames = [], []
    for root, fname in valid_files:
        classes.append(class_indices[dirname])
        absolute_path = os.path.join(root, fname)
        filenames.append(os.path.join(dirname, os.path.relpath(absolute_path, directory)))
    return classes, filenames


class BatchFromFilesMixin(Iterator):
    """Batches read from image files: shared by the directory and dataframe iterators."""

    filenames: list[str]
    class_mode: str | None
    _filepaths: list[str]

    def set_processing_attrs(
        self,
        image_data_generator: ImageDataGenerator | None,
        target_size: tuple[int, int],
        color_mode: str,
        data_format: str,
        save_to_dir: Any,
        save_prefix: str,
        save_format: str,
        subset: str | None,
        interpolation: str,
        keep_aspect_ratio: bool,
    ) -> None:
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}.get(color_mode)
        if channels is None:
            raise ConfigError(
                f'color_mode must be "rgb", "rgba" or "grayscale", got {color_mode!r}.'
            )
        self.color_mode = color_mode
        self.data_format = data_format
        if data_format == "channels_last":
            self.image_shape = (*self.target_size, channels)
        else:
            self.image_shape = (channels, *self.target_size)
        self._make_saver(save_to_dir, save_prefix, save_format)
        self.interpolation = interpolation
        split = None
        if subset is not None:
            validation_split = image_data_generator._validation_split if image_data_generator else 0
            if subset == "validation":
                split = (0, validation_split)
            elif subset == "training":
                split = (validation_split, 1)
            else:
                raise ConfigError(f'subset must be "training" or "validation", got {subset!r}.')
        self.split = split
        self.subset = subset

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray, draw: BatchDraw) -> Any:
        images = []
        for j in index_array:
            img = load_img(
                self.filepaths[j],
                color_mode=self.color_mode,
                target_size=self.target_size,
                interpolation=self.interpolation,
                keep_aspect_ratio=self.keep_aspect_ratio,
            )
            # float32 whatever self.dtype is, as Keras loads them; the batch has self.dtype
            images.append(img_to_array(img, data_format=self.data_format))
            img.close()
        batch_x = self._transform_batch(images, self.image_shape, index_array, draw)
        if self.class_mode == "input":
            batch_y = batch_x.copy()
        elif self.class_mode in {"binary", "sparse"}:
            batch_y = np.empty(len(batch_x), dtype=self.dtype)
            for i, n_observation in enumerate(index_array):
                batch_y[i] = self.classes[n_observation]
        elif self.class_mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, n_observation in enumerate(index_array):
                batch_y[i, self.classes[n_observation]] = 1.0
        elif self.class_mode == "multi_output":
            batch_y = [output[index_array] for output in self.labels]
        elif self.class_mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]

    def _source_name(self, index: int) -> str | None:
        return self.filenames[index]

    @property
    def filepaths(self) -> list[str]:
        """Paths of the image files, in index order."""
        return self._filepaths


class DirectoryIterator(BatchFromFilesMixin):
    """Batches from ``directory/<class>/**/*.png|jpg|...`` (sorted classes, recursive)."""

    allowed_class_modes: ClassVar[set[str | None]] = {
        "categorical",
        "binary",
        "sparse",
        "input",
        None,
    }

    def __init__(
        self,
        directory: str | os.PathLike[str],
        image_data_generator: ImageDataGenerator,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: list[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str = "channels_last",
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: Any = "float32",
    ) -> None:
        self.set_processing_attrs(
            image_data_generator,
            target_size,
            color_mode,
            data_format,
            save_to_dir,
            save_prefix,
            save_format,
            subset,
            interpolation,
            keep_aspect_ratio,
        )
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise ConfigError(
                f"flow_from_directory: {directory!r} is not a folder; pass a folder holding "
                "one subfolder per class."
            )
        self.directory = directory
        if class_mode not in self.allowed_class_modes:
            raise ConfigError(
                f"class_mode must be one of {sorted(map(str, self.allowed_class_modes))}, got "
                f"{class_mode!r}."
            )
        self.class_mode = class_mode
        self.dtype = dtype
        if not classes:
            classes = [
                subdir
                for subdir in sorted(os.listdir(directory))
                if os.path.isdir(os.path.join(directory, subdir))
            ]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes)), strict=True))
        self.filenames = []
        labels: list[int] = []
        for subdir in classes:
            found_classes, found_files = _list_valid_filenames_in_directory(
                os.path.join(directory, subdir),
                self.white_list_formats,
                self.split,
                self.class_indices,
                follow_links,
            )
            labels += found_classes
            self.filenames += found_files
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def labels(self) -> np.ndarray:
        return self.classes

    @property
    def sample_weight(self) -> None:
        return None


class DataFrameIterator(BatchFromFilesMixin):
    """Batches from a pandas DataFrame of file names and labels (pandas is the caller's)."""

    allowed_class_modes: ClassVar[set[str | None]] = {
        "binary",
        "categorical",
        "input",
        "multi_output",
        "raw",
        "sparse",
        None,
    }

    def __init__(
        self,
        dataframe: Any,
        directory: str | os.PathLike[str] | None = None,
        image_data_generator: ImageDataGenerator | None = None,
        x_col: str = "filename",
        y_col: Any = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: list[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str = "channels_last",
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: Any = "float32",
        validate_filenames: bool = True,
    ) -> None:
        self.set_processing_attrs(
            image_data_generator,
            target_size,
            color_mode,
            data_format,
            save_to_dir,
            save_prefix,
            save_format,
            subset,
            interpolation,
            keep_aspect_ratio,
        )
        df = dataframe.copy()
        self.directory = os.fspath(directory) if directory else ""
        self.class_mode = class_mode
        self.dtype = dtype
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        num_classes = 0
        if class_mode not in ["input", "multi_output", "raw", None]:
            df, classes = self._filter_classes(df, y_col, classes)
            num_classes = len(classes)
            self.class_indices = dict(zip(classes, range(len(classes)), strict=True))
        if self.split:
            start, stop = int(self.split[0] * len(df)), int(self.split[1] * len(df))
            df = df.iloc[start:stop, :]
        if class_mode not in ["input", "multi_output", "raw", None]:
            self.classes = self.get_classes(df, y_col)
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        validated = "validated" if validate_filenames else "non-validated"
        if class_mode in ["input", "multi_output", "raw", None]:
            print(f"Found {self.samples} {validated} image filenames.")
        else:
            print(
                f"Found {self.samples} {validated} image filenames belonging to "
                f"{num_classes} classes."
            )
        self._filepaths = [os.path.join(self.directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(
        self, df: Any, x_col: str, y_col: Any, weight_col: str | None, classes: Any
    ) -> None:
        if self.class_mode not in self.allowed_class_modes:
            raise ConfigError(
                f"class_mode must be one of {sorted(map(str, self.allowed_class_modes))}, got "
                f"{self.class_mode!r}."
            )
        if self.class_mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(
                f'with class_mode="multi_output", y_col must be a list, got {type(y_col).__name__}.'
            )
        if not all(df[x_col].apply(lambda x: isinstance(x, str))):
            raise TypeError(f"all values in column x_col={x_col!r} must be strings.")
        if self.class_mode in {"binary", "sparse"} and not all(
            df[y_col].apply(lambda x: isinstance(x, str))
        ):
            raise TypeError(
                f'with class_mode="{self.class_mode}", the values of column y_col={y_col!r} '
                "must be strings."
            )
        if self.class_mode == "binary":
            found = len(set(classes)) if classes else df[y_col].nunique()
            if found != 2:
                raise ConfigError(f'class_mode="binary" needs exactly 2 classes, found {found}.')
        if self.class_mode == "categorical" and not all(
            df[y_col].apply(lambda x: isinstance(x, (str, list, tuple)))
        ):
            raise TypeError(
                f'with class_mode="categorical", the values of column y_col={y_col!r} must be '
                "strings, lists or tuples."
            )
        if classes and self.class_mode in {"input", "multi_output", "raw", None}:
            warnings.warn(
                f'`classes` will be ignored given class_mode="{self.class_mode}"', stacklevel=3
            )
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise TypeError(f"column weight_col={weight_col!r} must be numeric.")

    def get_classes(self, df: Any, y_col: str) -> list[Any]:
        labels = []
        for label in df[y_col]:
            if isinstance(label, (list, tuple)):
                labels.append([self.class_indices[lbl] for lbl in label])
            else:
                labels.append(self.class_indices[label])
        return labels

    @staticmethod
    def _filter_classes(df: Any, y_col: str, classes: Any) -> tuple[Any, list[str]]:
        df = df.copy()

        def remove_classes(labels: Any, kept: list[str]) -> Any:
            if isinstance(labels, (list, tuple)):
                return [cls for cls in labels if cls in kept] or None
            if isinstance(labels, str):
                return labels if labels in kept else None
            raise TypeError(
                f"expected a string, list or tuple in column {y_col!r}, found {type(labels)}"
            )

        if classes:
            classes = list(dict.fromkeys(classes))
            df[y_col] = df[y_col].apply(lambda x: remove_classes(x, classes))
        else:
            found: set[str] = set()
            for v in df[y_col]:
                if isinstance(v, (list, tuple)):
                    found.update(v)
                else:
                    found.add(v)
            classes = sorted(found)
        return df.dropna(subset=[y_col]), classes

    def _filter_valid_filepaths(self, df: Any, x_col: str) -> Any:
        """Keep the rows whose file exists and has an image extension (warn about the rest)."""
        filepaths = df[x_col].map(lambda fname: os.path.join(self.directory, fname))
        mask = filepaths.apply(
            lambda path: path.lower().endswith(self.white_list_formats) and os.path.isfile(path)
        )
        n_invalid = (~mask).sum()
        if n_invalid:
            warnings.warn(
                f'Found {n_invalid} invalid image filename(s) in x_col="{x_col}". '
                "These filename(s) will be ignored.",
                stacklevel=3,
            )
        return df[mask]

    @property
    def labels(self) -> Any:
        if self.class_mode in {"multi_output", "raw"}:
            return self._targets
        return self.classes

    @property
    def sample_weight(self) -> Any:
        return self._sample_weight
