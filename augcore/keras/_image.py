"""Keras's image helpers (``keras.utils.array_to_img`` and friends), without Keras.

Same arguments, defaults, results and error messages as Keras 3's
``keras/src/utils/image_utils.py``. Differences: ``data_format=None`` means ``"channels_last"``
and ``dtype=None`` means ``"float32"`` (Keras reads both from its global backend config, which
augcore does not have); ``load_img`` takes any path-like, and Keras 2's ``grayscale=True``.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings
from typing import Any

import numpy as np
from PIL import Image

from augcore.errors import ConfigError, ImageShapeError, InputImageError
from augcore.keras._errors import ArgumentTypeError

DEFAULT_DATA_FORMAT = "channels_last"
DEFAULT_DTYPE = "float32"

PIL_INTERPOLATION_METHODS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "hamming": Image.Resampling.HAMMING,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}

_MODES_BY_CHANNELS = {4: "RGBA", 3: "RGB"}


def check_data_format(data_format: str | None) -> str:
    """Resolve ``None`` to channels_last and reject anything but Keras's two layouts."""
    if data_format is None:
        return DEFAULT_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ConfigError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Image.Image:
    """A 3-D array as a PIL image; ``scale`` stretches min..max to 0..255 first, as Keras does."""
    data_format = check_data_format(data_format)
    x = np.asarray(x, dtype=DEFAULT_DTYPE if dtype is None else dtype)
    if x.ndim != 3:
        raise ImageShapeError(
            f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in _MODES_BY_CHANNELS:
        return Image.fromarray(x.astype("uint8"), _MODES_BY_CHANNELS[channels])
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer grayscale, PIL mode "I"
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ImageShapeError(
        f"Unsupported channel number: {channels}. (array_to_img takes 1, 3 or 4 channels; the "
        f"image has shape {x.shape} in channels_last order.)"
    )


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A PIL image as a 3-D array (a grayscale image gets a channel axis of 1)."""
    data_format = check_data_format(data_format)
    x = np.asarray(img, dtype=DEFAULT_DTYPE if dtype is None else dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        if data_format == "channels_first":
            x = x.reshape((1, *x.shape))
        else:
            x = x.reshape((*x.shape, 1))
    else:
        raise ImageShapeError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Save an array as an image file; the format comes from the extension unless given."""
    data_format = check_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
    *,
    grayscale: bool = False,
) -> Image.Image:
    """Read an image file into PIL, converted to ``color_mode`` and resized like Keras.

    ``grayscale=True`` is Keras 2's (and tf-keras's) deprecated spelling of
    ``color_mode="grayscale"``, accepted with its warning; Keras 3 dropped it.
    """
    if grayscale:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"', stacklevel=2)
        color_mode = "grayscale"
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ConfigError('color_mode must be "grayscale", "rgb", or "rgba"')
    img = _open_image(path)
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    if target_size is None:
        return img
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    if interpolation not in PIL_INTERPOLATION_METHODS:
        raise ConfigError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            f"{', '.join(PIL_INTERPOLATION_METHODS)}"
        )
    resample = PIL_INTERPOLATION_METHODS[interpolation]
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    target_width, target_height = width_height
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    box = (left, top, left + crop_width, top + crop_height)
    return img.resize(width_height, resample, box=box)


def _open_image(path: Any) -> Image.Image:
    """Open from a path or BytesIO, fully read, with errors that name the file."""
    if isinstance(path, io.BytesIO):
        source: Any = path
        name = "<BytesIO>"
    elif isinstance(path, (str, bytes, os.PathLike)):
        name = os.fsdecode(path)
        try:
            with open(path, "rb") as handle:
                source = io.BytesIO(handle.read())
        except OSError as exc:
            raise InputImageError(f"{name}: cannot read the file ({exc.strerror}).") from exc
    else:
        raise ArgumentTypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    try:
        img = Image.open(source)
        img.load()
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise InputImageError(f"{name}: not a readable image ({exc}).") from exc
    return img
