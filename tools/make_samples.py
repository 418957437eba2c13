"""Generate the sample images shipped in augcore/data/samples (run once; outputs are committed).

Varied content with something asymmetric in each (so flips and rotations are visible), one
non-square image, a grayscale one, an RGBA one, a JPEG, and a JPEG whose EXIF orientation tag
must be applied. Run: python tools/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SAMPLES = Path(__file__).resolve().parent.parent / "augcore" / "data" / "samples"
EXIF_ORIENTATION = 0x0112


def gradient(width: int, height: int) -> Image.Image:
    rows, cols = np.mgrid[0:height, 0:width]
    rgb = np.stack([cols * 255 // (width - 1), rows * 255 // (height - 1), 255 - cols * 2], -1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def shapes(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (30, 60, 120))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, width // 2, height // 3), fill=(240, 200, 40))
    draw.ellipse((width // 2, height // 2, width - 6, height - 6), fill=(200, 40, 60))
    draw.polygon(
        [(6, height - 6), (width // 3, height // 2), (width // 2, height - 6)], fill="white"
    )
    return image


def checkerboard(size: int, cell: int) -> Image.Image:
    rows, cols = np.indices((size, size)) // cell
    board = ((rows + cols) % 2 * 255).astype(np.uint8)
    board[: size // 4, : size // 4] = 128  # marks the top-left corner
    return Image.fromarray(board)  # mode L: a grayscale sample


def arrow_rgba(size: int) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(size // 2, 6), (size - 10, size // 2), (10, size // 2)], fill=(20, 160, 60, 255))
    draw.rectangle((size // 2 - 8, size // 2, size // 2 + 8, size - 8), fill=(20, 160, 60, 180))
    return image


def noise_texture(size: int) -> Image.Image:
    rng = np.random.default_rng(2026)
    coarse = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)


def text_card(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.text((6, 6), "augcore", fill=(10, 10, 10))
    draw.text((6, height // 2), "F 4 R", fill=(180, 20, 20))
    draw.line((0, height - 1, width - 1, 0), fill=(20, 20, 180), width=3)
    return image


def main() -> None:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    gradient(96, 64).save(SAMPLES / "gradient_wide.png")  # non-square
    shapes(80, 80).save(SAMPLES / "shapes.png")
    checkerboard(64, 8).save(SAMPLES / "checker_gray.png")
    arrow_rgba(64).save(SAMPLES / "arrow_rgba.png")
    noise_texture(64).save(SAMPLES / "texture.jpg", quality=90)
    text_card(64, 96).save(SAMPLES / "text_tall.png")  # non-square, portrait
    shapes(72, 72).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(
        SAMPLES / "shapes_palette.png"
    )
    # Stored sideways with EXIF orientation 6: readers that apply it show text_card upright.
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    sideways = text_card(64, 96).transpose(Image.Transpose.ROTATE_90)
    sideways.save(SAMPLES / "text_exif_rotated.jpg", quality=90, exif=exif)


if __name__ == "__main__":
    main()
