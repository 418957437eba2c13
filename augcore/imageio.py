"""Reading inputs and writing outputs for the job: one place that knows Pillow's corner cases.

Reading always returns uint8 ``(H, W)`` (L), ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA), with
the EXIF orientation applied. Other modes are converted by a fixed, documented rule
(docs/job.md, "Input images") or refused with an InputImageError naming the file and the reason.
Only regular files are opened (augcore.safefile). Writing encodes in memory with fixed options,
so equal arrays always give equal bytes; augcore.safefile places the file atomically.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from augcore.errors import InputImageError
from augcore.safefile import NotRegularFileError, explain, open_regular

READ_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
)
OUTPUT_FORMATS = ("same", "png", "jpg", "tif", "webp")

_KEPT_MODES = frozenset({"L", "RGB", "RGBA"})
# Other modes: Pillow's conversion to the nearest kept mode (the table in docs/job.md).
_CONVERSIONS = {
    "1": "L",
    "LA": "RGBA",
    "PA": "RGBA",
    "La": "RGBA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
}
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


@dataclass(frozen=True)
class _Encoder:
    pillow_format: str
    alpha: bool
    options: dict[str, Any] = field(default_factory=dict)


_ENCODERS = {
    ".png": _Encoder("PNG", alpha=True),
    ".jpg": _Encoder("JPEG", alpha=False, options={"quality": 95}),
    ".jpeg": _Encoder("JPEG", alpha=False, options={"quality": 95}),
    ".tif": _Encoder("TIFF", alpha=True),
    ".tiff": _Encoder("TIFF", alpha=True),
    ".webp": _Encoder("WEBP", alpha=True, options={"lossless": True, "method": 4}),
    ".bmp": _Encoder("BMP", alpha=False),
    ".ppm": _Encoder("PPM", alpha=False),
    ".pgm": _Encoder("PPM", alpha=False),
}


def output_suffix(source_suffix: str, fmt: str) -> str:
    """The extension an output gets: the source's own for "same", else the format's."""
    if fmt == "same":
        return source_suffix.lower()
    return f".{fmt}"


def pixel_limit(max_pixels: int | None) -> int | None:
    """The most pixels an image may have: ``max_pixels``, else Pillow's ``MAX_IMAGE_PIXELS``."""
    return Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels


def _input_path(path: str | os.PathLike[str]) -> Path:
    """A local input as a ``Path``; an fsspec URL stays a string (``RemotePath``)."""
    from augcore.storage import RemotePath, is_url

    return RemotePath(path) if is_url(path) else Path(path)  # type: ignore[return-value]


@contextlib.contextmanager
def _opened(
    path: Path, max_pixels: int | None, storage_options: dict[str, Any] | None = None
) -> Iterator[Image.Image]:
    """Open lazily (header only) and apply the pixel limit of this call.

    Only a regular file is opened (augcore.safefile): a FIFO or device is refused without
    being opened. An fsspec URL is fetched whole first. Pillow itself refuses images above
    twice its global ``MAX_IMAGE_PIXELS`` whatever this call's limit; that refusal is reported
    the same way.
    """
    handle: Any
    try:
        if isinstance(path, Path):
            handle = open_regular(path)
        else:
            from augcore.storage import read_bytes

            handle = io.BytesIO(read_bytes(str(path), storage_options))
    except NotRegularFileError as exc:
        raise InputImageError(f"{exc}; only regular files are read") from None
    except FileNotFoundError:
        raise InputImageError(f"{path}: no such file") from None
    except PermissionError:
        raise InputImageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputImageError(f"{path}: cannot open ({explain(exc)})") from None
    with handle:
        try:
            with warnings.catch_warnings():
                # Pillow warns above its global limit; this call enforces its own limit below.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(handle)
        except Image.DecompressionBombError as exc:
            raise InputImageError(f"{path}: refused as a decompression bomb ({exc})") from None
        except UnidentifiedImageError:
            handle.seek(0, os.SEEK_END)
            what = "empty file" if handle.tell() == 0 else "not an image Pillow can read"
            raise InputImageError(f"{path}: {what}") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise InputImageError(f"{path}: cannot read the image header ({exc})") from None
        with image:
            limit = pixel_limit(max_pixels)
            width, height = image.size
            if limit is not None and width * height > limit:
                raise InputImageError(
                    f"{path}: {width}x{height} = {width * height} pixels is more than the limit "
                    f"of {limit} (possible decompression bomb); raise max_pixels if the file is "
                    "trusted"
                )
            yield image


def probe_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> str:
    """Check an input cheaply (header only); return its mode. Truncation shows only on decode."""
    path = _input_path(path)
    with _opened(path, max_pixels, storage_options) as image:
        _target_mode(image, path)
        return image.mode


def _target_mode(image: Image.Image, path: Path) -> str:
    mode = image.mode
    if mode in _KEPT_MODES:
        return mode
    if mode == "P":
        return "RGBA" if "transparency" in image.info else "RGB"
    if mode in _SIXTEEN_BIT_MODES:
        return "L"
    if mode in _CONVERSIONS:
        return _CONVERSIONS[mode]
    raise InputImageError(
        f"{path}: unsupported image mode {mode!r} (32-bit integer or float pixels have no "
        "defined 8-bit range); convert it to 8-bit L, RGB or RGBA first"
    )


def _in_target_mode(image: Image.Image, target: str) -> Image.Image:
    """The image as an 8-bit ``target``-mode Pillow image (16-bit gray scaled, others converted)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image).astype(np.uint32)
        return Image.fromarray(((wide * 255 + 32767) // 65535).astype(np.uint8))  # v*255/65535
    if image.mode != target:
        return image.convert(target)
    return image


def read_image(
    path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    max_pixels: int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> np.ndarray:
    """Decode an input as uint8 L/RGB/RGBA, EXIF-oriented, optionally resized to ``size`` (W, H).

    ``max_pixels`` bounds width x height for this call only (default: Pillow's
    ``Image.MAX_IMAGE_PIXELS``); a larger image is refused before it is decoded.
    Resizing is bicubic, on the decoded 8-bit image, as the seed script's ``img.resize`` does.
    ``path`` may be an fsspec URL (augcore.storage), read with ``storage_options``.
    """
    path = _input_path(path)
    with _opened(path, max_pixels, storage_options) as image:
        target = _target_mode(image, path)
        try:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            converted = _in_target_mode(image, target)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputImageError(f"{path}: cannot decode the image ({exc})") from None
        if size is not None and converted.size != size:
            converted = converted.resize(size, Image.Resampling.BICUBIC)
        return np.array(converted, dtype=np.uint8)  # a copy: independent of the file


def encode_image(array: np.ndarray, suffix: str) -> bytes:
    """Encode a uint8 image for a file with ``suffix``; formats without alpha drop the alpha."""
    encoder = _ENCODERS.get(suffix.lower())
    if encoder is None:
        raise ValueError(f"cannot write {suffix!r} files; use one of {sorted(_ENCODERS)}")
    if array.dtype != np.uint8:
        raise TypeError(f"only uint8 images can be written, got {array.dtype}")
    if encoder.pillow_format == "TIFF":
        return _encode_tiff(array)
    image = Image.fromarray(array)
    if image.mode == "RGBA" and not encoder.alpha:
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=encoder.pillow_format, **encoder.options)
    return buffer.getvalue()


# Baseline TIFF tags (TIFF 6.0, section 8) and field types.
_SHORT, _LONG, _RATIONAL = 3, 4, 5
_EXTRA_SAMPLE_UNASSOCIATED_ALPHA = 2


def _encode_tiff(array: np.ndarray) -> bytes:
    """An uncompressed little-endian baseline TIFF: one strip, interleaved samples.

    Written directly because Pillow's TIFF writer spends ~0.4 ms in Python per image, more than
    augmenting a small image costs; readers (Pillow included) see the same pixels either way.
    """
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"cannot write a {channels}-channel image as TIFF (1, 3 or 4 channels)")
    return _tiff_header(width, height, channels) + np.ascontiguousarray(array).tobytes()


@functools.lru_cache(maxsize=64)
def _tiff_header(width: int, height: int, channels: int) -> bytes:
    """Everything before the pixels; the same for every image of one shape, so built once."""
    tags = [
        (256, _LONG, 1, width),
        (257, _LONG, 1, height),
        (258, _SHORT, channels, 8),  # BitsPerSample; for RGB(A) an array stored after the IFD
        (259, _SHORT, 1, 1),  # no compression
        (262, _SHORT, 1, 1 if channels == 1 else 2),  # BlackIsZero or RGB
        (273, _LONG, 1, None),  # StripOffsets: the pixels, after everything else
        (277, _SHORT, 1, channels),
        (278, _LONG, 1, height),  # RowsPerStrip: one strip
        (279, _LONG, 1, width * height * channels),  # StripByteCounts
        (282, _RATIONAL, 1, None),  # XResolution 72/1
        (283, _RATIONAL, 1, None),  # YResolution 72/1
        (284, _SHORT, 1, 1),  # PlanarConfiguration: interleaved
        (296, _SHORT, 1, 2),  # ResolutionUnit: inch
    ]
    if channels == 4:
        tags.append((338, _SHORT, 1, _EXTRA_SAMPLE_UNASSOCIATED_ALPHA))
    ifd_size = 2 + 12 * len(tags) + 4
    bits_offset = 8 + ifd_size
    bits = struct.pack(f"<{channels}H", *([8] * channels)) if channels > 1 else b""
    resolution_offset = bits_offset + len(bits)
    resolution = struct.pack("<II", 72, 1)
    pixels_offset = resolution_offset + 2 * len(resolution)
    deferred = {
        258: bits_offset,
        273: pixels_offset,
        282: resolution_offset,
        283: resolution_offset + len(resolution),
    }
    entries = b"".join(
        struct.pack("<HHI", tag, kind, count)
        + (
            struct.pack("<HH", value, 0)
            if kind == _SHORT and count == 1
            else struct.pack("<I", deferred.get(tag, value))
        )
        for tag, kind, count, value in tags
    )
    header = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(tags))
    no_next_ifd = b"\x00\x00\x00\x00"
    return b"".join([header, entries, no_next_ifd, bits, resolution, resolution])


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a regular file's bytes (a FIFO or device is refused, never opened)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
