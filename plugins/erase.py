"""Built-in random erasing (cutout): boxes filled with a constant or with noise.

Boxes are drawn as torchvision's ``RandomErasing`` draws them: an area fraction from
``scale``, an aspect ratio log-uniformly from ``ratio``, height and width rounded from them,
up to 10 attempts until the box fits inside the image (a box that never fits is skipped).
Each output erases ``count`` boxes (drawn from a range). Every box is recorded in pixels
(``top``, ``left``, ``height``, ``width``; a height of 0 is no box) and noise as a 53-bit seed,
so replay reproduces the output exactly.

Values: ``value`` is a fraction of white (0 black, 1 white, so it means the same on uint8 and
on float32 images in [0, 1]); noise is uniform over the full range, per value.
"""

from __future__ import annotations

import math

import numpy as np
from augcore.plugins._values import colour_channels, finish, full_scale

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws, mix64
from augcore.transform import ImageShape, Param, Params, PixelTransform

ATTEMPTS = 10  # torchvision's RandomErasing tries 10 boxes before giving up
_FIRST_BOX_DRAW = 2  # draw numbers 0 and 1 are the count and the noise seed
_DRAWS_PER_ATTEMPT = 4  # area, aspect, top, left


def uniform_field(seeds: np.ndarray, count: int, dtype: np.dtype) -> np.ndarray:
    """``count`` uniform values per seed over the dtype's full range, shape (len(seeds), count).

    Each value is a pure function of (seed, index): uint8 takes a hash's top 8 bits, float32
    its top 24 bits scaled to [0, 1).
    """
    offsets = mix64(np.arange(count, dtype=np.uint64))
    bits = mix64(seeds.astype(np.uint64)[:, None] ^ offsets[None, :])
    if dtype == np.uint8:
        return (bits >> np.uint64(56)).astype(np.uint8)
    return (bits >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-24)


class Erase(PixelTransform):
    """Erase ``count`` random boxes (torchvision's RandomErasing), filled with a value or noise."""

    name = "erase"
    params = (
        Param(
            "scale", [0.02, 0.33], "range", "fraction of the image area",
            "area of each box, drawn uniformly", minimum=0.0, maximum=1.0, single="upto",
        ),
        Param(
            "ratio", [0.3, 3.3], "range", "height / width",
            "aspect ratio of each box, drawn log-uniformly", minimum=1e-3, maximum=1e3,
            single="upto",
        ),
        Param(
            "count", 1, "int_range", "boxes", "boxes per output, drawn uniformly",
            minimum=0, maximum=64,
        ),
        Param(
            "fill", "constant", "choice", "", "what the boxes are filled with",
            choices=("constant", "noise"),
        ),
        Param(
            "value", 0.0, "float", "fraction of white (0 black, 1 white)",
            "the constant fill", minimum=0.0, maximum=1.0,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        height, width = shape[0], shape[1]
        low, high = self.options["count"]
        count = draws.integers(0, low, high)
        area_low, area_high = self.options["scale"]
        ratio_low, ratio_high = (math.log(r) for r in self.options["ratio"])
        boxes = np.zeros((4, draws.n, high), dtype=np.int64)
        for box in range(high):
            found = box >= count  # boxes beyond the drawn count stay empty
            for attempt in range(ATTEMPTS):
                first = _FIRST_BOX_DRAW + (box * ATTEMPTS + attempt) * _DRAWS_PER_ATTEMPT
                area = height * width * draws.uniform(first, area_low, area_high)
                aspect = np.exp(draws.uniform(first + 1, ratio_low, ratio_high))
                box_h = np.rint(np.sqrt(area * aspect)).astype(np.int64)
                box_w = np.rint(np.sqrt(area / aspect)).astype(np.int64)
                fits = ~found & (box_h < height) & (box_w < width) & (box_h > 0) & (box_w > 0)
                top = np.floor(draws.uniform(first + 2) * (height - box_h + 1)).astype(np.int64)
                left = np.floor(draws.uniform(first + 3) * (width - box_w + 1)).astype(np.int64)
                for row, values in enumerate((top, left, box_h, box_w)):
                    boxes[row, :, box] = np.where(fits, values, boxes[row, :, box])
                found = found | fits
        params = {"top": boxes[0], "left": boxes[1], "height": boxes[2], "width": boxes[3]}
        if self.options["fill"] == "noise":
            params["noise_seed"] = draws.seeds(1)
        return params

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        mask = self._mask(images.shape, params)
        if images.ndim == 4:
            mask = mask[..., None]
        if self.options["fill"] == "noise":
            noise = uniform_field(params["noise_seed"], images[0].size, images.dtype)
            return np.where(mask, noise.reshape(images.shape), images)
        scale = full_scale(images.dtype)
        fill = finish(np.asarray(self.options["value"] * scale, np.float32), images.dtype)
        return np.where(mask, fill, images)

    @staticmethod
    def _mask(shape: tuple[int, ...], params: Params) -> np.ndarray:
        """(m, H, W) True inside any of each image's boxes."""
        rows = np.arange(shape[1])[None, :, None]
        cols = np.arange(shape[2])[None, :, None]
        top, left = params["top"][:, None, :], params["left"][:, None, :]
        in_rows = (rows >= top) & (rows < top + params["height"][:, None, :])
        in_cols = (cols >= left) & (cols < left + params["width"][:, None, :])
        # (m, H, boxes) and (m, W, boxes): a pixel is erased when one box holds its row and col.
        return np.einsum("mhb,mwb->mhw", in_rows.astype(np.uint8), in_cols.astype(np.uint8)) > 0


TRANSFORMS = (Erase,)


@hookimpl
def augcore_transforms() -> tuple[type[PixelTransform], ...]:
    return TRANSFORMS
