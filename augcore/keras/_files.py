"""Batches read from image files: ``flow_from_directory``'s ``DirectoryIterator`` and the
file-loading half shared with ``flow_from_dataframe``'s ``DataFrameIterator``.

File discovery (sorted class folders, recursive, sorted names, Keras's extensions), subsets,
labels for every ``class_mode`` and the messages follow Keras 3's legacy iterators.
"""

from __future__ import annotations

import errno
import os
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from augcore.errors import ConfigError
from augcore.keras._errors import FolderNotFoundError
from augcore.keras._image import img_to_array, load_img
from augcore.keras._iterators import Iterator, check_subset

if TYPE_CHECKING:
    from augcore.keras._generator import ImageDataGenerator


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


def check_class_mode(class_mode: str | None, allowed: set[str | None]) -> None:
    if class_mode not in allowed:
        raise ConfigError(f"Invalid class_mode: {class_mode}; expected one of: {allowed}")


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
                f'Invalid color mode: {color_mode}; expected "rgb", "rgba", or "grayscale".'
            )
        self.color_mode = color_mode
        self.data_format = data_format
        if data_format == "channels_last":
            self.image_shape = (*self.target_size, channels)
        else:
            self.image_shape = (channels, *self.target_size)
        self._make_saver(save_to_dir, save_prefix, save_format)
        self.interpolation = interpolation
        check_subset(subset, spaced=False)
        split = None
        if subset is not None:
            validation_split = image_data_generator._validation_split if image_data_generator else 0
            split = (0, validation_split) if subset == "validation" else (validation_split, 1)
        self.split = split
        self.subset = subset

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
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
        batch_x = self._transform_batch(images, self.image_shape, index_array)
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
        self.directory = directory
        check_class_mode(class_mode, self.allowed_class_modes)
        if not os.path.isdir(directory):
            # os.listdir's error, as Keras lets it through: errno, strerror and the path given
            code = errno.ENOTDIR if os.path.exists(directory) else errno.ENOENT
            raise FolderNotFoundError(code, os.strerror(code), directory)
        directory = os.fspath(directory)
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
