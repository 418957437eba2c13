"""Targets move with their pixels: checked against objects drawn into images and warped.

The oracle is always the image: a polygon, an ellipse or coloured dots are drawn by Pillow,
the drawing is warped by the kernel with a pull map, and the moved targets must describe what
the warped drawing shows. Nothing is compared with a second copy of augcore's arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from targets_oracles import draw_dots, draw_ellipse, draw_polygon, iou, mask_box, pull_map

import augcore
from augcore.targets import (
    Boxes,
    Keypoints,
    Masks,
    TargetOptions,
    Targets,
    clip_polygon,
    forward_map,
    move_boxes,
    move_keypoints,
    move_polygon,
    move_targets,
    move_targets_batch,
)

SHAPE = (180, 220)
POLYGON = np.array([[60.3, 50.2], [150.6, 62.1], [130.2, 140.7], [70.9, 120.3]])
MAPS = {
    "rotate 30": dict(degrees=30),
    "rotate -75, zoom": dict(degrees=-75, scale=(1.3, 1.3)),
    "flip x": dict(flip_x=True),
    "flip y, shift": dict(flip_y=True, shift=(7, -11)),
    "two flips": dict(flip_x=True, flip_y=True),
    "shear, shrink": dict(shear=0.3, scale=(0.8, 0.9), degrees=10),
    "anisotropic": dict(scale=(1.4, 0.7), degrees=45),
}


@pytest.mark.parametrize("name", MAPS)
def test_moved_polygon_rasterised_equals_the_warped_mask(name):
    pull = pull_map(SHAPE, **MAPS[name])
    warped = augcore.warp_affine(draw_polygon(SHAPE, POLYGON), pull, fill_mode="constant")
    moved = move_polygon(forward_map(pull), POLYGON, SHAPE)
    assert iou(draw_polygon(SHAPE, moved), warped) >= 0.98


def test_a_polygon_leaving_the_canvas_is_clipped_like_its_raster():
    pull = pull_map(SHAPE, degrees=20, shift=(-90, 100))
    warped = augcore.warp_affine(draw_polygon(SHAPE, POLYGON), pull, fill_mode="constant")
    moved = move_polygon(forward_map(pull), POLYGON, SHAPE)
    assert 0 < warped.sum() < draw_polygon(SHAPE, POLYGON).sum()
    assert moved[:, 0].max() == SHAPE[1] or moved[:, 1].min() == 0
    assert iou(draw_polygon(SHAPE, moved), warped) >= 0.98


def test_polygon_clipping_equals_the_raster_of_the_unclipped_polygon_cut_to_the_canvas():
    shape, pad = (60, 80), 50
    polygon = np.array([[-20.5, 10.0], [50.0, -30.0], [110.0, 40.0], [30.0, 90.0]])
    clipped = clip_polygon(polygon, shape)
    big = draw_polygon(shape, polygon, offset=pad)[pad:-pad, pad:-pad]
    assert iou(draw_polygon(shape, clipped), big) >= 0.98
    assert clip_polygon(polygon + 500, shape).shape == (0, 2)


@pytest.mark.parametrize("name", MAPS)
def test_each_dots_colour_sits_at_its_moved_keypoint(name):
    pixels = [(30, 40), (90, 110), (150, 60), (45, 190), (120, 170), (89, 3)]
    image, colours = draw_dots(SHAPE, pixels)
    pull = pull_map(SHAPE, **MAPS[name])
    warped = augcore.warp_affine(image, pull, fill_mode="constant")
    points = Keypoints([(c + 0.5, r + 0.5) for r, c in pixels])
    moved = move_keypoints(points, forward_map(pull), SHAPE, SHAPE)
    for (x, y), visible, colour in zip(moved.data, moved.visible, colours, strict=True):
        present = (warped == colour).all(axis=-1).any()
        if not visible:
            assert not (0 <= x < SHAPE[1] and 0 <= y < SHAPE[0])
            continue
        assert present
        assert tuple(warped[int(y), int(x)]) == colour


def test_keypoints_leaving_the_canvas_stay_in_the_array_but_invisible():
    points = Keypoints([[10.5, 10.5], [100.5, 90.5]], visible=[True, False], labels=["a", "b"])
    moved = move_keypoints(points, forward_map(pull_map(SHAPE, shift=(0, 150))), SHAPE, SHAPE)
    assert len(moved) == 2 and moved.labels.tolist() == ["a", "b"]
    assert moved.visible.tolist() == [True, False]  # b stays invisible; it did not become visible
    assert moved.data[1, 0] > SHAPE[1]
    gone = move_keypoints(points, forward_map(pull_map(SHAPE, shift=(0, 215))), SHAPE, SHAPE)
    assert gone.visible.tolist() == [False, False]


@pytest.mark.parametrize(
    ("name", "swapped"),
    [("flip x", True), ("flip y, shift", True), ("two flips", False), ("rotate 30", False)],
)
def test_flip_pairs_swap_only_when_the_map_mirrors(name, swapped):
    pixels = [(60, 70), (60, 150), (130, 110)]  # left eye, right eye, nose
    image, colours = draw_dots(SHAPE, pixels)
    pull = pull_map(SHAPE, **MAPS[name])
    warped = augcore.warp_affine(image, pull, fill_mode="constant")
    points = Keypoints([(c + 0.5, r + 0.5) for r, c in pixels], flip_pairs=[(0, 1)])
    moved = move_keypoints(points, forward_map(pull), SHAPE, SHAPE)
    source = [1, 0, 2] if swapped else [0, 1, 2]
    for row, dot in enumerate(source):
        x, y = moved.data[row]
        assert tuple(warped[int(y), int(x)]) == colours[dot]


@pytest.mark.parametrize("name", MAPS)
def test_the_enclosing_box_holds_every_moved_corner_and_touches_each_side(name):
    box = (80.0, 60.0, 141.0, 111.0)
    corners = [(60, 80), (60, 140), (110, 140), (110, 80)]  # pixel (row, col) inside each corner
    image, colours = draw_dots(SHAPE, corners)
    pull = pull_map(SHAPE, **MAPS[name])
    warped = augcore.warp_affine(image, pull, fill_mode="constant")
    moved = move_boxes(Boxes([box]), forward_map(pull), SHAPE, SHAPE)
    x0, y0, x1, y1 = moved.boxes.data[0]
    found = []
    for colour in colours:  # where each corner's dot landed: the centroid of its pixels
        rows, cols = np.nonzero((warped == colour).all(axis=-1))
        found.append((cols.mean() + 0.5, rows.mean() + 0.5))
    found = np.array(found)
    assert (x0 - 1 <= found[:, 0]).all() and (found[:, 0] <= x1 + 1).all()
    assert (y0 - 1 <= found[:, 1]).all() and (found[:, 1] <= y1 + 1).all()
    tight = np.r_[found.min(axis=0), found.max(axis=0)]
    # corner dots sit half a pixel in from the corners; scaled by at most 1.4 and rounded
    assert np.abs(tight - moved.boxes.data[0]).max() <= 2.0


@pytest.mark.parametrize("name", ["rotate 30", "rotate -75, zoom", "shear, shrink", "anisotropic"])
def test_ellipse_boxes_are_the_box_of_the_warped_ellipse(name):
    box = (60.0, 50.0, 160.0, 110.0)
    pull = pull_map(SHAPE, **MAPS[name])
    warped = augcore.warp_affine(draw_ellipse(SHAPE, box), pull, fill_mode="constant")
    moved = move_boxes(Boxes([box]), forward_map(pull), SHAPE, SHAPE, rule="ellipse")
    assert np.abs(moved.boxes.data[0] - mask_box(warped)).max() <= 1.5
    enclosing = move_boxes(Boxes([box]), forward_map(pull), SHAPE, SHAPE).boxes.data[0]
    assert (enclosing[2:] - enclosing[:2] > moved.boxes.data[0, 2:] - moved.boxes.data[0, :2]).all()


@pytest.mark.parametrize("degrees", [0, 17, 90, 133, -60])
def test_ellipse_boxes_match_the_closed_form(degrees):
    pull = pull_map(SHAPE, degrees=degrees, scale=(1.2, 0.8), shear=0.2)
    linear_rc = np.linalg.inv(pull[:2, :2])
    a_xy = linear_rc[::-1, ::-1]  # (x, y) order: swap both axes
    centre, half = np.array([110.0, 80.0]), np.array([30.0, 12.0])
    moved = move_boxes(
        Boxes([[*centre, *(2 * half)]], format="cxcywh"),
        forward_map(pull),
        SHAPE,
        (999, 999),
        rule="ellipse",
    ).boxes.data[0]
    extents = np.sqrt((a_xy * half) ** 2 @ np.ones(2))
    assert np.allclose(moved[2:], 2 * extents)


def test_boxes_are_clipped_and_filtered_with_labels_columns_and_instance_masks_in_step():
    boxes = Boxes(
        [[10, 10, 50, 50], [190, 20, 230, 60], [150, 100, 219, 170], [100, 100, 102, 102]],
        labels=["a", "b", "c", "d"],
        columns={"id": [1, 2, 3, 4]},
    )
    instances = np.zeros((4, *SHAPE), np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(boxes.data.astype(int)):
        instances[i, y0:y1, x0:x1] = i + 1
    targets = Targets(boxes=boxes, masks=Masks(instances, per_box=True))
    shift = np.array([[1.0, 0, 0], [0, 1, -30], [0, 0, 1]])  # the picture moves 30 px right
    options = TargetOptions(min_visibility=0.5, min_area=10)
    moved = move_targets(targets, shift, SHAPE, SHAPE, options=options, fill_mode="constant")
    assert moved.kept.tolist() == [0, 2]
    assert moved.targets.boxes.labels.tolist() == ["a", "c"]
    assert moved.targets.boxes.columns["id"].tolist() == [1, 3]
    assert moved.targets.boxes.data.tolist() == [[40, 10, 80, 50], [180, 100, 220, 170]]
    assert moved.dropped == [{"index": 1, "reason": "outside"}, {"index": 3, "reason": "min_area"}]
    assert [np.unique(m).tolist() for m in moved.targets.masks.data] == [[0, 1], [0, 3]]
    for mask, box in zip(moved.targets.masks.data, moved.targets.boxes.data, strict=True):
        assert (mask_box(mask) == box).all()


def test_min_visibility_measures_the_fraction_left_on_the_canvas():
    boxes = Boxes([[0, 0, 100, 10], [0, 20, 100, 30]], labels=[0, 1])
    shift = np.array([[1.0, 0, 0], [0, 1, 40], [0, 0, 1]])  # 40 px left: 60% of each box stays
    keep = move_targets(
        Targets(boxes=boxes), shift, SHAPE, SHAPE, options=TargetOptions(min_visibility=0.6)
    )
    drop = move_targets(
        Targets(boxes=boxes), shift, SHAPE, SHAPE, options=TargetOptions(min_visibility=0.61)
    )
    assert keep.kept.tolist() == [0, 1] and drop.kept.tolist() == []
    assert {d["reason"] for d in drop.dropped} == {"min_visibility"}


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_formats_and_normalised_boxes_come_back_in_their_own_terms(fmt):
    xyxy = np.array([[20.0, 30.0, 60.0, 90.0]])
    given = Boxes(xyxy, format="xyxy").from_xyxy(xyxy, SHAPE, np.arange(1))
    data = {"xyxy": xyxy, "xywh": [[20, 30, 40, 60]], "cxcywh": [[40, 60, 40, 60]]}[fmt]
    boxes = Boxes(np.array(data, float) / [220, 180, 220, 180], format=fmt, normalized=True)
    assert np.allclose(boxes.to_xyxy(SHAPE), given.data)
    flip = pull_map(SHAPE, flip_x=True)
    moved = move_boxes(boxes, forward_map(flip), SHAPE, SHAPE).boxes
    assert moved.format == fmt and moved.normalized
    assert np.allclose(moved.to_xyxy(SHAPE), [[160, 30, 200, 90]])


def test_batch_moves_each_item_as_the_single_call_does():
    rng = np.random.default_rng(3)
    items, pulls = [], []
    for i in range(5):
        low = rng.uniform(0, 100, (3, 2))
        boxes = Boxes(np.c_[low, low + np.array([40, 30])], labels=[i, i, i])
        label_map = rng.integers(0, 7, SHAPE).astype(np.int16)
        points = Keypoints(rng.uniform(0, 180, (4, 2)), flip_pairs=[(0, 3)])
        items.append(Targets(boxes=boxes, keypoints=points, masks=Masks(label_map)))
        pulls.append(pull_map(SHAPE, degrees=40 * i, flip_x=bool(i % 2), scale=(1.1, 0.9)))
    batch = move_targets_batch(items, np.stack(pulls), SHAPE, SHAPE, threads=2)
    for item, pull, moved in zip(items, pulls, batch, strict=True):
        single = move_targets(item, pull, SHAPE, SHAPE)
        assert np.array_equal(single.targets.boxes.data, moved.targets.boxes.data)
        assert np.array_equal(single.targets.keypoints.data, moved.targets.keypoints.data)
        assert np.array_equal(single.targets.masks.data, moved.targets.masks.data)
        assert single.dropped == moved.dropped


def test_bad_targets_are_named_errors():
    with pytest.raises(augcore.TargetError, match="negative width"):
        Boxes([[10, 10, 5, 20]])
    with pytest.raises(augcore.TargetError, match="one entry per item"):
        Boxes([[0, 0, 1, 1]], labels=[1, 2])
    with pytest.raises(augcore.TargetError, match="format"):
        Boxes([[0, 0, 1, 1]], format="yolo")
    with pytest.raises(augcore.TargetError, match=r"\(N, 2\)"):
        Keypoints([[1, 2, 3]])
    with pytest.raises(augcore.TargetError, match="flip pair"):
        Keypoints([[1, 2]], flip_pairs=[(0, 1)])
    with pytest.raises(augcore.TargetError, match="per-box masks for 1 boxes"):
        Targets(boxes=Boxes([[0, 0, 1, 1]]), masks=Masks(np.zeros((2, 4, 4), bool), per_box=True))
    with pytest.raises(augcore.TargetError, match="cover the image"):
        move_targets(Targets(masks=Masks(np.zeros((4, 4), bool))), np.eye(3), SHAPE, SHAPE)
    with pytest.raises(augcore.TargetError, match="min_visibility"):
        TargetOptions(min_visibility=2)
    with pytest.raises(augcore.MatrixError, match="singular"):
        forward_map(np.zeros((3, 3)))


# --- projective maps and canvas changes (the kernel's warp_perspective and output_shape) ------
TILT = np.array([[0.9, 0.1, 12.0], [-0.05, 1.1, -8.0], [0.0012, -0.0009, 1.0]])
CROPS = {
    "tilt onto a smaller canvas": (TILT, (150, 200)),
    "tilt and mirror": (
        TILT @ np.diag([1.0, -1.0, 1.0]) + [[0, 0, 0], [0, 0, 230], [0, 0, 0]],
        (170, 240),
    ),
    "crop and enlarge": (np.array([[0.5, 0, 40], [0, 0.5, 60], [0, 0, 1.0]]), (200, 180)),
}


@pytest.mark.parametrize("name", CROPS)
def test_polygons_follow_projective_maps_and_canvas_changes(name):
    pull, out_shape = CROPS[name]
    warped = augcore.warp_perspective(
        draw_polygon(SHAPE, POLYGON), pull, output_shape=out_shape, fill_mode="constant"
    )
    moved = move_polygon(forward_map(pull), POLYGON, out_shape)
    assert iou(draw_polygon(out_shape, moved), warped) >= 0.98


@pytest.mark.parametrize("name", CROPS)
def test_dots_follow_projective_maps_and_flip_pairs_swap_on_a_projective_mirror(name):
    pull, out_shape = CROPS[name]
    pixels = [(60, 70), (60, 150), (130, 110), (20, 200)]
    image, colours = draw_dots(SHAPE, pixels)
    warped = augcore.warp_perspective(image, pull, output_shape=out_shape, fill_mode="constant")
    points = Keypoints([(c + 0.5, r + 0.5) for r, c in pixels], flip_pairs=[(0, 1)])
    moved = move_keypoints(points, forward_map(pull), SHAPE, out_shape)
    source = [1, 0, 2, 3] if "mirror" in name else [0, 1, 2, 3]
    for row, dot in enumerate(source):
        x, y = moved.data[row]
        if moved.visible[row]:
            assert tuple(warped[int(y), int(x)]) == colours[dot]
        else:  # off the canvas (its 3x3 dot may still show at the edge)
            assert not (0 <= x < out_shape[1] and 0 <= y < out_shape[0])
    assert not moved.visible.all() or "tilt" in name


@pytest.mark.parametrize("name", CROPS)
def test_boxes_and_ellipses_follow_projective_maps(name):
    pull, out_shape = CROPS[name]
    box = (60.0, 50.0, 160.0, 110.0)
    ellipse = augcore.warp_perspective(
        draw_ellipse(SHAPE, box), pull, output_shape=out_shape, fill_mode="constant"
    )
    moved = move_boxes(Boxes([box]), forward_map(pull), SHAPE, out_shape, rule="ellipse")
    assert np.abs(moved.boxes.data[0] - mask_box(ellipse)).max() <= 1.5
    filled = np.zeros(SHAPE, np.uint8)
    filled[50:110, 60:160] = 1
    quad = augcore.warp_perspective(filled, pull, output_shape=out_shape, fill_mode="constant")
    enclosing = move_boxes(Boxes([box]), forward_map(pull), SHAPE, out_shape).boxes.data[0]
    assert np.abs(enclosing - mask_box(quad)).max() <= 1.5


def test_masks_follow_projective_maps_onto_a_new_canvas():
    pull, out_shape = CROPS["tilt and mirror"]
    labels = np.random.default_rng(5).integers(0, 200, SHAPE)
    moved = move_targets(
        Targets(masks=Masks(labels.astype(np.int32) * 1000)),
        pull,
        SHAPE,
        out_shape,
        options=TargetOptions(mask_fill=-1),
    ).targets.masks.data
    oracle = augcore.warp_perspective(
        labels.astype(np.uint8), pull, output_shape=out_shape, fill_mode="constant", cval=255
    )
    expected = np.where(oracle == 255, -1, oracle.astype(np.int32) * 1000)
    assert moved.shape == out_shape and np.array_equal(moved, expected)


@settings(max_examples=60, deadline=None)
@given(
    degrees=st.floats(-180, 180),
    scale=st.floats(0.3, 3.0),
    shear=st.floats(-0.5, 0.5),
    flip=st.booleans(),
    tilt=st.floats(-0.002, 0.002),
    boxes=st.lists(
        st.tuples(st.floats(0, 200), st.floats(0, 160), st.floats(0.5, 60), st.floats(0.5, 60)),
        min_size=1,
        max_size=6,
    ),
)
def test_any_map_encloses_every_corner_and_batches_change_no_bit(
    degrees, scale, shear, flip, tilt, boxes
):
    pull = pull_map(SHAPE, degrees=degrees, scale=(scale, scale), shear=shear, flip_x=flip)
    pull[2, 0] = tilt  # a projective row, kept mild so the canvas stays before the horizon
    data = np.array([[x, y, x + w, y + h] for x, y, w, h in boxes])
    moved = move_boxes(Boxes(data), forward_map(pull), SHAPE, (10**6, 10**6))
    # oracle: LAPACK's inverse, in scipy's (row, col) index convention, on the 4 corners
    inverse = np.linalg.inv(pull)
    for j, index in enumerate(moved.kept):
        x0, y0, x1, y1 = data[index]
        corners = np.array([[y0, x0, 1], [y0, x1, 1], [y1, x1, 1], [y1, x0, 1]]) - [0.5, 0.5, 0]
        mapped = corners @ inverse.T
        # back to continuous (x, y); the box was clipped to the canvas, so are its corners
        xy = np.clip(mapped[:, [1, 0]] / mapped[:, 2:] + 0.5, 0, 10**6)
        low, high = moved.boxes.data[j, :2], moved.boxes.data[j, 2:]
        assert (xy >= low - 1e-6).all() and (xy <= high + 1e-6).all()
        assert np.allclose(xy.min(axis=0), low) and np.allclose(xy.max(axis=0), high)
    item = Targets(boxes=Boxes(data), keypoints=Keypoints(data[:, :2]))
    batch = move_targets_batch([item, item, item], np.stack([np.eye(3), pull, pull]), SHAPE, SHAPE)
    single = move_targets(item, pull, SHAPE, SHAPE)
    assert np.array_equal(batch[1].boxes.data, single.boxes.data)
    assert np.array_equal(batch[2].keypoints.data, single.keypoints.data, equal_nan=True)


def test_a_keypoint_behind_a_projective_horizon_is_kept_invisible_at_the_origin() -> None:
    """Found by the property test above (degrees -102, scale 3, a tilt): a point a projective
    map sends behind its horizon has no position; it stays in the array, invisible."""
    from augcore.targets.geometry import move_keypoints

    forward = np.array([[1.0, 0, 0], [0, 1.0, 0], [-0.5, 0, 1.0]])  # w <= 0 for x >= 2
    moved = move_keypoints(augcore.Keypoints([[1, 1], [3, 1]]), forward, (10, 10), (10, 10))
    np.testing.assert_array_equal(moved.data, [[2.0, 2.0], [0.0, 0.0]])
    assert moved.visible.tolist() == [True, False]
