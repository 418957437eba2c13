"""An example augcore plugin: ``cutout`` (erase a random box), ``negative`` (255 - x) and
``quarter_turn`` (rotate by a multiple of 90 degrees, the canvas turning with the picture).

``cutout`` and ``negative`` are pixel transforms: they change values, never positions, so augcore
fuses the geometric steps around them as usual. ``quarter_turn`` is geometric: a pull-map matrix
and a ``canvas`` that swaps height and width, so nothing is cropped or filled. Parameters are
declared once, as ``augcore.Param`` metadata; that gives config validation, "did you mean"
errors and the ``augcore plugins`` listing for free.
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


class QuarterTurn(augcore.GeometricTransform):
    """Turn by 90, 180 or 270 degrees counter-clockwise (as np.rot90), drawn uniformly; the
    canvas turns too."""

    name = "quarter_turn"
    params = (
        augcore.Param(
            "turns",
            "any",
            "choice",
            "",
            "which turns to draw from: any of 1, 2, 3, or only the odd ones (1 or 3)",
            choices=("any", "odd"),
        ),
    )

    def canvas(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        # The canvas depends on the options only: "odd" always swaps the sides; "any" keeps a
        # square canvas and refuses a non-square one (180 degrees would need the other size).
        if self.options["turns"] == "odd":
            return (shape[1], shape[0], *shape[2:])
        if shape[0] != shape[1]:
            raise augcore.CanvasError(
                "transform 'quarter_turn': turns='any' needs a square image (a 90 and a 180 "
                f"degree turn of a {shape[0]}x{shape[1]} image differ in size); use turns='odd'"
            )
        return shape

    def sample(self, draws: augcore.seeding.Draws, shape: tuple[int, ...]) -> dict:
        if self.options["turns"] == "odd":
            return {"turns": 1 + 2 * draws.integers(0, 0, 1)}
        return {"turns": draws.integers(0, 1, 3)}

    def matrices(self, n: int, params: dict, shape: tuple[int, ...]) -> np.ndarray:
        # Output (r, c) of np.rot90(image, t) reads the input at, for t = 1, (c, W - 1 - r);
        # t = 2, (H - 1 - r, W - 1 - c); t = 3, (H - 1 - c, r).
        height, width = shape[0], shape[1]
        tables = {
            1: [[0, 1, 0], [-1, 0, width - 1], [0, 0, 1]],
            2: [[-1, 0, height - 1], [0, -1, width - 1], [0, 0, 1]],
            3: [[0, -1, height - 1], [1, 0, 0], [0, 0, 1]],
        }
        return np.array([tables[int(t)] for t in params["turns"]], dtype=np.float64)


@augcore.hookimpl
def augcore_transforms() -> list[type[augcore.Transform]]:
    return [Cutout, Negative, QuarterTurn]
