"""Targets drawn over a tile land on the pixels of the objects they describe.

The oracle is the image itself: objects are painted into it, the tile enlarges it, and the
box, dot or tint drawn from the object's coordinates must sit on the object's enlarged pixels.
"""

from __future__ import annotations

import numpy as np
import pytest

from augcore.contact_sheet import preview_sheet
from augcore.overlays import (
    MASK_OPACITY,
    PALETTE,
    draw_boxes,
    draw_keypoints,
    label_colour,
    overlay_mask,
)
from augcore.tiles import tile_image

ROWS, COLS = slice(3, 8), slice(2, 6)  # a white object: rows 3..7, columns 2..5


def _scene(shape=(12, 16)):
    image = np.zeros(shape, np.uint8)
    image[ROWS, COLS] = 255
    image[10, 13] = 255  # a single-pixel object for keypoints
    return image


def _extent(mask):
    rows, cols = np.nonzero(mask)
    return rows.min(), rows.max(), cols.min(), cols.max()


@pytest.mark.parametrize("box", [64, 40])  # scale 4, and scale 2 with an offset
def test_a_box_outlines_exactly_its_object(box):
    tile, placed = tile_image(_scene(), box)
    white = np.asarray(tile)[..., 0] == 255
    object_extent = _extent(
        white & (np.arange(tile.height)[:, None] < placed.top + 9 * placed.scale)
    )
    draw_boxes(tile, placed, np.array([[2.0, 3.0, 6.0, 8.0]]), labels=None)
    outline = (np.asarray(tile) == PALETTE[0]).all(axis=2)
    assert _extent(outline) == object_extent


def test_a_keypoint_sits_on_its_pixel_centre():
    tile, placed = tile_image(_scene(), 64)
    before = np.asarray(tile)[..., 0] == 255
    single = before.copy()
    single[: placed.top + 9 * int(placed.scale)] = False  # only the one-pixel object
    centre = np.argwhere(single).mean(axis=0)
    draw_keypoints(tile, placed, np.array([[13.5, 10.5]]))
    dot = (np.asarray(tile) == label_colour(0)).all(axis=2)
    np.testing.assert_allclose(np.argwhere(dot).mean(axis=0), centre, atol=0.5)


def test_a_mask_tints_exactly_its_pixels_with_its_label_colour():
    scene = _scene()
    tile, placed = tile_image(scene, 64)
    before = np.asarray(tile).astype(np.float64)
    mask = np.zeros(scene.shape, np.uint8)
    mask[ROWS, COLS] = 3
    overlay_mask(tile, placed, mask)
    after = np.asarray(tile).astype(np.float64)
    changed = (after != before).any(axis=2)
    white_object = (before[..., 0] == 255) & (
        np.arange(tile.height)[:, None] < placed.top + 9 * placed.scale
    )
    np.testing.assert_array_equal(changed, white_object)
    expected = before[changed] * (1 - MASK_OPACITY) + np.array(PALETTE[3]) * MASK_OPACITY
    np.testing.assert_allclose(after[changed], expected, atol=0.5)


def test_a_reduced_tile_still_tints_its_object():
    scene = np.zeros((200, 100), np.uint8)
    scene[50:150, 20:60] = 255
    tile, placed = tile_image(scene, 50)  # scale 1/4
    mask = (scene == 255).astype(np.uint8)
    overlay_mask(tile, placed, mask)
    tinted = np.asarray(tile)[..., 1] != np.asarray(tile)[..., 0]
    top, bottom, left, right = _extent(tinted)
    # Tile pixels whose centre maps into the object: rows [50, 150) / 4 = [12.5, 37.5), so
    # rows 12..36; columns [20, 60) / 4 = [5, 15), so 5..14.
    assert (top, bottom + 1) == (placed.top + 12, placed.top + 37)
    assert (left, right + 1) == (placed.left + 5, placed.left + 15)


def test_labels_keep_their_colour():
    assert label_colour(3) == PALETTE[3] and label_colour(3 + len(PALETTE)) == PALETTE[3]
    assert label_colour("cat") == label_colour("cat")


def test_drawing_on_a_sheet_through_a_cell_s_placement():
    sheet = preview_sheet(samples=True, per_image=1, limit=2)
    cell = sheet.cells[2]  # the second input's original
    height, width = (
        (cell.box[3] - cell.box[1]) / cell.scale,
        (cell.box[2] - cell.box[0]) / cell.scale,
    )
    draw_boxes(sheet.image, cell.placement, np.array([[0, 0, width, height]]))
    outline = (np.asarray(sheet.image) == PALETTE[0]).all(axis=2)
    left, top, right, bottom = cell.box
    assert _extent(outline) == (top, bottom - 1, left, right - 1)  # the whole image, no more
