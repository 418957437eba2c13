"""Embedding: ``pipeline(image)`` on numpy, PIL and torch; ``p=`` on transforms; exports.

Oracles: the keyed ``augment`` (``pipeline(image)`` must equal it for the identity it reports),
Pillow's own flips for PIL images, ``np.moveaxis`` for layouts, and torch's own tensors.
"""

from __future__ import annotations

import json
import pickle
import threading

import numpy as np
import pytest
from PIL import Image

import augcore
from augcore.manager import PluginManager

RNG = np.random.default_rng(11)
RGB = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


# --- pipeline(image): fresh, reproducible, equal to augment ----------------------------------
def test_same_seed_same_calls_same_images() -> None:
    first, second = augcore.Pipeline.default(seed=3), augcore.Pipeline.default(seed=3)
    outs = [first(RGB) for _ in range(6)]
    assert all(_same(out, second(RGB)) for out in outs)
    assert not all(_same(outs[0], out) for out in outs[1:])  # fresh draws every call
    other = augcore.Pipeline.default(seed=4)
    assert not all(_same(out, other(RGB)) for out in outs)


def test_unseeded_pipelines_draw_their_own_seed() -> None:
    seeds = {augcore.Pipeline.default().seed for _ in range(3)}
    assert len(seeds) == 3


@pytest.mark.parametrize("image", [RGB, RGB[..., 0], RGB.astype(np.float32) / 255])
def test_call_equals_augment_with_the_documented_identity(image: np.ndarray) -> None:
    pipeline = augcore.Pipeline.default(seed=8)
    for k in range(5):
        out = pipeline(image)
        record = pipeline.last_record
        assert (record.seed, record.key, record.k) == (8, "call", k)
        expected, expected_record = pipeline.augment(image, seed=8, key="call", k=k)
        assert _same(out, expected)
        assert record.to_dict() == expected_record.to_dict()


def test_augment_and_batch_agree_for_every_group_kind() -> None:
    """The one-image path draws exactly what a batch of any size draws (groups included)."""
    chain = [
        augcore.OneOf([augcore.Rotate(degrees=30), augcore.Shear(degrees=10, p=0.5)], p=0.9),
        augcore.SomeOf([augcore.FlipHorizontal(), augcore.Brightness(), augcore.Zoom()], n=[0, 2]),
        augcore.GaussianNoise(sigma=5, p=0.5),
        augcore.ChannelShift(p=0.3),
    ]
    pipeline = augcore.Pipeline(chain, order=1, fill_mode="reflect")
    images = RNG.integers(0, 256, (12, 16, 18, 3), dtype=np.uint8)
    keys = [f"img/{i}.png" for i in range(12)]
    outs, records = pipeline.augment_batch(images, seed=5, keys=keys, per_image=3)
    for index in range(36):
        source, k = index // 3, index % 3
        out, record = pipeline.augment(images[source], seed=5, key=keys[source], k=k)
        assert _same(out, outs[index])
        assert json.dumps(record.to_dict()) == json.dumps(records[index].to_dict())


def test_last_record_is_per_pipeline_and_per_thread() -> None:
    first, second = augcore.Pipeline.default(seed=1), augcore.Pipeline.default(seed=2)
    assert first.last_record is None
    first(RGB)
    second(RGB)
    assert first.last_record.seed == 1 and second.last_record.seed == 2
    seen: list[int] = []

    def work() -> None:
        first(RGB)
        seen.append(first.last_record.k)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [1] and first.last_record.k == 0


def test_a_pickled_pipeline_keeps_its_seed_and_works() -> None:
    pipeline = augcore.Pipeline.default(seed=6)
    pipeline.augment_batch(np.stack([RGB] * 4), seed=0, threads=2)
    copy = pickle.loads(pickle.dumps(pipeline))
    assert copy.seed == 6 and copy == pipeline
    assert _same(copy(RGB), pipeline(RGB))  # same process: continues the same count


# --- types in, same type out ---------------------------------------------------------------
PIL_MODES = ["L", "LA", "RGB", "RGBA", "1", "P", "PA", "I;16", "F", "CMYK", "YCbCr", "RGBa"]


def _pil(mode: str) -> Image.Image:
    base = Image.fromarray(RNG.integers(0, 256, (9, 13, 4), dtype=np.uint8))
    if mode == "I;16":
        return Image.fromarray(RNG.integers(0, 65536, (9, 13), dtype=np.uint16))
    if mode == "F":
        return Image.fromarray(RNG.random((9, 13), dtype=np.float32))
    if mode in ("P", "PA", "CMYK", "YCbCr"):
        return base.convert("RGB").convert(mode if mode != "PA" else "P").convert(mode)
    return base.convert(mode)


@pytest.mark.parametrize("mode", PIL_MODES)
def test_pil_in_pil_out_in_its_mode(mode: str) -> None:
    image = _pil(mode)
    flipped = augcore.Pipeline([augcore.FlipHorizontal()], seed=0)(image)
    assert isinstance(flipped, Image.Image) and flipped.mode == mode
    oracle = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if mode in ("CMYK", "YCbCr"):  # computed in RGB, converted back by Pillow
        oracle = Image.fromarray(np.flip(np.asarray(image.convert("RGB")), 1)).convert(mode)
    assert np.array_equal(np.asarray(flipped), np.asarray(oracle))
    out = augcore.Pipeline.default(seed=0)(image)
    assert isinstance(out, Image.Image) and out.mode == mode and out.size == image.size


def test_channels_first_numpy_needs_layout() -> None:
    pipeline = augcore.Pipeline.default(seed=2)
    chw = np.ascontiguousarray(np.moveaxis(RGB, -1, 0))
    with pytest.raises(augcore.ImageShapeError, match=r"np\.moveaxis"):
        pipeline(chw)
    out = pipeline(chw, layout="chw")
    expected, _ = pipeline.augment(RGB, seed=2, key="call", k=0)
    assert _same(out, np.moveaxis(expected, -1, 0))


def test_tensor_in_tensor_out() -> None:
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    pipeline = augcore.Pipeline.default(seed=9)
    tensor = torch.from_numpy(np.moveaxis(RGB, -1, 0).copy())
    out = pipeline(tensor)
    assert isinstance(out, torch.Tensor) and out.shape == tensor.shape and out.dtype == torch.uint8
    expected, _ = pipeline.augment(RGB, seed=9, key="call", k=0)
    assert np.array_equal(out.permute(1, 2, 0).numpy(), expected)
    floats = pipeline(tensor.double() / 255)
    assert floats.dtype == torch.float64 and floats.shape == tensor.shape


# --- p= on every transform, exports --------------------------------------------------------
def _builtin_classes() -> list[type[augcore.Transform]]:
    return [info.cls for info in PluginManager(autoload=False).transforms()]


def test_every_builtin_transform_is_exported_from_augcore() -> None:
    for cls in _builtin_classes():
        assert getattr(augcore, cls.__name__) is cls
        assert cls.__name__ in augcore.__all__


@pytest.mark.parametrize("cls", _builtin_classes(), ids=lambda cls: cls.name)
def test_every_transform_takes_p(cls: type[augcore.Transform]) -> None:
    images = np.zeros((200, 256, 256), np.uint8)  # fits every default canvas (crop: 224)
    never = augcore.Pipeline([cls(p=0)]).augment_batch(images, seed=0)[1]
    always = augcore.Pipeline([cls(p=1)]).augment_batch(images, seed=0)[1]
    half, half_records = augcore.Pipeline([cls(p=0.5)]).augment_batch(images, seed=0)
    as_step, step_records = augcore.Pipeline([augcore.Step(cls(), p=0.5)]).augment_batch(
        images, seed=0
    )
    assert all(not record.steps for record in never)
    assert all(len(record.steps) == 1 for record in always)
    assert _same(half, as_step)  # p on the transform is exactly the step's p
    fired = sum(bool(record.steps) for record in half_records)
    assert fired == sum(bool(record.steps) for record in step_records)
    assert 60 < fired < 140


def test_p_reads_like_compose_and_round_trips_through_config() -> None:
    pipeline = augcore.Pipeline(
        [augcore.Rotate(degrees=10, p=0.25), augcore.Brightness(factor=0.3)], seed=0
    )
    config = pipeline.to_config()
    assert config["steps"][0]["p"] == 0.25
    assert augcore.Pipeline.from_config(config) == pipeline
    assert repr(augcore.Rotate(p=0.25)) == "Rotate(degrees=(-15.0, 15.0), p=0.25)"
    # p belongs to the chain: the same chain written either way is the same pipeline.
    assert augcore.Rotate(p=0.25) == augcore.Rotate()
    assert augcore.Pipeline([augcore.Rotate(p=0.25)]) == augcore.Pipeline(
        [augcore.Step(augcore.Rotate(), p=0.25)]
    )
    with pytest.raises(augcore.ConfigError, match="'p' got 2"):
        augcore.Rotate(p=2)
    with pytest.raises(augcore.ConfigError, match="give p once"):
        augcore.Step(augcore.Rotate(p=0.5), p=0.3)


# --- alpha is never touched by a pixel transform -----------------------------------------
def _pixel_classes() -> list[type[augcore.PixelTransform]]:
    return [cls for cls in _builtin_classes() if issubclass(cls, augcore.PixelTransform)]


@pytest.mark.parametrize("cls", _pixel_classes(), ids=lambda cls: cls.name)
@pytest.mark.parametrize("channels", [2, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_pixel_transforms_leave_alpha_untouched(
    cls: type[augcore.PixelTransform], channels: int, dtype: type
) -> None:
    images = RNG.integers(0, 256, (6, 16, 18, channels)).astype(dtype)
    images[..., -1] = np.linspace(0, 255, 16 * 18).reshape(16, 18)  # many alpha levels
    pipeline = augcore.Pipeline([cls()])
    outs, records = pipeline.augment_batch(images, seed=1)
    for out, source, record in zip(outs, images, records, strict=True):
        assert _same(out[..., -1], source[..., -1])
        # The colour channels are exactly the transform applied to the colour alone.
        colour = source[..., :-1]
        if channels == 2:
            colour = colour[..., 0:1]
        replayed = augcore.Pipeline([cls()]).apply_record(colour, record)
        assert _same(out[..., :-1], replayed)


def test_replay_of_an_rgba_record_keeps_alpha() -> None:
    rgba = RNG.integers(0, 256, (16, 18, 4), dtype=np.uint8)
    pipeline = augcore.Pipeline.default(seed=0)
    pipeline = augcore.Pipeline([*pipeline.steps, augcore.Brightness(factor=0.5)])
    out, record = pipeline.augment(rgba, seed=0, key="a", k=0)
    again = pipeline.apply_record(rgba, json.loads(json.dumps(record.to_dict())))
    assert _same(again, out)


# --- the pipeline's own thread pool --------------------------------------------------------
def test_augment_batch_reuses_one_pool_per_pipeline() -> None:
    pipeline = augcore.Pipeline.default()
    images = RNG.integers(0, 256, (16, 20, 20, 3), dtype=np.uint8)
    one, _ = pipeline.augment_batch(images, seed=0, threads=1)
    two, _ = pipeline.augment_batch(images, seed=0, threads=2)
    pool = pipeline._executor
    again, _ = pipeline.augment_batch(images, seed=0, threads=2)
    assert pool is not None and pipeline._executor is pool
    assert _same(one, two) and _same(one, again)
    other = augcore.Pipeline.default()
    other.augment_batch(images, seed=0, threads=2)
    assert other._executor is not pool  # no state shared between pipelines


@pytest.mark.parametrize(
    "chain",
    [
        [augcore.Zoom(factor=[0.3, 0.45]), augcore.Rotate(p=0.5)],  # box reduce: batch code
        [augcore.Perspective(p=0.5), augcore.Rotate(degrees=10)],  # projective: batch code
        [augcore.Resize(height=12, width=20), augcore.FlipHorizontal(p=0.5)],  # new canvas
    ],
    ids=["reduce", "projective", "canvas"],
)
def test_one_output_equals_the_batch_where_it_needs_the_batch_code(chain: list) -> None:
    pipeline = augcore.Pipeline(chain, seed=3)
    images = RNG.integers(0, 256, (6, 40, 36, 3), dtype=np.uint8)
    outs, records = pipeline.augment_batch(images, seed=3, keys=list("abcdef"), per_image=2)
    for index in range(12):
        source, k = index // 2, index % 2
        out, record = pipeline.augment(images[source], seed=3, key="abcdef"[source], k=k)
        assert _same(out, outs[index])
        assert json.dumps(record.to_dict()) == json.dumps(records[index].to_dict())
    image = pipeline(Image.fromarray(images[0]))
    assert isinstance(image, Image.Image) and image.size == outs[0].shape[1::-1]
