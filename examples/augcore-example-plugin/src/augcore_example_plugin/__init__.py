"""An example augcore plugin: ``cutout`` (erase a random box) and ``negative`` (255 - x).

Both are pixel transforms: they change values, never positions, so augcore fuses the geometric
steps around them as usual. Parameters are declared once, as ``augcore.Param`` metadata; that
gives config validation, "did you mean" errors and the ``augcore plugins`` listing for free.
"""

from __future__ import annotations

import numpy as np

import augcore
from augcore.transform import to_image_dtype

__version__ = "0.1.0"


class Cutout(augcore.PixelTransform):
    """Erase one random axis-aligned box per image (DeVries & Taylor 2017), filled with ``fill``."""

    name = "cutout"
    params = (
        augcore.Param(
            "size",
            [0.1, 0.3],
            "range",
            "fraction of each side",
            "box height and width, each drawn from this range",
            minimum=0.0,
            maximum=1.0,
            single="upto",
        ),
        augcore.Param("fill", 0.0, "float", "image value units", "value written into the box"),
    )

    def sample(self, draws: augcore.seeding.Draws, shape: tuple[int, ...]) -> dict:
        # Parameters are recorded in pixels (int64), so a replay needs nothing but the record.
        height, width = shape[0], shape[1]
        low, high = self.options["size"]
        box_h = np.rint(draws.uniform(0, low, high) * height).astype(np.int64)
        box_w = np.rint(draws.uniform(1, low, high) * width).astype(np.int64)
        top = np.floor(draws.uniform(2) * (height - box_h + 1)).astype(np.int64)
        left = np.floor(draws.uniform(3) * (width - box_w + 1)).astype(np.int64)
        return {"top": top, "left": left, "height": box_h, "width": box_w}

    def apply(self, images: np.ndarray, params: dict) -> np.ndarray:
        rows = np.arange(images.shape[1])[None, :]
        cols = np.arange(images.shape[2])[None, :]
        in_rows = (rows >= params["top"][:, None]) & (
            rows < (params["top"] + params["height"])[:, None]
        )
        in_cols = (cols >= params["left"][:, None]) & (
            cols < (params["left"] + params["width"])[:, None]
        )
        box = in_rows[:, :, None] & in_cols[:, None, :]
        if images.ndim == 4:
            box = box[..., None]
        # uint8 fills are rounded and clipped to [0, 255], as augcore's own transforms do.
        fill = to_image_dtype(np.asarray(self.options["fill"]), images.dtype)
        return np.where(box, fill, images)


class Negative(augcore.PixelTransform):
    """Photographic negative: 255 - x for uint8 images, 1 - x for float images in [0, 1]."""

    name = "negative"

    def apply(self, images: np.ndarray, params: dict) -> np.ndarray:
        top = 255 if images.dtype == np.uint8 else 1.0
        return (top - images).astype(images.dtype)


@augcore.hookimpl
def augcore_transforms() -> list[type[augcore.Transform]]:
    return [Cutout, Negative]
