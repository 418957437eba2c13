"""augcore.adapters: numpy layouts, PIL modes and torch tensors in and out of the pipeline's array.

The oracle for "the way back" is a known change made on the array (a flip, which any pipeline
could make) and the same change made on the original object's own pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import augcore
from augcore.adapters import adapt

RNG = np.random.default_rng(7)
RGBA = Image.fromarray(RNG.integers(0, 256, (6, 9, 4), dtype=np.uint8))
SIXTEEN = RNG.integers(0, 65536, (6, 9), dtype=np.uint16)


def _palette(transparency: bool) -> Image.Image:
    image = RGBA.convert("RGB").convert("P")
    if transparency:
        image.info["transparency"] = int(np.asarray(image)[0, 0])
    return image


# Modes whose bytes are computed on directly: a flip of the array is a flip of the image.
EXACT = {
    "L": RGBA.convert("L"),
    "RGB": RGBA.convert("RGB"),
    "RGBA": RGBA,
    "LA": RGBA.convert("LA"),
    "La": RGBA.convert("LA").convert("La"),
    "RGBa": RGBA.convert("RGBa"),
    "1": RGBA.convert("1"),
    "F": Image.fromarray(RNG.random((6, 9), dtype=np.float32)),
    "I;16": Image.fromarray(SIXTEEN),
    "I;16B": Image.fromarray(SIXTEEN.astype(">u2")),
    "I;16L": Image.fromarray(SIXTEEN).convert("I;16L"),
    "P": _palette(transparency=False),
    "P+transparency": _palette(transparency=True),
    "PA": _palette(transparency=False).convert("PA"),
}
# Modes computed as RGB and converted back by Pillow (which may round).
CONVERTED = ("CMYK", "YCbCr", "LAB", "HSV", "RGBX")


@pytest.mark.parametrize("name", sorted(EXACT))
def test_pil_mode_is_kept_and_pixels_follow_the_array(name: str) -> None:
    image = EXACT[name]
    adapted = adapt(image)
    assert adapted.array.dtype in (np.uint8, np.float32)
    back = adapted.restore(np.flip(adapted.array, axis=1).copy())
    assert isinstance(back, Image.Image)
    assert back.mode == image.mode and back.size == image.size
    np.testing.assert_array_equal(np.asarray(back), np.flip(np.asarray(image), axis=1))
    if "transparency" in image.info:
        assert back.info["transparency"] == image.info["transparency"]


@pytest.mark.parametrize("mode", CONVERTED)
def test_pil_colour_modes_go_through_rgb_and_back(mode: str) -> None:
    image = RGBA.convert("RGB").convert(mode)
    adapted = adapt(image)
    np.testing.assert_array_equal(adapted.array, np.asarray(image.convert("RGB")))
    back = adapted.restore(np.flip(adapted.array, axis=1).copy())
    expected = Image.fromarray(np.flip(np.asarray(image.convert("RGB")), axis=1)).convert(mode)
    assert back.mode == mode
    np.testing.assert_array_equal(np.asarray(back), np.asarray(expected))


def test_sixteen_bit_values_are_rounded_and_clipped_back() -> None:
    adapted = adapt(Image.fromarray(SIXTEEN[:1, :3].copy()))
    back = adapted.restore(np.array([[-5.0, 1000.5, 70000.0]], dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(back), [[0, 1000, 65535]])


def test_palette_result_maps_new_colours_to_the_nearest_palette_entry() -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 250, 250, 250] + [0] * 762)
    adapted = adapt(image)
    back = adapted.restore(np.array([[[10, 10, 10], [240, 240, 240]]], dtype=np.uint8))
    np.testing.assert_array_equal(np.asarray(back), [[0, 1]])


def test_pil_mode_i_is_refused_with_the_supported_modes() -> None:
    with pytest.raises(augcore.ImageDtypeError, match=r"mode 'I'.*convert.*RGBA"):
        adapt(Image.new("I", (4, 4)))


def test_numpy_hwc_passes_through_without_a_copy() -> None:
    image = RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    adapted = adapt(image)
    assert adapted.array is image
    assert adapted.restore(adapted.array) is image


@pytest.mark.parametrize("shape", [(3, 28, 28), (1, 10, 12), (4, 5, 64)])
def test_channels_first_numpy_is_refused_with_the_fix(shape: tuple[int, ...]) -> None:
    with pytest.raises(augcore.ImageShapeError, match=r"np\.moveaxis\(image, 0, -1\)"):
        adapt(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(3, 5, 4), (28, 28, 3), (4, 4, 1), (2, 9)])
def test_channels_last_shapes_are_not_mistaken_for_channels_first(
    shape: tuple[int, ...],
) -> None:
    assert adapt(np.zeros(shape, np.uint8)).array.shape == shape


def test_layout_chw_moves_channels_there_and_back() -> None:
    image = RNG.integers(0, 256, (3, 7, 11), dtype=np.uint8)
    adapted = adapt(image, layout="chw")
    np.testing.assert_array_equal(adapted.array, np.moveaxis(image, 0, -1))
    back = adapted.restore(np.flip(adapted.array, axis=0))
    assert back.flags.c_contiguous
    np.testing.assert_array_equal(back, np.flip(image, axis=1))


def test_bad_layout_and_unknown_objects_are_refused() -> None:
    with pytest.raises(augcore.ImageShapeError, match="layout must be"):
        adapt(np.zeros((4, 4), np.uint8), layout="nhwc")  # type: ignore[arg-type]
    with pytest.raises(augcore.ImageDtypeError, match=r"builtins\.list"):
        adapt([[0, 1], [2, 3]])


# --- torch tensors (the torch extra; CI installs the CPU wheel) -------------------------------
def test_uint8_chw_tensor_round_trip() -> None:
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    tensor = torch.from_numpy(RNG.integers(0, 256, (3, 6, 9), dtype=np.uint8))
    adapted = adapt(tensor)
    np.testing.assert_array_equal(adapted.array, tensor.permute(1, 2, 0).numpy())
    back = adapted.restore(np.flip(adapted.array, axis=1).copy())
    assert type(back) is torch.Tensor and back.dtype == torch.uint8 and back.is_contiguous()
    assert torch.equal(back, torch.flip(tensor, dims=[2]))


def test_float_tensor_keeps_its_dtype_and_subclass() -> None:
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")

    class ImageTensor(torch.Tensor):  # stands in for torchvision.tv_tensors.Image
        pass

    tensor = torch.rand(2, 5, 5, dtype=torch.float64).as_subclass(ImageTensor)
    adapted = adapt(tensor)
    assert adapted.array.dtype == np.float32 and adapted.array.shape == (5, 5, 2)
    back = adapted.restore(adapted.array)
    assert type(back) is ImageTensor and back.dtype == torch.float64
    assert torch.allclose(back.as_subclass(torch.Tensor), tensor.float().double(), atol=0)


def test_two_dimensional_tensor_is_one_channel() -> None:
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    tensor = torch.arange(12, dtype=torch.uint8).reshape(3, 4)
    adapted = adapt(tensor)
    assert adapted.array.shape == (3, 4)
    assert torch.equal(adapted.restore(adapted.array), tensor)


def test_bad_tensors_are_refused_with_the_fix() -> None:
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    with pytest.raises(augcore.ImageShapeError, match=r"permute\(2, 0, 1\)"):
        adapt(torch.zeros(28, 28, 3, dtype=torch.uint8))
    assert adapt(torch.zeros(28, 28, 3, dtype=torch.uint8), layout="hwc").array.shape == (
        28,
        28,
        3,
    )
    with pytest.raises(augcore.ImageShapeError, match="one image"):
        adapt(torch.zeros(2, 3, 8, 8))
    with pytest.raises(augcore.ImageDtypeError, match="int64"):
        adapt(torch.zeros(3, 8, 8, dtype=torch.int64))
