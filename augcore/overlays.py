"""Drawing labelled data over a tile: boxes with their labels, keypoints, mask overlays.

This is how a preview shows targets (``augcore.Boxes``, ``augcore.Keypoints``, masks) next to
the pixels they moved with; it takes plain arrays, so anything that knows where its objects
are can draw them on a sheet's tiles (``Sheet.cells``, ``tiles.Placement``).

Rules this module keeps:

- Coordinates are continuous image pixels, x right and y down: pixel (row r, col c) covers
  [c, c + 1) x [r, r + 1), its centre is (c + 0.5, r + 0.5) (the COCO, VOC, YOLO and
  torchvision convention, and augcore's targets'). On a tile, image x becomes
  ``placement.left + x * placement.scale``, so a box drawn around an object's pixels encloses
  exactly their enlarged block.
- Masks are enlarged exactly like the image (whole-factor blocks, nearest neighbour for a
  reduction), so a mask pixel covers its image pixel; label 0 is background and left clear.
- A label always gets the same colour (its position in a fixed palette, by value), across
  tiles and sheets.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from augcore.tiles import Placement, caption_font

PALETTE = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
)
MASK_OPACITY = 0.45
BOX_WIDTH = 2
POINT_RADIUS = 3


def label_colour(label: Any) -> tuple[int, int, int]:
    """The palette colour of ``label``: integers by value, other labels by a stable hash."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return PALETTE[int(label) % len(PALETTE)]
    return PALETTE[zlib.crc32(str(label).encode()) % len(PALETTE)]


def to_tile(placement: Placement, xy: np.ndarray) -> np.ndarray:
    """Continuous image (x, y) -> tile pixel coordinates, for (N, 2) points."""
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return points * placement.scale + [placement.left, placement.top]


def draw_boxes(
    tile: Image.Image,
    placement: Placement,
    xyxy: np.ndarray,
    labels: Sequence[Any] | None = None,
) -> None:
    """Outline (N, 4) boxes (x_min, y_min, x_max, y_max) on ``tile``, each labelled if given.

    The outline lies inside the box's edges, so it covers the object's outermost pixels.
    """
    draw = ImageDraw.Draw(tile)
    corners = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    font = caption_font()
    for index, (left, top, right, bottom) in enumerate(corners):
        (x0, y0), (x1, y1) = to_tile(placement, [[left, top], [right, bottom]])
        label = None if labels is None else labels[index]
        colour = label_colour(index if label is None else label)
        box = (round(x0), round(y0), round(x1) - 1, round(y1) - 1)
        if box[2] < box[0] or box[3] < box[1]:
            continue  # empty after rounding: nothing to outline
        draw.rectangle(box, outline=colour, width=BOX_WIDTH)
        if label is not None:
            text = str(label)
            width = int(font.getlength(text)) + 4
            height = int(font.getbbox(text)[3]) + 2
            draw.rectangle((box[0], box[1], box[0] + width, box[1] + height), fill=colour)
            draw.text((box[0] + 2, box[1]), text, fill=(255, 255, 255), font=font)


def draw_polygons(
    tile: Image.Image, placement: Placement, polygons: Sequence[np.ndarray], label: Any
) -> None:
    """Outline (V, 2) polygons (x, y vertices, e.g. COCO segmentations) in ``label``'s colour."""
    draw = ImageDraw.Draw(tile)
    for polygon in polygons:
        points = [tuple(point) for point in to_tile(placement, polygon).tolist()]
        if len(points) >= 3:
            draw.polygon(points, outline=label_colour(label), width=1)


def draw_keypoints(
    tile: Image.Image,
    placement: Placement,
    xy: np.ndarray,
    visible: Sequence[bool] | None = None,
) -> None:
    """Mark (N, 2) keypoints on ``tile``: a filled dot if visible, a ring if not."""
    draw = ImageDraw.Draw(tile)
    points = to_tile(placement, xy)
    for index, (x, y) in enumerate(points):
        colour = label_colour(index)
        ring = (x - POINT_RADIUS, y - POINT_RADIUS, x + POINT_RADIUS, y + POINT_RADIUS)
        if visible is None or visible[index]:
            draw.ellipse(ring, fill=colour, outline=(255, 255, 255))
        else:
            draw.ellipse(ring, outline=colour, width=1)


def overlay_mask(tile: Image.Image, placement: Placement, mask: np.ndarray) -> None:
    """Tint ``tile`` where the (H, W) label map ``mask`` is not 0, one colour per label."""
    labels = np.asarray(mask)
    if placement.scale >= 1.0:
        factor = int(placement.scale)
        shown = np.repeat(np.repeat(labels, factor, axis=0), factor, axis=1)
    else:
        picture = Image.fromarray(labels.astype(np.int32), mode="I")
        size = (placement.width, placement.height)
        shown = np.asarray(picture.resize(size, Image.Resampling.NEAREST))
    area = (
        placement.left,
        placement.top,
        placement.left + shown.shape[1],
        placement.top + shown.shape[0],
    )
    pixels = np.asarray(tile.crop(area), dtype=np.float64)
    tint = np.zeros_like(pixels)
    for value in np.unique(shown[shown != 0]):
        tint[shown == value] = label_colour(int(value))
    covered = (shown != 0)[..., None]
    blended = np.where(covered, pixels * (1 - MASK_OPACITY) + tint * MASK_OPACITY, pixels)
    tile.paste(Image.fromarray(np.round(blended).astype(np.uint8)), area[:2])
