"""Drawing one tile of a preview sheet: an image fitted into a square box, and its caption.

Rules this module keeps:

- An image is enlarged only by a whole factor, nearest neighbour, so every pixel of an output
  is a clean block on the sheet (a preview is for looking at pixels, and a block compares
  exactly with the file ``augcore run`` writes). A larger image is reduced to fit (Lanczos).
- Grayscale is shown as gray, and an alpha channel over a checkerboard, so transparency (and
  what a fill mode does to it) is visible instead of silently flattened onto black.
- Captions are made from a record alone (``Record.to_dict()`` or a manifest entry's
  ``record``): k, then each step that fired with its sampled values, in the units the
  transform records (degrees, pixels, factors). Seeds are identifiers, not values, and are left
  out. Lines too wide for the tile end in an ellipsis; nothing is drawn outside a cell.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from augcore.validation import is_number

CHECKER_SQUARE = 8  # px on the sheet
CHECKER_LIGHT, CHECKER_DARK = 204, 153
TEXT_COLOUR = (20, 20, 20)
FONT_SIZE = 12
ELLIPSIS = "…"

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Placement:
    """Where an image lands inside its tile box: top-left offset and the scale applied.

    Anything drawn over the image (targets, marks) maps image (x, y) to tile
    ``(left + x * scale, top + y * scale)``.
    """

    left: int
    top: int
    width: int
    height: int
    scale: float


# --- captions ----------------------------------------------------------------------------
def format_value(name: str, value: Any) -> str:
    """One sampled value as a caption shows it: 3 significant digits and its unit."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(name, item) for item in value) + "]"
    if not is_number(value):
        return str(value)
    text = f"{float(value):.3g}"
    if name == "degrees":
        return text + "°"
    if name.endswith("_pixels"):
        return text + "px"
    return text


def _shown(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in params.items() if not name.endswith("seed")]


def format_step(step: Mapping[str, Any]) -> str:
    """``rotate -13.4°``, ``shift x=11.5px, y=-8.66px``, ``flip_horizontal``, and for a step
    that changed the canvas its new size first: ``resize to 32x24``, ``crop to 30x20: top=4, ...``.
    """
    params = _shown(step.get("params") or {})
    head = str(step.get("name"))
    canvas = step.get("canvas")
    if isinstance(canvas, list) and len(canvas) == 2:  # [H, W] on disk; shown W x H as elsewhere
        head = f"{head} to {canvas[1]}x{canvas[0]}" + (":" if params else "")
    if len(params) == 1:
        return f"{head} {format_value(*params[0])}"
    parts = [f"{key.removesuffix('_pixels')}={format_value(key, value)}" for key, value in params]
    # Pillow's default font has a narrow space: commas keep "x=1, y=2" readable at 11 px.
    return f"{head} {', '.join(parts)}" if parts else head


def caption_lines(record: Mapping[str, Any]) -> list[str]:
    """The caption of an output: ``k=2`` then one line per step that fired, in order.

    ``record`` is ``Record.to_dict()`` or the ``record`` of a manifest entry.
    """
    steps = [format_step(step) for step in record.get("steps", [])]
    return [f"k={record.get('k')}", *(steps or ["(no step fired)"])]


# --- fonts and text ----------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def caption_font(size: int = FONT_SIZE) -> FontType:
    """Pillow's default font at ``size`` px (a scalable font since Pillow 10.1), else its
    fixed bitmap font, which older Pillows and builds without FreeType only have."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


def line_height(font: FontType) -> int:
    top, bottom = font.getbbox("Ag°|")[1::2]
    return int(bottom - top) + 3


def fit_text(text: str, font: FontType, width: int) -> str:
    """``text``, cut and ended with an ellipsis if it is wider than ``width`` px."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text + ELLIPSIS


def fit_path(text: str, font: FontType, width: int) -> str:
    """A path cut from the left to fit ``width`` px: the file name is the part that identifies."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(ELLIPSIS + text) > width:
        text = text[1:]
    return ELLIPSIS + text


def draw_caption(
    draw: ImageDraw.ImageDraw, lines: Sequence[str], left: int, top: int, width: int
) -> None:
    font = caption_font()
    step = line_height(font)
    for index, line in enumerate(lines):
        draw.text(
            (left, top + index * step), fit_text(line, font, width), fill=TEXT_COLOUR, font=font
        )


# --- images ------------------------------------------------------------------------------
def scale_for(height: int, width: int, box: int) -> float:
    """Whole-factor enlargement of a small image; a fraction for a large one (fits ``box``)."""
    longest = max(height, width)
    if longest <= box:
        return float(box // longest)
    return box / longest


def checkerboard(height: int, width: int) -> np.ndarray:
    """A gray (H, W) checkerboard of CHECKER_SQUARE squares, a light one at the top left."""
    rows = np.arange(height) // CHECKER_SQUARE
    cols = np.arange(width) // CHECKER_SQUARE
    light = (rows[:, None] + cols[None, :]) % 2 == 0
    return np.where(light, CHECKER_LIGHT, CHECKER_DARK).astype(np.uint8)


def _enlarged(array: np.ndarray, scale: float) -> Image.Image:
    if scale >= 1.0:
        factor = int(scale)
        return Image.fromarray(np.repeat(np.repeat(array, factor, axis=0), factor, axis=1))
    height, width = array.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return Image.fromarray(array).resize(size, Image.Resampling.LANCZOS)


def tile_image(array: np.ndarray, box: int) -> tuple[Image.Image, Placement]:
    """The image as an RGB ``box`` x ``box`` tile (neutral gray around it) and where it sits."""
    height, width = array.shape[:2]
    scale = scale_for(height, width, box)
    shown = _enlarged(np.ascontiguousarray(array), scale)
    left, top = (box - shown.width) // 2, (box - shown.height) // 2
    tile = Image.new("RGB", (box, box), (CHECKER_LIGHT,) * 3)
    if shown.mode == "RGBA":
        backing = checkerboard(shown.height, shown.width)
        under = Image.fromarray(np.dstack([backing] * 3 + [np.full_like(backing, 255)]))
        shown = Image.alpha_composite(under, shown)
    tile.paste(shown.convert("RGB"), (left, top))
    return tile, Placement(left, top, shown.width, shown.height, scale)
