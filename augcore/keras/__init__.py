"""Keras ``ImageDataGenerator`` drop-in: change one import, keep the script.

``from augcore.keras import ImageDataGenerator, array_to_img, img_to_array, load_img`` replaces
``from keras.preprocessing.image import ...`` (removed in Keras 3). Results, errors and the
legacy ``random_*`` functions match Keras 3's legacy implementation, geometry quirks included;
the differences (``save_to_dir`` names and manifest, randomness without the global numpy RNG,
and the smaller ones) are in docs/migrating-from-keras.md. Neither Keras nor any deep-learning
framework is needed; while Keras is imported, the iterators are also Keras 3 ``PyDataset``s, so
``model.fit(datagen.flow(x, y))`` works.
"""

from __future__ import annotations

from augcore.keras._affine import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
    transform_matrix_offset_center,
)
from augcore.keras._dataframe import DataFrameIterator
from augcore.keras._errors import ArgumentTypeError, BatchIndexError, FolderNotFoundError
from augcore.keras._files import DirectoryIterator
from augcore.keras._generator import ImageDataGenerator
from augcore.keras._image import array_to_img, img_to_array, load_img, save_img
from augcore.keras._iterators import Iterator, NumpyArrayIterator
from augcore.keras._legacy import (
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
)
from augcore.keras._saving import MANIFEST_NAME

__all__ = [
    "MANIFEST_NAME",
    "ArgumentTypeError",
    "BatchIndexError",
    "DataFrameIterator",
    "DirectoryIterator",
    "FolderNotFoundError",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "array_to_img",
    "flip_axis",
    "img_to_array",
    "load_img",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
    "save_img",
    "transform_matrix_offset_center",
]
