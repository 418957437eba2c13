"""Targets drawn over a tile land on the pixels of the objects they describe.

The oracle is the image itself: objects are painted into it, the tile enlarges it, and the
box, dot or tint drawn from the object's coordinates must sit on the object's enlarged pixels.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import augcore
from augcore.contact_sheet import preview_sheet, variants_of
from augcore.overlays import (
    MASK_OPACITY,
    PALETTE,
    draw_boxes,
    draw_keypoints,
    label_colour,
    overlay_mask,
)
from augcore.sources import discover
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


def _labelled_preview(tmp_path, scene, coco, chain, per_image, seed):
    """A one-image COCO dataset previewed with ``chain``: (sheet, the variants' arrays)."""
    data = tmp_path / "data"
    data.mkdir()
    Image.fromarray(scene).save(data / "scene.png")
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    options = {"per_image": per_image, "seed": seed, "config": chain, "tile": 120}
    sheet = preview_sheet(
        [data], annotations=tmp_path / "coco.json", annotation_format="coco", **options
    )
    _, variants, _ = variants_of(
        augcore.Pipeline.from_config(chain),
        discover([data]).items[0],
        seed=seed,
        per_image=per_image,
    )
    return sheet, variants


def _in_cell(pixels, cell, colour):
    """Where ``colour`` is drawn inside ``cell``'s image on the sheet."""
    region = np.zeros(pixels.shape[:2], bool)
    region[cell.box[1] : cell.box[3], cell.box[0] : cell.box[2]] = True
    return region & (pixels == colour).all(axis=2)


def test_a_preview_draws_each_variant_s_moved_box_around_its_moved_object(tmp_path):
    """COCO labels through the job's own reader and mover: on every tile, the box drawn from
    the moved annotation outlines exactly the object's pixels in that variant."""
    scene = np.zeros((40, 60, 3), np.uint8)
    scene[10:20, 20:35] = 255
    coco = {
        "images": [{"id": 1, "file_name": "scene.png", "width": 60, "height": 40}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [20, 10, 15, 10]}],
        "categories": [{"id": 7, "name": "a"}],
    }
    flips = {
        "steps": [
            {"transform": "flip_horizontal", "p": 0.5},
            {"transform": "flip_vertical", "p": 0.5},
        ]
    }
    sheet, variants = _labelled_preview(tmp_path, scene, coco, flips, per_image=6, seed=1)
    pixels = np.asarray(sheet.image)
    seen = set()
    for cell in sheet.cells:
        array = scene if cell.k is None else variants[cell.k]
        top, bottom, left, right = _extent(array[..., 0] == 255)
        seen.add((top, left))
        s = int(cell.scale)
        expected = (
            cell.box[1] + top * s,
            cell.box[1] + (bottom + 1) * s - 1,
            cell.box[0] + left * s,
            cell.box[0] + (right + 1) * s - 1,
        )
        outline = _in_cell(pixels, cell, label_colour("a"))
        assert _extent(outline) == expected, cell.k
    assert len(seen) > 2  # the flips moved the object to several corners


def test_broken_labels_of_a_shown_input_stop_or_get_a_row(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    Image.new("RGB", (30, 20)).save(data / "a.png")
    coco = {
        "images": [{"id": 1, "file_name": "a.png", "width": 30, "height": 20}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 9, "bbox": [0, 0, 5, 5]}],
        "categories": [{"id": 7, "name": "a"}],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    options = {"annotations": tmp_path / "coco.json", "annotation_format": "coco"}
    with pytest.raises(augcore.AnnotationError, match="annotation problem"):
        preview_sheet([data], **options)
    sheet = preview_sheet([data], on_error="skip", **options)
    assert sheet.cells == []  # its row says why instead
    with pytest.raises(augcore.JobOptionError, match="go together"):
        preview_sheet([data], annotations=tmp_path / "coco.json")


def test_keypoints_and_polygons_follow_a_rotation(tmp_path):
    scene = np.zeros((40, 60, 3), np.uint8)
    scene[7:10, 29:32] = 255  # a 3x3 dot centred on pixel (8, 30): continuous (30.5, 8.5)
    square = [10, 20, 20, 20, 20, 30, 10, 30]  # a polygon well inside the canvas
    coco = {
        "images": [{"id": 1, "file_name": "scene.png", "width": 60, "height": 40}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 20, 10, 10],
                "segmentation": [square],
                "keypoints": [30.5, 8.5, 2],
            }
        ],
        "categories": [{"id": 1, "name": "p", "keypoints": ["dot"]}],
    }
    chain = {"steps": [{"transform": "rotate", "degrees": [-25, 25]}]}
    sheet, variants = _labelled_preview(tmp_path, scene, coco, chain, per_image=4, seed=2)
    pixels = np.asarray(sheet.image)
    for cell in sheet.cells:
        array = scene if cell.k is None else variants[cell.k]
        white = np.argwhere(array[..., 0] == 255).mean(axis=0)  # (row, col) of the dot
        s = cell.scale
        expected = (cell.box[1] + (white[0] + 0.5) * s, cell.box[0] + (white[1] + 0.5) * s)
        dot = _in_cell(pixels, cell, label_colour(0))
        np.testing.assert_allclose(np.argwhere(dot).mean(axis=0), expected, atol=s)
