"""Images of other libraries in and out of the pipeline: numpy layouts, PIL modes, torch tensors.

The pipeline computes on one kind of array: ``(H, W)`` or channels-last ``(H, W, C)``, uint8
or float32, alpha (if any) in the last channel. ``adapt(image)`` turns whatever the caller
holds into that array and remembers how to turn a result back into the caller's type:

- **numpy**: ``(H, W)`` and ``(H, W, C)`` pass through untouched (no copy). A 3-D array whose
  first axis looks like channels (1, 3 or 4) and whose last axis does not (more than 4) is
  channels-first: refused with the ``np.moveaxis`` to use, unless the caller says
  ``layout="chw"``, in which case it is moved to channels-last and moved back on return.
- **PIL**: every mode ``augcore.imageio.read_image`` accepts, returned in the same mode:
  L, RGB, RGBA, LA (grey + alpha), La and RGBa (computed on their premultiplied values) and F
  (float32) are computed on their own bytes; 16-bit grey (I;16 and its byte orders) as float32
  in its own units (0..65535), rounded and clipped back; 1 as L (0/255), thresholded back at
  128; P and PA as RGB(A), mapped back to the image's own palette (nearest colour, no
  dithering: a purely geometric chain returns exactly the moved palette indices); CMYK,
  YCbCr, LAB, HSV and RGBX as RGB, converted back by Pillow (which may round). Mode I (32-bit
  integers) is refused: augcore's float32 cannot hold all its values.
- **torch** (imported only when a tensor arrives, recognised by its type's module name): a
  ``(C, H, W)`` or ``(H, W)`` tensor, uint8 or floating, on any device. Float tensors are
  computed in float32 and returned in their own dtype; the result is a new contiguous tensor
  on the input's device, of the input's tensor subclass (``tv_tensors.Image`` stays one).

Array values are never rescaled: a float image stays in its own units (0..1 for a typical
float tensor), which is what the pixel transforms' parameters are measured in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from augcore.errors import ImageDtypeError, ImageShapeError

Layout = Literal["hwc", "chw"]
LAYOUTS: tuple[Layout, ...] = ("hwc", "chw")
# Up to this many channels an axis reads as channels (grey, grey+alpha, RGB, RGBA).
MAX_CHANNELS = 4

# PIL modes computed on as they are, and how an array comes back: numpy dtype of the mode.
_DIRECT_MODES = {
    "L": "u1",
    "RGB": "u1",
    "RGBA": "u1",
    "LA": "u1",
    "La": "u1",
    "RGBa": "u1",
    "F": "=f4",
    "I;16": "<u2",
    "I;16L": "<u2",
    "I;16B": ">u2",
    "I;16N": "=u2",
}
# PIL modes converted to a working mode and back with Pillow's own conversions.
_CONVERTED_MODES = {
    "1": "L",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
    "RGBX": "RGB",
}
_PIL_MODES = (*_DIRECT_MODES, *_CONVERTED_MODES, "P", "PA")


@dataclass(frozen=True)
class Adapted:
    """An image as the pipeline's array, and how to give a result back in the caller's type.

    ``restore(result)`` takes an array shaped and typed like ``array`` (the pipeline's output)
    and returns the caller's kind of image: the same numpy layout, PIL mode or tensor type.
    """

    array: np.ndarray
    restore: Callable[[np.ndarray], Any]


def adapt(image: Any, *, layout: Layout | None = None) -> Adapted:
    """``image`` as an ``(H, W[, C])`` uint8/float32 array, with the way back to its type.

    Args:
        image: a numpy array, a PIL image or a torch tensor (see the module docstring).
        layout: "hwc" (channels last) or "chw" (channels first). Default: "hwc" for numpy,
            "chw" for tensors; PIL images have no layout to choose.

    Raises:
        ImageShapeError: the array's dimensions are not an image's, or look channels-first
            where channels-last is expected (the message gives the ``np.moveaxis`` to use).
        ImageDtypeError: a dtype, PIL mode or object type augcore does not compute on.

    Example:
        >>> adapted = adapt(np.zeros((3, 8, 8), np.uint8), layout="chw")
        >>> adapted.array.shape, adapted.restore(adapted.array).shape
        ((8, 8, 3), (3, 8, 8))
    """
    if layout is not None and layout not in LAYOUTS:
        raise ImageShapeError(f"layout must be 'hwc' or 'chw', got {layout!r}")
    if isinstance(image, np.ndarray):
        return _from_numpy(image, layout or "hwc")
    # Recognised by class name, so that neither Pillow's nor torch's module needs importing.
    bases = {(base.__module__, base.__qualname__) for base in type(image).__mro__}
    if ("PIL.Image", "Image") in bases:
        return _from_pil(image)
    if ("torch", "Tensor") in bases:
        return _from_tensor(image, layout or "chw")
    raise ImageDtypeError(
        f"cannot augment a {type(image).__module__}.{type(image).__qualname__}; pass a numpy "
        "array (H, W[, C]), a PIL image or a torch tensor (C, H, W)"
    )


# --- numpy --------------------------------------------------------------------------------------
def _from_numpy(image: np.ndarray, layout: Layout) -> Adapted:
    if image.ndim == 3 and layout == "chw":
        return Adapted(np.moveaxis(image, 0, -1), _move_channels_first)
    if image.ndim == 3 and _looks_channels_first(image.shape):
        raise ImageShapeError(
            f"image has shape {image.shape}, which looks channels-first (C, H, W); augcore "
            "works channels-last (H, W, C): pass np.moveaxis(image, 0, -1), or "
            "layout='chw' to have the result moved back to (C, H, W)"
        )
    return Adapted(image, _unchanged)


def _looks_channels_first(shape: tuple[int, ...]) -> bool:
    return shape[0] in (1, 3, MAX_CHANNELS) and shape[2] > MAX_CHANNELS


def _unchanged(array: np.ndarray) -> np.ndarray:
    return array


def _move_channels_first(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(array, -1, 0))


# --- PIL ----------------------------------------------------------------------------------------
def _from_pil(image: Any) -> Adapted:
    from PIL import Image

    mode = image.mode
    if mode in _DIRECT_MODES:
        return _direct(image)
    if mode in _CONVERTED_MODES:
        working = _CONVERTED_MODES[mode]
        array = np.asarray(image.convert(working))
        if mode == "1":  # Pillow's default dithers; a threshold keeps black and white exact
            return Adapted(array, lambda out: Image.fromarray(out, "L").point(_threshold, "1"))
        return Adapted(array, lambda out: Image.fromarray(out, working).convert(mode))
    if mode in ("P", "PA"):
        return _from_palette(image)
    raise ImageDtypeError(
        f"PIL images of mode {mode!r} are not supported (augcore computes in uint8 or float32); "
        f"convert first, e.g. image.convert('RGB'). Supported modes: {', '.join(_PIL_MODES)}"
    )


def _threshold(value: int) -> int:
    return 255 if value >= 128 else 0


def _direct(image: Any) -> Adapted:
    """Modes whose bytes are the array: 8-bit modes and F as they are, 16-bit grey as float32."""
    from PIL import Image

    mode = image.mode
    dtype = np.dtype(_DIRECT_MODES[mode])
    array = np.asarray(image)
    if dtype.itemsize == 2:  # uint16 values in their own units; float32 holds them all exactly
        array = array.astype(np.float32)

    def back(out: np.ndarray) -> Any:
        if dtype.itemsize == 2:
            out = np.clip(np.rint(out), 0, 65535)
        size = (out.shape[1], out.shape[0])  # a canvas transform may have resized the image
        return Image.frombytes(mode, size, np.ascontiguousarray(out, dtype=dtype).tobytes())

    return Adapted(array, back)


def _from_palette(image: Any) -> Adapted:
    """P/PA images are computed in colour and mapped back to their own palette."""
    from PIL import Image

    alpha = image.mode == "PA" or "transparency" in image.info
    array = np.asarray(image.convert("RGBA" if alpha else "RGB"))
    palette_image = image.convert("P") if image.mode == "PA" else image
    mode, info = image.mode, dict(image.info)

    def back(out: np.ndarray) -> Any:
        colours = Image.fromarray(np.ascontiguousarray(out[..., :3]), "RGB")
        indexed = colours.quantize(palette=palette_image, dither=Image.Dither.NONE)
        if mode == "PA":
            result = Image.merge("PA", (indexed, Image.fromarray(out[..., 3], "L")))
            result.putpalette(palette_image.getpalette())
            return result
        if isinstance(info.get("transparency"), int):  # one index means "transparent"
            indices = np.asarray(indexed).copy()
            indices[out[..., 3] == 0] = info["transparency"]
            indexed = Image.fromarray(indices, "P")
            indexed.putpalette(palette_image.getpalette())
        if "transparency" in info:
            indexed.info["transparency"] = info["transparency"]
        return indexed

    return Adapted(array, back)


# --- torch --------------------------------------------------------------------------------------
def _from_tensor(tensor: Any, layout: Layout) -> Adapted:
    import torch

    if tensor.ndim not in (2, 3):
        raise ImageShapeError(
            f"tensor has shape {tuple(tensor.shape)}; one image is (C, H, W) or (H, W) "
            "(for a batch, call the pipeline per image or use augment_batch on an array)"
        )
    if tensor.dtype != torch.uint8 and not tensor.is_floating_point():
        raise ImageDtypeError(
            f"tensor has dtype {tensor.dtype}; augcore handles uint8 and floating tensors "
            "(convert with .to(torch.uint8) or .float())"
        )
    shape = tuple(tensor.shape)
    if tensor.ndim == 3 and layout == "chw" and _looks_channels_first(shape[::-1]):
        raise ImageShapeError(
            f"tensor has shape {shape}, which looks channels-last (H, W, C); a tensor is read "
            "as (C, H, W): pass tensor.permute(2, 0, 1), or layout='hwc'"
        )
    host = tensor.detach().cpu()
    if tensor.is_floating_point() and tensor.dtype != torch.float32:
        host = host.to(torch.float32)
    array = host.numpy()
    if tensor.ndim == 3 and layout == "chw":
        array = np.moveaxis(array, 0, -1)
    kind, dtype, device = type(tensor), tensor.dtype, tensor.device

    def back(out: np.ndarray) -> Any:
        if out.ndim == 3 and layout == "chw":
            out = np.moveaxis(out, -1, 0)
        result = torch.from_numpy(np.ascontiguousarray(out)).to(device=device, dtype=dtype)
        return result if kind is torch.Tensor else result.as_subclass(kind)

    return Adapted(array, back)
