"""One image's annotated objects, whatever file format they came from, and how they move.

Readers (``coco``, ``yolo``, ``voc``) turn their files into ``ImageLabels``; writers turn moved
``ImageLabels`` back. In between, ``move_labels`` moves every object by the pull map that warped
the image: polygons vertex by vertex, clipped to the canvas, their box recomputed tightly from
what is left; RLE masks through the kernel (pycocotools decodes and encodes them); plain boxes
as ``augcore.targets`` moves boxes; keypoints by the forward map, flagged 0 once outside.
Objects nothing is left of, or too little (``TargetOptions``), are dropped and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from augcore.errors import AnnotationError, MissingExtraError
from augcore.targets import (
    Boxes,
    CanvasShape,
    DroppedBox,
    Keypoints,
    Masks,
    TargetOptions,
    forward_map,
    mirrors,
    move_keypoints,
    move_points,
    move_polygon,
    polygon_area,
    swap_order,
    warp_masks,
)


@dataclass(frozen=True)
class AnnotatedObject:
    """One object of an image.

    ``box`` is (x0, y0, x1, y1) in continuous pixels; ``polygons`` are (V, 2) arrays in the
    same coordinates; ``rle`` a COCO RLE dict; ``keypoints`` (K, 3) rows (x, y, v) with COCO's
    visibility 0 (not labelled), 1 (hidden) or 2 (visible); ``fields`` whatever else the file
    said about it, written back unchanged (COCO ``iscrowd``, VOC ``difficult``...).
    """

    category: int | str
    box: tuple[float, float, float, float]
    polygons: tuple[np.ndarray, ...] = ()
    rle: Mapping[str, Any] | None = None
    keypoints: np.ndarray | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageLabels:
    """The objects of one image: ``key`` is its path relative to the source root (posix)."""

    key: str
    shape: CanvasShape
    objects: tuple[AnnotatedObject, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MovedLabels:
    """Labels after a map, and the objects dropped (by their index in the input's objects)."""

    labels: ImageLabels
    dropped: list[DroppedBox]


#: How far (pixels) a box may reach past the image edge before it is refused: annotation
#: tools round, and a box ending at W + 0.5 is a rounding, not a mistake.
EDGE_TOLERANCE = 1.0


def check_inside(box: tuple[float, ...], shape: CanvasShape, what: str) -> None:
    """Refuse a box (x0, y0, x1, y1) that reaches past the image, naming ``what`` it is.

    Raises:
        AnnotationError: the box lies outside the ``shape`` (H, W) image.
    """
    height, width = shape
    x0, y0, x1, y1 = box
    low, high_x, high_y = -EDGE_TOLERANCE, width + EDGE_TOLERANCE, height + EDGE_TOLERANCE
    if x0 < low or y0 < low or x1 > high_x or y1 > high_y:
        raise AnnotationError(
            f"{what}: the box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) reaches outside the "
            f"{width}x{height} image"
        )


def flip_pairs_from_names(names: list[str]) -> list[tuple[int, int]]:
    """Index pairs of keypoint names that mirror each other: "left_eye" <-> "right_eye"."""
    index = {name: i for i, name in enumerate(names)}
    return [
        (i, index["right" + name[4:]])
        for i, name in enumerate(names)
        if name.startswith("left") and "right" + name[4:] in index
    ]


def move_labels(
    labels: ImageLabels,
    matrix: np.ndarray,
    out_shape: CanvasShape,
    *,
    options: TargetOptions | None = None,
    flip_pairs: Mapping[int | str, list[tuple[int, int]]] | None = None,
) -> MovedLabels:
    """Every object of ``labels`` moved by the pull map ``matrix`` onto ``out_shape``.

    ``flip_pairs`` maps a category to its keypoints' mirror pairs (swapped on a mirror).
    """
    options = options or TargetOptions()
    forward = forward_map(matrix)
    moved: list[AnnotatedObject] = []
    dropped: list[DroppedBox] = []
    for index, item in enumerate(labels.objects):
        pairs = (flip_pairs or {}).get(item.category, [])
        result, reason = _move_object(
            item, matrix, forward, labels.shape, out_shape, options, pairs
        )
        if result is None:
            dropped.append(DroppedBox(index=index, reason=reason))
        else:
            moved.append(result)
    return MovedLabels(replace(labels, shape=tuple(out_shape), objects=tuple(moved)), dropped)


def _move_object(
    item: AnnotatedObject,
    matrix: np.ndarray,
    forward: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
    options: TargetOptions,
    pairs: list[tuple[int, int]],
) -> tuple[AnnotatedObject | None, str]:
    keypoints = None
    if item.keypoints is not None:
        keypoints = _move_coco_keypoints(item.keypoints, forward, in_shape, out_shape, pairs)
    if item.polygons:
        before = sum(polygon_area(move_points(forward, p)[0]) for p in item.polygons)
        parts = [move_polygon(forward, p, out_shape) for p in item.polygons]
        parts = [p for p in parts if len(p)]
        area = sum(polygon_area(p) for p in parts)
        reason = _filter(area, before, options)
        if reason:
            return None, reason
        points = np.concatenate(parts)
        box = (*points.min(axis=0), *points.max(axis=0))
        return replace(item, box=_floats(box), polygons=tuple(parts), keypoints=keypoints), ""
    if item.rle is not None:
        return _move_rle(item, matrix, out_shape, options, keypoints)
    result = options.move_boxes(Boxes([item.box]), forward, in_shape, out_shape)
    if result.dropped:
        return None, result.dropped[0]
    return replace(item, box=_floats(result.boxes.data[0]), keypoints=keypoints), ""


def _filter(area: float, before: float, options: TargetOptions) -> str:
    if area <= 0:
        return "outside"
    if area < options.min_area:
        return "min_area"
    if before > 0 and area / before < options.min_visibility:
        return "min_visibility"
    return ""


def _floats(values: Any) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


def _move_coco_keypoints(
    rows: np.ndarray,
    forward: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
    pairs: list[tuple[int, int]],
) -> np.ndarray:
    """(K, 3) COCO keypoints moved; a point that leaves (or was never labelled) is (0, 0, 0)."""
    points = Keypoints(rows[:, :2], visible=rows[:, 2] > 0, flip_pairs=pairs)
    moved = move_keypoints(points, forward, in_shape, out_shape)
    flags = rows[:, 2]
    if pairs and mirrors(forward, in_shape):  # hidden (1) / visible (2) travel with the point
        flags = flags[swap_order(len(rows), points.flip_pairs)]
    out = np.zeros(rows.shape, dtype=np.float64)
    out[moved.visible, :2] = moved.data[moved.visible]
    out[moved.visible, 2] = flags[moved.visible]
    return out


def _move_rle(
    item: AnnotatedObject,
    matrix: np.ndarray,
    out_shape: CanvasShape,
    options: TargetOptions,
    keypoints: np.ndarray | None,
) -> tuple[AnnotatedObject | None, str]:
    mask_utils = pycocotools_mask()
    mask = mask_utils.decode(encoded_rle(item.rle))
    moved = warp_masks(Masks(mask), matrix, out_shape, mask_fill=0).data
    area, before = float(moved.sum()), float(mask.sum())
    reason = _filter(area, before * abs(np.linalg.det(forward_map(matrix)[:2, :2])), options)
    if reason:
        return None, reason
    encoded = mask_utils.encode(np.asfortranarray(moved))
    box = mask_utils.toBbox(encoded).tolist()
    counts = encoded["counts"]
    rle_out = {
        "size": [int(v) for v in encoded["size"]],
        "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts,
    }
    box_xyxy = (box[0], box[1], box[0] + box[2], box[1] + box[3])
    return replace(item, box=_floats(box_xyxy), rle=rle_out, keypoints=keypoints), ""


def pycocotools_mask() -> Any:
    """``pycocotools.mask``, imported only when an RLE mask needs it."""
    try:
        from pycocotools import mask
    except ImportError as exc:
        raise MissingExtraError(
            "this COCO file has RLE masks, which augcore moves through pycocotools; install "
            "it with `pip install augcore[coco]` (or `pip install pycocotools`)"
        ) from exc
    return mask


def encoded_rle(rle: Any) -> Any:
    """A COCO RLE dict as pycocotools takes it (its counts as bytes when compressed)."""
    counts = rle["counts"]
    if isinstance(counts, list):
        return pycocotools_mask().frPyObjects(dict(rle), *rle["size"])
    return {
        "size": rle["size"],
        "counts": counts.encode("ascii") if isinstance(counts, str) else counts,
    }
