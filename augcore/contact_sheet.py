"""Preview sheets: what a chain does to your images, before (or instead of) a run.

``augcore.preview`` returns a contact sheet, one row per input: the original, then its K
variants, each captioned with k and the steps that fired with their sampled values.

Rules this module keeps:

- A variant is made exactly as ``augcore run`` makes it: inputs are found and keyed by
  ``augcore.sources.discover``, decoded by ``augcore.imageio.read_image`` (EXIF, modes,
  ``size``), and augmented by ``Pipeline.augment_batch(seed=, keys=, per_image=)``; so variant k
  of an input is, pixel for pixel, the array ``augcore run`` with the same sources, seed and
  config encodes into ``KEY__k{k}`` (a lossless format stores exactly it).
- The sheet's size is known before any image is decoded, and a sheet above ``max_pixels`` is
  refused with the numbers and what to change (fewer inputs, K, or a smaller tile).
- Inputs that cannot be read stop the preview (naming them), or with ``on_error="skip"`` get a
  row that says why, as ``run``'s skip lists them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from augcore.annotations import ImageLabels
from augcore.errors import AnnotationError, InputImageError, PreviewError
from augcore.imageio import read_image
from augcore.job import parse_size
from augcore.preview_labels import draw_labels, plan_preview_labels
from augcore.run_stats import ChainTransform, chain_transforms
from augcore.sources import SourceItem, discover
from augcore.tiles import (
    Placement,
    caption_font,
    caption_lines,
    draw_caption,
    fit_path,
    line_height,
    tile_image,
)
from augcore.validation import require_int

if TYPE_CHECKING:
    from augcore import Pipeline, RecordSequence

PathLike = str | os.PathLike[str]
DEFAULT_TILE = 192
MAX_SHEET_PIXELS = 40_000_000  # 120 MB as RGB in memory; a PNG image viewers still open
GAP = 12
BACKGROUND = (250, 250, 250)


@dataclass(frozen=True)
class Cell:
    """One tile of a sheet: which input and variant (k None: the original) and where its image
    is on the sheet (left, top, right, bottom)."""

    key: str
    k: int | None
    box: tuple[int, int, int, int]
    scale: float
    caption: list[str]

    @property
    def placement(self) -> Placement:
        """Where the image is on the sheet, for drawing over it (``augcore.overlays``)."""
        left, top, right, bottom = self.box
        return Placement(left, top, right - left, bottom - top, self.scale)


@dataclass
class Sheet:
    """A rendered preview: the image and, for each tile, what it shows and where."""

    image: Image.Image
    cells: list[Cell] = field(default_factory=list)


def preview(sources: Sequence[PathLike] = (), **options: Any) -> Image.Image:
    """A contact sheet (an RGB ``PIL.Image``) of what ``augcore run`` would write.

    Takes the arguments of ``preview_sheet`` (sources, per_image, seed, config, size,
    from_list, samples, limit, tile, on_error, max_pixels, max_input_pixels) and returns its
    image: one row per input, the original and then variants k = 0..per_image-1, each the
    array ``run`` writes for the same seed, config and sources, captioned with k and the
    steps that fired.

    Example:
        >>> augcore.preview(samples=True, per_image=2).save("sheet.png")  # doctest: +SKIP
    """
    return preview_sheet(sources, **options).image


def preview_sheet(
    sources: Sequence[PathLike] = (),
    *,
    per_image: int = 3,
    seed: int = 0,
    config: Any = None,
    size: str | Sequence[int] | None = None,
    from_list: PathLike | None = None,
    samples: bool = False,
    limit: int | None = None,
    tile: int = DEFAULT_TILE,
    on_error: str = "stop",
    max_pixels: int = MAX_SHEET_PIXELS,
    max_input_pixels: int | None = None,
    annotations: PathLike | None = None,
    annotation_format: str | None = None,
) -> Sheet:
    """A contact sheet of what ``augcore run`` would write, and where each tile is on it.

    One row per input (the first ``limit`` ones if given): the original as read (EXIF applied,
    resized to ``size`` = "WxH"), then variants k = 0..per_image-1, each captioned with k and
    the steps that fired with their values. Variant k is exactly the array ``run`` writes as
    output k of that input for the same ``seed``, ``config`` and sources.

    Args:
        sources, from_list, samples, size, seed, config: as for ``augcore.run``.
        per_image: variants shown per input (K).
        tile: the side of each tile's square box, in px; small images are enlarged by a whole
            factor (pixels stay sharp), large ones reduced to fit.
        on_error: "stop" at an unreadable input, or "skip" it with a row saying why.
        max_pixels: the largest sheet (width x height) made; a larger one is refused before
            any image is decoded.
        max_input_pixels: the decompression-bomb limit for inputs (``run``'s ``max_pixels``).
        annotations, annotation_format: as for ``augcore.run``: each tile then shows its
            objects (boxes with their category, polygons, keypoints) moved as the run writes
            them (``augcore.preview_labels``).

    Returns:
        A ``Sheet``: ``.image`` (RGB ``PIL.Image``) and ``.cells`` (key, k, box, caption).

    Raises:
        PreviewError: a bad option or a sheet above ``max_pixels``.
        InputImageError: no inputs, or an unreadable one with on_error="stop".
        AnnotationError: broken annotations of a shown input with on_error="stop".
        ConfigError: a bad config.
    """
    per_image = require_int("per_image", per_image, minimum=1, error=PreviewError)
    tile = require_int("tile", tile, minimum=16, error=PreviewError)
    if limit is not None:
        limit = require_int("limit", limit, minimum=1, error=PreviewError)
    if on_error not in ("stop", "skip"):
        raise PreviewError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    try:
        parsed_size = parse_size(size)
    except ValueError as exc:
        raise PreviewError(str(exc)) from None
    pipeline = pipeline_for(config)
    items, bad = _inputs(sources, from_list, samples, limit, on_error)
    layout = _layout(pipeline, per_image, tile)
    _check_size(layout, len(items) + len(bad), max_pixels)
    labels, broken = plan_preview_labels(
        annotations,
        annotation_format,
        [item.key for item in items],
        pipeline,
        resized=parsed_size is not None,
        on_error=on_error,
    )
    rows = []
    for item in items:
        if item.key in broken:
            rows.append(Row(item.key, error=broken[item.key]))
            continue
        try:
            original, variants, records = variants_of(
                pipeline,
                item,
                seed=seed,
                per_image=per_image,
                size=parsed_size,
                max_pixels=max_input_pixels,
            )
            drawn = None
            if labels is not None:
                given = labels.of(item.key, original.shape)
                drawn = (given, *(labels.moved(given, record.to_dict()) for record in records))
        except (InputImageError, AnnotationError) as exc:
            if on_error == "stop":
                raise
            rows.append(Row(item.key, error=str(exc)))
            continue
        rows.append(Row(item.key, original, variants, records, drawn))
    rows += [Row(path, error=reason) for path, reason in bad]
    chain = ", ".join(member.name for member in _chain(pipeline))
    title = f"augcore preview  ·  seed {seed}  ·  {per_image} per image  ·  chain: {chain}"
    captions = [len(record.steps) for row in rows if row.records for record in row.records]
    # The sheet is checked with room for every transform; drawn with what fired.
    layout = replace(layout, caption_lines=1 + max([*captions, 1]))
    return _render(rows, layout, title, {} if labels is None else labels.names)


def pipeline_for(config: Any) -> Pipeline:
    """The chain ``run`` uses for ``config``: the shipped default when None."""
    from augcore import Pipeline  # the public name: the pipeline's own modules are internal

    return Pipeline.default() if config is None else Pipeline.from_config(config)


def variants_of(
    pipeline: Pipeline,
    item: SourceItem,
    *,
    seed: int,
    per_image: int,
    size: tuple[int, int] | None = None,
    max_pixels: int | None = None,
) -> tuple[np.ndarray, np.ndarray, RecordSequence]:
    """An input as ``run`` reads it, and its ``per_image`` variants as ``run`` makes them.

    Returns (original, variants (K, H, W[, C]), records). Raises InputImageError.
    """
    image = read_image(item.path, size=size, max_pixels=max_pixels)
    variants, records = pipeline.augment_batch(
        [image], seed=seed, keys=[item.key], per_image=per_image
    )
    return image, variants, records


# --- rows and layout ---------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One input's row: its original and variants with their records, or why it is missing."""

    key: str
    original: np.ndarray | None = None
    variants: np.ndarray | None = None
    records: RecordSequence | None = None
    labels: tuple[ImageLabels, ...] | None = None  # the original's, then each variant's
    error: str | None = None


def _inputs(
    sources: Sequence[PathLike],
    from_list: PathLike | None,
    samples: bool,
    limit: int | None,
    on_error: str,
) -> tuple[list[SourceItem], list[tuple[str, str]]]:
    discovery = discover(sources, from_list=from_list, samples=samples)
    bad = [(entry.path, entry.reason) for entry in discovery.bad]
    if not discovery.items and not bad:
        raise InputImageError(
            "no input images found (give files, folders, --from-list or --samples)"
        )
    if bad and on_error == "stop":
        listing = "\n".join(f"  {path}: {reason}" for path, reason in bad)
        raise InputImageError(
            f"{len(bad)} input(s) cannot be used:\n{listing}\n"
            "fix or remove them, or pass --on-error skip to show them as skipped"
        )
    items = discovery.items if limit is None else discovery.items[:limit]
    return items, bad


@dataclass(frozen=True)
class _Layout:
    tile: int
    columns: int
    caption_lines: int
    line: int

    @property
    def cell_width(self) -> int:
        return self.tile + GAP

    @property
    def row_height(self) -> int:
        return self.tile + 4 + self.caption_lines * self.line + GAP

    def size(self, rows: int) -> tuple[int, int]:
        return GAP + self.columns * self.cell_width, GAP + self.line + GAP + rows * self.row_height


def _layout(pipeline: Pipeline, per_image: int, tile: int) -> _Layout:
    # Every transform may fire on one output: reserve a caption line for each, plus k (or
    # the original's key, size and mode), so the size is known before decoding anything.
    transforms = len(_chain(pipeline))
    return _Layout(tile, 1 + per_image, 1 + max(transforms, 2), line_height(caption_font()))


def _chain(pipeline: Pipeline) -> list[ChainTransform]:
    return chain_transforms(pipeline.to_config()["steps"])


def _check_size(layout: _Layout, rows: int, max_pixels: int) -> None:
    width, height = layout.size(rows)
    if width * height > max_pixels:
        raise PreviewError(
            f"the preview sheet would be {width} x {height} = {width * height:,} pixels, more "
            f"than the limit of {max_pixels:,}; preview fewer inputs (--limit N), fewer variants "
            "(--per-image K) or smaller tiles (--tile PX), or raise the limit (--max-pixels)"
        )


# --- drawing -----------------------------------------------------------------------------
def _render(rows: Sequence[Row], layout: _Layout, title: str, names: Mapping[Any, str]) -> Sheet:
    """Draw the rows onto one RGB sheet; ``names``: category names of labelled objects."""
    sheet = Sheet(Image.new("RGB", layout.size(len(rows)), BACKGROUND))
    draw = ImageDraw.Draw(sheet.image)
    width = sheet.image.width - 2 * GAP
    draw_caption(draw, [title], GAP, GAP, width)
    for index, row in enumerate(rows):
        top = GAP + layout.line + GAP + index * layout.row_height
        if row.error is not None:
            draw_caption(draw, [row.key, f"skipped: {row.error}"], GAP, top, width)
            continue
        assert row.original is not None and row.variants is not None and row.records is not None
        height, wide = row.original.shape[:2]
        name = fit_path(row.key, caption_font(), layout.tile)
        tiles = [(None, row.original, [name, f"{wide}x{height}, {_mode(row.original)}"])]
        tiles += [
            (k, variant, caption_lines(row.records[k].to_dict()))
            for k, variant in enumerate(row.variants)
        ]
        for column, (k, array, caption) in enumerate(tiles):
            left = GAP + column * layout.cell_width
            picture, placed = tile_image(array, layout.tile)
            if row.labels is not None:
                draw_labels(picture, placed, row.labels[column], names)
            sheet.image.paste(picture, (left, top))
            draw_caption(draw, caption, left, top + layout.tile + 4, layout.tile)
            box = (
                left + placed.left,
                top + placed.top,
                left + placed.left + placed.width,
                top + placed.top + placed.height,
            )
            sheet.cells.append(Cell(row.key, k, box, placed.scale, caption))
    return sheet


def _mode(array: np.ndarray) -> str:
    return "L" if array.ndim == 2 else {3: "RGB", 4: "RGBA"}.get(array.shape[2], "?")
