"""Canvas steps inside pipelines: one warp per run, exact batches, box reduce, records, replay.

Oracles: the steps applied one by one with scipy.ndimage (each its own resample, onto its own
canvas), Pillow's ``Image.reduce`` for the box reduce, and ``augment`` vs ``augment_batch``.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from augcore.plugins.canvas import Crop, Pad, Perspective, RandomResizedCrop, Resize
from augcore.plugins.geometric import FlipHorizontal, Rotate, Zoom
from augcore.plugins.pixel import Brightness
from PIL import Image
from scipy import ndimage

import augcore

RNG = np.random.default_rng(11)
WIDE = RNG.integers(0, 256, (3, 30, 47, 3), dtype=np.uint8)
KEYS = ["a.png", "b.png", "c.png"]


def one_by_one(
    image: np.ndarray,
    record: augcore.Record,
    pipeline: augcore.Pipeline,
    order: int = 0,
    mode: str = "constant",
) -> np.ndarray:
    """The record's steps applied one at a time with scipy, each onto its own canvas."""
    leaves = pipeline._chain.leaves
    out = image.astype(np.float64)
    for entry in record.steps:
        transform = leaves[entry["step"]].step.transform
        params = {name: np.asarray([value]) for name, value in entry["params"].items()}
        matrix = transform.matrices(1, params, out.shape)[0]
        canvas = transform.canvas(out.shape)
        out = np.stack(
            [
                ndimage.affine_transform(out[..., c], matrix, output_shape=canvas[:2], order=order,
                                         mode=mode, cval=0.0)
                for c in range(out.shape[2])
            ],
            axis=-1,
        )  # fmt: skip
    return out.astype(image.dtype)


def test_integer_canvas_steps_fuse_into_one_warp_equal_to_scipy_step_by_step(monkeypatch) -> None:
    """Pads (edge fill), crops, flips, quarter turns of a square and an exact 2x enlargement
    lose nothing one by one, so the fused single warp must equal them exactly."""
    steps = [Pad(top=4, left=3, bottom=1, right=2), Crop(height=30, width=30, position="random"),
             FlipHorizontal(), Rotate(degrees=[90, 90]), Resize(height=60, width=60)]  # fmt: skip
    pipeline = augcore.Pipeline(steps, fill_mode="nearest")
    calls = []
    real = augcore.fusion.warp_affine_batch
    monkeypatch.setattr(
        augcore.fusion, "warp_affine_batch", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    outs, records = pipeline.augment_batch(WIDE, seed=4, keys=KEYS, per_image=2)
    assert outs.shape == (6, 60, 60, 3) and calls == [1]
    for index, record in enumerate(records):
        assert record.fused[0]["shape"] == [60, 60]
        assert [step.get("canvas") for step in record.steps] == [
            [35, 52], [30, 30], None, None, [60, 60]
        ]  # fmt: skip
        expected = one_by_one(WIDE[index // 2], record, pipeline, mode="nearest")
        np.testing.assert_array_equal(outs[index], expected)


def test_resampling_canvas_steps_stay_close_to_scipy_step_by_step() -> None:
    """With real resampling, one bilinear warp differs from a chain of bilinear warps only by
    the chain's extra interpolation: on a smooth image, by a small fraction of its range."""
    rows, cols = np.mgrid[0:60, 0:90]
    smooth = (100 + 80 * np.sin(rows / 9.0) * np.cos(cols / 13.0)).astype(np.float32)[..., None]
    steps = [Resize(height=45, width=70), Rotate(degrees=[-20, 20]), Crop(height=30, width=50)]
    pipeline = augcore.Pipeline(steps, order=1, fill_mode="constant")
    outs, records = pipeline.augment_batch(smooth[None], seed=1, keys=["s"], per_image=4)
    for out, record in zip(outs, records, strict=True):
        expected = one_by_one(smooth, record, pipeline, order=1)
        assert out.shape == expected.shape == (30, 50, 1)
        inside = (slice(8, -8), slice(8, -8))  # away from where the rotation brings in the fill
        assert np.abs(out[inside] - expected[inside]).max() < 4.0


@pytest.mark.parametrize("shape", [(30, 47, 3), (64, 21), (40, 40, 4)])
def test_random_resized_crop_single_equals_batch_with_p_and_one_of(shape) -> None:
    images = RNG.integers(0, 256, (4, *shape), dtype=np.uint8)
    crop = RandomResizedCrop(height=16, width=24)
    pipeline = augcore.Pipeline(
        [augcore.Step(crop, p=0.5), augcore.OneOf([Rotate(), Resize(height=20, width=20)]),
         Brightness()],
        order=1,
    )  # fmt: skip
    keys = [f"k{i}" for i in range(4)]
    outs, records = pipeline.augment_batch(images, seed=9, keys=keys, per_image=3)
    assert outs.shape == (12, 20, 20, *shape[2:])
    fired = [any(s["name"] == "random_resized_crop" for s in r.steps) for r in records]
    assert 0 < sum(fired) < 12  # p=0.5: some outputs fall back to the plain resize
    for index, record in enumerate(records):
        single, single_record = pipeline.augment(
            images[index // 3], seed=9, key=keys[index // 3], k=index % 3
        )
        np.testing.assert_array_equal(single, outs[index])
        assert single_record.to_dict() == record.to_dict()
        restored = json.loads(json.dumps(record.to_dict()))
        replayed = pipeline.apply_record(images[index // 3], restored)
        np.testing.assert_array_equal(replayed, outs[index])


def test_a_run_where_no_canvas_step_fired_still_resizes_and_replays() -> None:
    pipeline = augcore.Pipeline([augcore.Step(Resize(height=20, width=30), p=0.0), Brightness()])
    out, record = pipeline.augment(WIDE[0], seed=0, key="x")
    assert out.shape == (20, 30, 3)
    assert record.fused == [{"steps": [], "matrix": record.fused[0]["matrix"], "shape": [20, 30]}]
    expected = np.asarray(Image.fromarray(WIDE[0]).resize((30, 20), Image.Resampling.NEAREST))
    brightened = pipeline.apply_record(WIDE[0], record)
    assert brightened.shape == expected.shape
    np.testing.assert_array_equal(
        augcore.Pipeline([augcore.Step(Resize(height=20, width=30), p=0.0)]).augment(
            WIDE[0], seed=0, key="x"
        )[0],
        expected,
    )
    np.testing.assert_array_equal(brightened, out)


def test_a_shrink_by_two_or_more_box_reduces_first_as_pillow_does() -> None:
    image = RNG.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    pipeline = augcore.Pipeline([Resize(height=24, width=30)], order=1)
    out, record = pipeline.augment(image, seed=0, key="x")
    assert record.fused[0]["reduce"] == [5, 3]
    reduced = np.asarray(Image.fromarray(image).reduce((3, 5)))
    matrix = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(  # 5x and 3x are exactly the factors: the rest is identity
        out, augcore.warp_affine(reduced, matrix, order=1, output_shape=(24, 30))
    )
    np.testing.assert_array_equal(pipeline.apply_record(image, record.to_dict()), out)


@pytest.mark.parametrize("threads", [1, 3])
def test_a_batch_mixing_reduce_factors_equals_each_output_alone(threads) -> None:
    """Runs of outputs with different box-reduce factors (none among them) are reduced and
    warped range by range: every output equals its own ``augment``, on any thread count."""
    images = RNG.integers(0, 256, (6, 96, 80, 3), dtype=np.uint8)
    pipeline = augcore.Pipeline([RandomResizedCrop(height=20, width=24, scale=(0.05, 1.0))])
    keys = [f"k{i}" for i in range(6)]
    outs, records = pipeline.augment_batch(images, seed=3, keys=keys, per_image=4, threads=threads)
    factors = [tuple(r.fused[0].get("reduce", (1, 1))) for r in records]
    assert len(set(factors)) >= 3 and (1, 1) in factors
    assert sum(a != b for a, b in itertools.pairwise(factors)) >= 5  # several runs
    for index, record in enumerate(records):
        single, alone = pipeline.augment(
            images[index // 4], seed=3, key=keys[index // 4], k=index % 4
        )
        assert single.tobytes() == outs[index].tobytes(), (index, factors[index])
        assert alone.to_dict() == record.to_dict()


def test_zooming_out_strongly_reduces_too_but_a_mild_shrink_does_not() -> None:
    image = RNG.integers(0, 256, (64, 64), dtype=np.uint8)
    strong = augcore.Pipeline([Zoom(factor=[0.3, 0.3])]).augment(image, seed=0, key="x")[1]
    mild = augcore.Pipeline([Zoom(factor=[0.6, 0.6])]).augment(image, seed=0, key="x")[1]
    assert strong.fused[0]["reduce"] == [3, 3]
    assert "reduce" not in mild.fused[0]


def test_a_record_without_reduce_replays_without_it() -> None:
    """Records written before box reduce existed keep replaying as they were made."""
    image = RNG.integers(0, 256, (64, 64), dtype=np.uint8)
    pipeline = augcore.Pipeline([Zoom(factor=[0.3, 0.3])])
    record = pipeline.augment(image, seed=0, key="x")[1].to_dict()
    del record["fused"][0]["reduce"]
    plain = augcore.warp_affine(image, np.asarray(record["fused"][0]["matrix"]))
    np.testing.assert_array_equal(pipeline.apply_record(image, record), plain)


def test_perspective_in_a_chain_is_one_projective_warp() -> None:
    pipeline = augcore.Pipeline([Rotate(degrees=10), Perspective(distortion_scale=0.4),
                                 Crop(height=20, width=30)], order=1)  # fmt: skip
    outs, records = pipeline.augment_batch(WIDE.astype(np.float32), seed=2, keys=KEYS)
    for image, out, record in zip(WIDE.astype(np.float32), outs, records, strict=True):
        (run,) = record.fused
        matrix = np.asarray(run["matrix"])
        assert matrix[2, :2].any()
        expected = augcore.warp_perspective(image, matrix, order=1, output_shape=(20, 30))
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(pipeline.apply_record(image, record), out)


def test_tampered_canvas_records_are_named() -> None:
    pipeline = augcore.Pipeline([Resize(height=10, width=12)])
    record = pipeline.augment(WIDE[0], seed=0, key="x")[1].to_dict()
    record["fused"][0]["shape"] = [11, 12]
    with pytest.raises(augcore.ManifestError, match="onto a 10x12 canvas"):
        pipeline.apply_record(WIDE[0], record)
    record["fused"][0]["shape"] = [0, 12]
    with pytest.raises(augcore.ManifestError, match="not a valid augcore record"):
        pipeline.apply_record(WIDE[0], record)


def test_a_canvas_over_the_pixel_limit_is_a_named_error_before_any_allocation() -> None:
    pipeline = augcore.Pipeline([Resize(height=1 << 20, width=1 << 20)])
    with pytest.raises(augcore.CanvasError, match=r"resize.*over the limit"):
        pipeline.augment(WIDE[0], seed=0, key="x")


def test_crop_larger_than_the_image_in_a_pipeline_is_a_canvas_error() -> None:
    with pytest.raises(augcore.CanvasError, match="does not fit"):
        augcore.Pipeline([Crop(height=100, width=10)]).augment(WIDE[0], seed=0, key="x")


def test_a_perspective_that_folds_the_image_is_refused() -> None:
    class Fold(augcore.GeometricTransform):
        name = "fold"

        def matrices(self, n, params, shape):
            out = np.tile(np.eye(3), (n, 1, 1))
            out[:, 2, 0] = -0.5  # w = 1 - r / 2 <= 0 from row 2 on
            return out

    with pytest.raises(augcore.MatrixError, match="fold"):
        augcore.Pipeline([Fold()]).augment(WIDE[0], seed=0, key="x")


def test_the_job_writes_canvas_outputs_and_replays_them(tmp_path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for index, image in enumerate(WIDE):
        Image.fromarray(image).save(source / f"{index}.png")
    config = tmp_path / "chain.json"
    config.write_text(json.dumps({"steps": [
        {"transform": "random_resized_crop", "height": 16, "width": 20, "p": 0.7},
        {"transform": "perspective", "p": 0.5}, {"transform": "brightness"},
    ]}))  # fmt: skip
    out = tmp_path / "out"
    summary = augcore.run([source], out, per_image=3, seed=0, config=config)
    assert summary.written == 9
    for path in out.glob("*.png"):
        assert Image.open(path).size == (20, 16)
    assert augcore.replay(out, check=True).ok


def test_output_shape_says_the_size_before_augmenting() -> None:
    pipeline = augcore.Pipeline([Pad(top=2), Rotate(), Resize(shortest=10), Brightness()])
    out, _ = pipeline.augment(WIDE[0], seed=0, key="x")
    assert pipeline.output_shape(WIDE[0].shape) == out.shape == (10, 15, 3)
    assert augcore.Pipeline([Rotate()]).output_shape((5, 7)) == (5, 7)


def test_a_run_reaching_beyond_a_perspective_horizon_is_warped_in_two_stages() -> None:
    """A strong perspective then a rotation: the rotation's corners pull from beyond the
    perspective's horizon (w <= 0), where one fused map means nothing. That output is warped
    as the steps would be one by one at the cut: the perspective onto its canvas, then the
    rotation, so those samples take the fill; single == batch and replay follow."""
    from augcore.transform import compose

    class Tilt(augcore.GeometricTransform):
        """A fixed perspective whose horizon lies just below the canvas."""

        name = "tilt"

        def matrices(self, n, params, shape):
            out = np.tile(np.eye(3), (n, 1, 1))
            out[:, 2, 0] = -1.0 / shape[0]  # w = 1 - r / H: positive on the canvas, 0 past it
            return out

    image = RNG.integers(1, 256, (40, 40, 3), dtype=np.uint8)
    pipeline = augcore.Pipeline([Tilt(), Rotate(degrees=[30, 30])], fill_mode="constant", cval=0)
    out, record = pipeline.augment(image, seed=0, key="x")
    assert record.fused[0]["stages"] == 2 and "reduce" not in record.fused[0]
    tilt = Tilt().matrices(1, {}, image.shape)[0]
    turn = Rotate(degrees=[30, 30]).matrices(1, {"degrees": np.array([30.0])}, image.shape)[0]
    middle = augcore.warp_perspective(image, tilt, fill_mode="constant")
    expected = augcore.warp_affine(middle, turn, fill_mode="constant")
    np.testing.assert_array_equal(out, expected)
    fused = compose(tilt[None], turn[None])[0]
    np.testing.assert_allclose(record.fused[0]["matrix"], fused, rtol=0, atol=1e-12)
    batch, records = pipeline.augment_batch(np.stack([image, image]), seed=0, keys=["x", "y"])
    np.testing.assert_array_equal(batch[0], out)
    assert records[0].to_dict() == record.to_dict()
    restored = json.loads(json.dumps(record.to_dict()))
    np.testing.assert_array_equal(pipeline.apply_record(image, restored), out)
    tampered = record.to_dict()
    del tampered["fused"][0]["stages"]
    with pytest.raises(augcore.ManifestError, match="stage"):
        pipeline.apply_record(image, tampered)
