"""Shared oracles for the target tests: pull maps built by hand, and objects drawn by Pillow.

Coordinates are augcore's continuous pixel coordinates: pixel (r, c) spans [c, c+1) x [r, r+1),
so Pillow (which puts pixel centres on integers) is handed every vertex shifted by -0.5.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def pull_map(
    shape, *, degrees=0.0, scale=(1.0, 1.0), flip_x=False, flip_y=False, shift=(0, 0), shear=0.0
):
    """A pull map in scipy's (row, col) convention about the centre of ``shape``: the output
    shows the input rotated by ``degrees`` (counter-clockwise), scaled, flipped and shifted."""
    height, width = shape[:2]
    theta = np.deg2rad(degrees)
    forward = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    forward = forward @ np.array([[1.0, shear], [0.0, 1.0]])
    forward = forward @ np.diag(
        [scale[0] * (-1 if flip_y else 1), scale[1] * (-1 if flip_x else 1)]
    )
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    pull = np.eye(3)
    pull[:2, :2] = np.linalg.inv(forward)
    pull[:2, 2] = centre - pull[:2, :2] @ (centre + np.asarray(shift, dtype=float))
    return pull


def draw_polygon(shape, polygon, value=1, offset=0, fine=8):
    """A uint8 mask of ``shape`` with the pixels the polygon covers by half or more set to
    ``value``: Pillow fills it at ``fine`` times the resolution (its own raster adds the
    outline, which is not mirror-symmetric), then the cover is box-reduced."""
    height, width = shape[0] + 2 * offset, shape[1] + 2 * offset
    image = Image.new("L", (width * fine, height * fine))
    vertices = [((x + offset) * fine - 0.5, (y + offset) * fine - 0.5) for x, y in polygon]
    if len(vertices) >= 3:
        ImageDraw.Draw(image).polygon(vertices, fill=255)
    cover = np.array(image.reduce(fine), dtype=np.float64)
    return np.where(cover >= 127.5, value, 0).astype(np.uint8)


def draw_ellipse(shape, box, value=1, fine=8):
    """A uint8 mask with the pixels half covered by the ellipse inscribed in ``box``
    (x0, y0, x1, y1) set to ``value`` (drawn finely, as ``draw_polygon``)."""
    image = Image.new("L", (shape[1] * fine, shape[0] * fine))
    x0, y0, x1, y1 = (fine * v for v in box)
    ImageDraw.Draw(image).ellipse((x0, y0, x1 - 1, y1 - 1), fill=255)
    cover = np.array(image.reduce(fine), dtype=np.float64)
    return np.where(cover >= 127.5, value, 0).astype(np.uint8)


def draw_dots(shape, pixels, radius=1):
    """An RGB image, black but for a (2 radius + 1)² square of a distinct colour around each
    (row, col) in ``pixels``; returns the image and the colours."""
    image = Image.new("RGB", (shape[1], shape[0]))
    draw = ImageDraw.Draw(image)
    colours = [(40 + 50 * (i % 5), 60 + 37 * (i // 5), 200 - 13 * i) for i in range(len(pixels))]
    for (r, c), colour in zip(pixels, colours, strict=True):
        draw.rectangle((c - radius, r - radius, c + radius, r + radius), fill=colour)
    return np.array(image), colours


def iou(a, b):
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    return (a & b).sum() / max((a | b).sum(), 1)


def mask_box(mask):
    """The tight (x0, y0, x1, y1) of a mask's set pixels in continuous coordinates."""
    rows, cols = np.nonzero(mask)
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=float)
