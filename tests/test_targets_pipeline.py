"""Targets follow a pipeline's outputs: the augmented image itself is the oracle.

Dots and a polygon are drawn into the image; after ``augment`` each dot's colour must sit at
its moved keypoint and the label mask must cover what the image shows, whatever the chain:
built-in steps, a third-party geometric transform, pixel steps between fused runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from augcore.plugins.canvas import Crop, Perspective, RandomResizedCrop
from augcore.plugins.geometric import FlipHorizontal, Rotate, Shear, Zoom
from augcore.plugins.pixel import Brightness
from targets_oracles import draw_dots, draw_polygon, iou, mask_box

import augcore
from augcore import Boxes, Keypoints, Masks, OneOf, Step, TargetOptions
from augcore.targets.call import batch_targets, follow
from augcore.transform import GeometricTransform, Param

SHAPE = (96, 128)
PIXELS = [(30, 40), (30, 88), (70, 64), (48, 20)]  # left eye, right eye, nose, ear
POLYGON = np.array([[30.5, 20.2], [100.6, 28.1], [90.2, 80.7], [36.9, 70.3]])


class Transpose(GeometricTransform):
    """A third-party transform: only a matrix, no code for targets (square-free: swaps axes
    about the centre, a mirror)."""

    name = "transpose_test"
    params = (Param("amount", 1.0, "float", "", "unused", minimum=0.0),)

    def sample(self, draws, shape):
        return {"amount": draws.uniform(0, 0.0, 1.0)}

    def matrices(self, n, params, shape):
        centre_r, centre_c = (shape[0] - 1) / 2, (shape[1] - 1) / 2
        out = np.zeros((n, 3, 3))
        out[:, 0, 1] = out[:, 1, 0] = out[:, 2, 2] = 1.0
        out[:, 0, 2] = centre_r - centre_c
        out[:, 1, 2] = centre_c - centre_r
        return out


CHAINS = {
    "built-ins": [Rotate(degrees=35), Zoom(factor=0.2), FlipHorizontal()],
    "pixel steps split the runs": [
        Rotate(degrees=20),
        Brightness(),
        Step(FlipHorizontal(), p=0.5),
        Shear(degrees=10),
    ],
    "plugin geometric": [Transpose(), Rotate(degrees=10)],
    "groups": [OneOf([FlipHorizontal(), Rotate(degrees=90)]), Step(Zoom(factor=0.1), p=0.5)],
    "crop onto a new canvas": [Crop(height=64, width=100, position="random"), Rotate(degrees=20)],
    "resized crop": [RandomResizedCrop(height=120, width=150, scale=(0.5, 1.0)), FlipHorizontal()],
    "perspective": [Perspective(distortion_scale=0.4), Step(FlipHorizontal(), p=0.5)],
}


def labelled_image():
    image, colours = draw_dots(SHAPE, PIXELS)
    points = Keypoints([(c + 0.5, r + 0.5) for r, c in PIXELS], flip_pairs=[(0, 1)])
    return image, colours, points


@pytest.mark.parametrize("chain", CHAINS)
@pytest.mark.parametrize("k", range(4))
def test_dots_and_masks_follow_the_augmented_image(chain, k):
    pipeline = augcore.Pipeline(CHAINS[chain], fill_mode="constant")
    image, colours, points = labelled_image()
    brightness_free = "pixel" not in chain
    label_map = draw_polygon(SHAPE, POLYGON, value=7)
    out, record = pipeline.augment(image, seed=11, key="img", k=k)
    (moved,) = follow(
        [augcore.Targets(keypoints=points, masks=Masks(label_map))],
        [record],
        SHAPE,
        1,
        "constant",
        None,
    )
    mirrored = sum(s["name"] in ("flip_horizontal", "transpose_test") for s in record.steps) % 2
    source = [1, 0, 2, 3] if mirrored else [0, 1, 2, 3]
    for row, dot in enumerate(source):
        x, y = moved.keypoints.data[row]
        if moved.keypoints.visible[row] and brightness_free:
            assert tuple(out[int(y), int(x)]) == colours[dot]
    marker = np.zeros(SHAPE, np.uint8)
    marker[label_map == 7] = 255
    marker_out, _ = pipeline.augment(np.dstack([marker] * 3), seed=11, key="img", k=k)
    if brightness_free:
        assert np.array_equal(moved.masks.data == 7, marker_out[..., 0] == 255)
    else:
        assert iou(moved.masks.data == 7, marker_out[..., 0] > 0) >= 0.99


def test_batch_targets_equal_single_outputs_bit_for_bit():
    pipeline = augcore.Pipeline(CHAINS["pixel steps split the runs"], fill_mode="reflect")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (3, *SHAPE, 3), dtype=np.uint8)
    low = rng.uniform(0, 60, (3, 5, 2))
    boxes = [Boxes(np.c_[lo, lo + 30], labels=np.arange(5)) for lo in low]
    masks = rng.integers(0, 4, (3, 2, *SHAPE)).astype(np.uint16)
    points = [Keypoints(rng.uniform(0, 90, (6, 2))) for _ in range(3)]
    keys = ["a", "b", "c"]
    options = TargetOptions(min_visibility=0.4, mask_fill=9)
    outs, records, batch = pipeline.augment_batch(
        images,
        seed=4,
        keys=keys,
        per_image=2,
        threads=2,
        boxes=boxes,
        keypoints=points,
        masks=masks,
        target_options=options,
    )
    assert len(batch) == 6
    for i, moved in enumerate(batch):
        out, record, single = pipeline.augment(
            images[i // 2],
            seed=4,
            key=keys[i // 2],
            k=i % 2,
            boxes=boxes[i // 2],
            keypoints=points[i // 2],
            masks=masks[i // 2],
            target_options=options,
        )
        assert np.array_equal(out, outs[i]) and record == records[i]
        assert np.array_equal(single.boxes.data, moved.boxes.data)
        assert np.array_equal(single.boxes.labels, moved.boxes.labels)
        assert np.array_equal(single.keypoints.data, moved.keypoints.data, equal_nan=True)
        assert np.array_equal(single.masks.data, moved.masks.data)
        assert single.dropped == moved.dropped and np.array_equal(single.kept, moved.kept)


def test_without_targets_the_calls_return_what_they_always_did():
    pipeline = augcore.Pipeline(CHAINS["built-ins"])
    image = np.zeros(SHAPE, np.uint8)
    assert len(pipeline.augment(image, seed=0, key="a")) == 2
    assert len(pipeline.augment_batch([image], seed=0)) == 2
    _, _, moved = pipeline.augment(image, seed=0, key="a", masks=image)
    assert moved.masks.data.shape == SHAPE and moved.boxes is None


def test_drops_across_two_runs_name_the_original_boxes():
    pipeline = augcore.Pipeline(
        [
            augcore.plugins.geometric.Shift(x=(0.3, 0.3), y=0),
            Brightness(),
            augcore.plugins.geometric.Shift(x=(0.3, 0.3), y=0),
        ],
        fill_mode="constant",
    )
    boxes = Boxes([[10, 10, 20, 20], [80, 10, 100, 20], [110, 10, 120, 20]], labels=[0, 1, 2])
    _, record = pipeline.augment(np.zeros(SHAPE, np.uint8), seed=0, key="x")
    assert len(record.fused) == 2
    (moved,) = follow([augcore.Targets(boxes=boxes)], [record], SHAPE, 1, "constant", None)
    assert moved.kept.tolist() == [0] and moved.boxes.labels.tolist() == [0]
    assert moved.dropped == [{"index": 1, "reason": "outside"}, {"index": 2, "reason": "outside"}]


def test_bad_batch_targets_are_named():
    with pytest.raises(augcore.BatchLengthError, match="2 images but 1 boxes"):
        batch_targets(2, boxes=[Boxes([[0, 0, 1, 1]])])
    with pytest.raises(augcore.TargetError, match="one entry per image"):
        batch_targets(2, keypoints=Keypoints([[1, 2]]))


def test_a_run_onto_a_new_canvas_takes_the_targets_there():
    """A record whose fused run carries the shape it wrote (crops, resizes, perspective)."""
    crop = np.array([[0.5, 0.0, 20.0], [0.0, 0.5, 30.0], [0.0, 0.0, 1.0]])  # 2x zoom of a part
    records = [{"fused": [{"steps": [0], "matrix": crop.tolist(), "shape": [64, 80]}]}]
    label_map = draw_polygon(SHAPE, POLYGON, value=3)
    boxes = Boxes([[30, 20, 60, 40], [100, 80, 120, 90]], labels=["in", "out"])
    (moved,) = augcore.targets.follow_records(
        [augcore.Targets(boxes=boxes, masks=Masks(label_map))], records, SHAPE
    )
    expected = augcore.warp_perspective(label_map, crop, output_shape=(64, 80))
    assert np.array_equal(moved.masks.data, expected)
    assert moved.boxes.labels.tolist() == ["in"]
    # output pixel centre c' + 0.5 shows input c = c' / 2 + 30: x' = 2 x - 60.5, y' = 2 y - 40.5
    assert moved.boxes.data.tolist() == [[0.0, 0.0, 59.5, 39.5]]
    assert moved.dropped == [{"index": 1, "reason": "outside"}]


def test_pixel_steps_never_touch_targets():
    pipeline = augcore.Pipeline([Brightness(), augcore.plugins.pixel.GaussianNoise()])
    image, _, points = labelled_image()
    boxes = Boxes([[10.25, 5.5, 40.75, 30.0]], labels=[1])
    masks = Masks(np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE))
    out, record, moved = pipeline.augment(
        image, seed=0, key="x", boxes=boxes, keypoints=points, masks=masks
    )
    assert record.fused == [] and not np.array_equal(out, image)
    assert moved.boxes.data.tolist() == boxes.data.tolist()
    assert np.array_equal(moved.keypoints.data, points.data) and moved.keypoints.visible.all()
    assert np.array_equal(moved.masks.data, masks.data)


def test_a_pipelines_target_options_come_from_its_config_and_apply_by_default():
    config = {
        "steps": [{"transform": "shift", "x": [0.5, 0.5], "y": 0}],
        "targets": {"min_visibility": 0.6, "box_rule": "ellipse", "mask_fill": 255},
    }
    pipeline = augcore.Pipeline.from_config(config)
    assert pipeline.targets == TargetOptions(box_rule="ellipse", min_visibility=0.6, mask_fill=255)
    assert augcore.Pipeline.from_config(pipeline.to_config()) == pipeline
    assert "targets" not in augcore.Pipeline.default().to_config()  # unchanged when unset
    boxes = Boxes([[10, 10, 50, 20], [40, 30, 100, 40]], labels=["kept", "cut"])
    image = np.zeros(SHAPE, np.uint8)
    _, _, moved = pipeline.augment(image, seed=0, key="x", boxes=boxes, masks=image)
    assert moved.boxes.labels.tolist() == ["kept"]  # "cut" keeps 24 of 60 pixels in width
    assert moved.dropped == [{"index": 1, "reason": "min_visibility"}]
    assert (moved.masks.data[:, :64] == 255).all()  # the picture moved 64 px right
    _, _, relaxed = pipeline.augment(
        image, seed=0, key="x", boxes=boxes, target_options=TargetOptions()
    )
    assert relaxed.boxes.labels.tolist() == ["kept", "cut"]


@pytest.mark.parametrize(
    ("table", "message"),
    [({"min_visibilty": 0.5}, "keys among"), ({"box_rule": "tight"}, "box_rule must be one of")],
)
def test_bad_target_options_in_a_config_are_config_errors(table, message):
    with pytest.raises(augcore.ConfigError, match=message):
        augcore.Pipeline.from_config({"steps": [], "targets": table})


def test_the_example_plugins_quarter_turn_takes_targets_onto_its_turned_canvas(monkeypatch):
    example = Path(__file__).parents[1] / "examples" / "augcore-example-plugin" / "src"
    monkeypatch.syspath_prepend(str(example))
    from augcore_example_plugin import QuarterTurn

    pipeline = augcore.Pipeline([QuarterTurn(turns="odd")])
    image, colours, points = labelled_image()
    boxes = Boxes([[40, 30, 88, 70]], labels=["face"])
    for k in range(4):
        out, record, moved = pipeline.augment(
            image, seed=0, key="x", k=k, boxes=boxes, keypoints=points
        )
        turns = record.steps[0]["params"]["turns"]
        assert np.array_equal(out, np.rot90(image, turns))  # the oracle: numpy's own turn
        for row, (x, y) in enumerate(moved.keypoints.data):  # a turn is no mirror: no swap
            assert tuple(out[int(y), int(x)]) == colours[row]
        turned = np.rot90(np.pad(np.ones((40, 48), np.uint8), ((30, 26), (40, 40))), turns)
        assert moved.boxes.data.tolist() == [mask_box(turned).tolist()]
