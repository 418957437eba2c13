"""Reading inputs (modes, EXIF, bad files, bombs) and writing outputs (formats, atomicity)."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from augcore.errors import InputImageError
from augcore.imageio import (
    encode_image,
    file_sha256,
    output_suffix,
    probe_image,
    read_image,
    sha256_hex,
)
from augcore.safefile import write_atomic

EXIF_ORIENTATION = 0x0112


def asymmetric_rgb(height: int = 6, width: int = 10) -> np.ndarray:
    return np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)


@pytest.mark.parametrize(("mode", "channels"), [("L", None), ("RGB", 3), ("RGBA", 4)])
def test_grayscale_rgb_and_rgba_are_kept_as_they_are(tmp_path, mode, channels):
    shape = (5, 7) if channels is None else (5, 7, channels)
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(pixels, mode).save(path)
    assert probe_image(path) == mode
    np.testing.assert_array_equal(read_image(path), pixels)


@pytest.mark.parametrize(
    ("orientation", "undo"),
    [
        (3, Image.Transpose.ROTATE_180),
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
    ],
)
def test_exif_orientation_is_applied(tmp_path, orientation, undo):
    upright = asymmetric_rgb()
    # Store the pixels so that applying the tag gives back ``upright``.
    stored = Image.fromarray(upright).transpose(undo)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    path = tmp_path / "x.png"
    stored.save(path, exif=exif)
    assert read_image(path).shape == upright.shape
    np.testing.assert_array_equal(read_image(path), upright)


def test_palette_images_become_rgb_or_rgba_when_transparent(tmp_path):
    rgb = asymmetric_rgb()
    palette = Image.fromarray(rgb).quantize(colors=8)
    plain, transparent = tmp_path / "plain.png", tmp_path / "transparent.png"
    palette.save(plain)
    palette.save(transparent, transparency=0)
    expected = np.asarray(palette.convert("RGB"))
    np.testing.assert_array_equal(read_image(plain), expected)
    with_alpha = read_image(transparent)
    assert with_alpha.shape == (*rgb.shape[:2], 4)
    np.testing.assert_array_equal(with_alpha[..., :3], expected)
    assert set(np.unique(with_alpha[..., 3])) <= {0, 255} and 0 in with_alpha[..., 3]


def test_sixteen_bit_grayscale_is_scaled_to_eight_bits(tmp_path):
    wide = np.array([[0, 257, 32768], [65535, 128, 65407]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(wide).save(path)
    with Image.open(path) as stored:
        assert stored.mode.startswith("I;16")
    np.testing.assert_array_equal(
        read_image(path), np.round(wide.astype(np.float64) * 255 / 65535).astype(np.uint8)
    )


def test_cmyk_and_la_are_converted(tmp_path):
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(asymmetric_rgb()).convert("CMYK").save(cmyk)
    assert read_image(cmyk).shape == (6, 10, 3)
    la = tmp_path / "la.png"
    Image.fromarray(np.full((4, 4, 2), (90, 200), np.uint8), "LA").save(la)
    np.testing.assert_array_equal(read_image(la)[0, 0], (90, 90, 90, 200))


def test_float_images_are_refused_naming_the_file_and_mode(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.ones((3, 3), np.float32)).save(path)
    with pytest.raises(InputImageError, match=r"float\.tif.*unsupported image mode 'F'"):
        read_image(path)
    with pytest.raises(InputImageError, match="unsupported"):
        probe_image(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"hello, I am text", "not an image"),
    ],
)
def test_empty_and_non_image_files_are_refused(tmp_path, content, reason):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(InputImageError, match=rf"bad\.png: {reason}"):
        read_image(path)


def test_truncated_files_are_refused_on_decode(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    probe_image(path)  # the header is intact
    with pytest.raises(InputImageError, match=r"cut\.png: cannot decode"):
        read_image(path)


def test_missing_files_and_folders_are_refused(tmp_path):
    with pytest.raises(InputImageError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(InputImageError, match="is a folder, not a regular file"):
        read_image(tmp_path)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's calling card."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"")


def test_decompression_bombs_are_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(100_000, 100_000))
    with pytest.raises(InputImageError, match=r"bomb\.png.*decompression bomb"):
        read_image(path)
    with pytest.raises(InputImageError, match="decompression bomb"):
        probe_image(path)


def test_the_pixel_limit_is_per_call_and_leaves_pillow_alone(tmp_path):
    path = tmp_path / "small.png"
    Image.fromarray(asymmetric_rgb()).save(path)
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(InputImageError, match="60 pixels is more than the limit of 59"):
        read_image(path, max_pixels=59)
    assert read_image(path, max_pixels=60).shape == (6, 10, 3)
    assert before == Image.MAX_IMAGE_PIXELS


def test_resize_takes_width_by_height_like_pillow(tmp_path):
    path = tmp_path / "x.png"
    Image.fromarray(asymmetric_rgb(20, 40)).save(path)
    resized = read_image(path, size=(28, 14))
    assert resized.shape == (14, 28, 3)
    with Image.open(path) as original:
        expected = original.resize((28, 14), Image.Resampling.BICUBIC)
    np.testing.assert_array_equal(resized, np.asarray(expected))


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".bmp"])
@pytest.mark.parametrize("channels", [None, 3, 4])
def test_lossless_formats_write_exactly_what_they_were_given(tmp_path, suffix, channels):
    shape = (9, 13) if channels is None else (9, 13, channels)
    pixels = np.random.default_rng(2).integers(1, 256, shape, dtype=np.uint8)
    path = tmp_path / f"out{suffix}"
    write_atomic(path, encode_image(pixels, suffix))
    if suffix == ".webp" and channels is None:
        pixels = np.dstack([pixels] * 3)  # WebP has no grayscale mode: it stores L as RGB
    if suffix == ".bmp" and channels == 4:
        pixels = pixels[..., :3]  # Pillow reads 32-bit BMP without alpha: it is dropped
    np.testing.assert_array_equal(read_image(path), pixels)


def test_tiffs_of_alternating_shapes_each_read_back_exactly():
    """The TIFF header is built once per shape: each image must still get its own."""
    rng = np.random.default_rng(5)
    shapes = [(9, 13, 3), (13, 9, 3), (9, 13), (9, 13, 4), (9, 13, 3), (1, 1, 3)]
    for shape in shapes:
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        with Image.open(io.BytesIO(encode_image(pixels, ".tif"))) as image:
            np.testing.assert_array_equal(np.asarray(image), pixels)


def test_encoding_is_deterministic_and_the_checksum_is_of_the_file(tmp_path):
    pixels = asymmetric_rgb()
    for suffix in (".png", ".jpg", ".tif", ".webp"):
        data = encode_image(pixels, suffix)
        assert encode_image(pixels.copy(), suffix) == data
        path = tmp_path / f"x{suffix}"
        write_atomic(path, data)
        assert file_sha256(path) == sha256_hex(data)


def test_jpeg_drops_the_alpha_channel(tmp_path):
    rgba = np.dstack([asymmetric_rgb(16, 16), np.full((16, 16), 7, np.uint8)])
    path = tmp_path / "x.jpg"
    write_atomic(path, encode_image(rgba, ".jpg"))
    with Image.open(path) as written:
        assert written.mode == "RGB"


def test_unknown_output_suffix_and_dtype_are_refused():
    with pytest.raises(ValueError, match=r"cannot write '\.gif'"):
        encode_image(asymmetric_rgb(), ".gif")
    with pytest.raises(TypeError, match="uint8"):
        encode_image(asymmetric_rgb().astype(np.float32), ".png")


def test_output_suffix_keeps_the_source_extension_for_same():
    assert output_suffix(".JPEG", "same") == ".jpeg"
    assert output_suffix(".png", "tif") == ".tif"


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "x.png"
    write_atomic(path, b"first")
    write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["x.png"]


def test_a_failed_atomic_write_leaves_neither_file_nor_temporary(tmp_path):
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "x.png", "not bytes")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("shape", [(5, 7), (9, 13, 3), (4, 6, 4), (1, 300, 3)])
def test_libtiff_reads_our_tiff_as_it_reads_pillows(shape):
    """The TIFF writer is augcore's own; OpenCV decodes with libtiff, a second, strict reader.

    (libtiff hands RGBA out premultiplied, so the reference is Pillow's TIFF of the same pixels.)
    """
    cv2 = pytest.importorskip("cv2", reason="OpenCV (the bench extra) provides libtiff")
    pixels = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    reference = io.BytesIO()
    Image.fromarray(pixels).save(reference, format="TIFF")

    def decode(data: bytes) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)

    ours = decode(encode_image(pixels, ".tif"))
    np.testing.assert_array_equal(ours, decode(reference.getvalue()))
    if len(shape) == 2 or shape[2] == 3:
        np.testing.assert_array_equal(ours[..., ::-1] if len(shape) == 3 else ours, pixels)
