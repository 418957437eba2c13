"""The labelled-data types that travel with an image: ``Boxes``, ``Keypoints`` and ``Masks``.

Coordinates are continuous pixel coordinates (x to the right, y down): pixel (row r, col c)
covers [c, c + 1) x [r, r + 1), so its centre is (c + 0.5, r + 0.5) and a box [0, 0, W, H]
covers a whole W x H image. This is the COCO, Pascal VOC (less its 1-based origin), YOLO and
torchvision convention for boxes and polygons, used here for keypoints too, so one map moves
them all alike.

Every per-item array (labels, extra columns, visibility) is validated against the number of
items when the object is built, so boxes and their labels can never fall out of step; objects
are immutable and every operation returns a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np

from augcore.errors import TargetError

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]
BOX_FORMATS: tuple[BoxFormat, ...] = get_args(BoxFormat)
#: (height, width) of the canvas a target lives on.
CanvasShape = tuple[int, int]


def _float_rows(data: Any, width: int, what: str) -> np.ndarray:
    try:
        array = np.array(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TargetError(f"{what} must hold numbers: {exc}") from exc
    if array.size == 0:
        array = array.reshape(0, width)
    if array.ndim != 2 or array.shape[1] != width:
        raise TargetError(f"{what} must have shape (N, {width}), got {array.shape}")
    if not np.isfinite(array).all():
        raise TargetError(f"{what} holds NaN or inf; every coordinate must be finite")
    return array


def _per_item(values: Any, count: int, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 0 or array.shape[0] != count:
        raise TargetError(f"{what} must have one entry per item ({count}), got shape {array.shape}")
    return array


class Boxes:
    """N boxes in one format, with optional per-box ``labels`` and extra per-box ``columns``.

    Args:
        data: (N, 4) numbers in ``format``: "xyxy" (x_min, y_min, x_max, y_max; Pascal VOC,
            torchvision XYXY), "xywh" (x_min, y_min, width, height; COCO) or "cxcywh"
            (centre and size; YOLO, when ``normalized``).
        normalized: coordinates are fractions of the image's width and height (YOLO).
        labels: one label per box (class ids or names); dropped boxes drop theirs.
        columns: more per-box arrays (e.g. ``{"iscrowd": ..., "id": ...}``), kept in step too.

    Raises:
        TargetError: a malformed array, a negative width or height, a per-box array of the
            wrong length, or an unknown format.

    Example:
        >>> boxes = Boxes([[10, 20, 30, 40]], format="xywh", labels=["cat"])
        >>> boxes.to_xyxy((100, 100)).tolist()
        [[10.0, 20.0, 40.0, 60.0]]
    """

    __slots__ = ("columns", "data", "format", "labels", "normalized")

    def __init__(
        self,
        data: Any,
        *,
        format: BoxFormat = "xyxy",
        normalized: bool = False,
        labels: Any = None,
        columns: Mapping[str, Any] | None = None,
    ) -> None:
        if format not in BOX_FORMATS:
            raise TargetError(f"box format must be one of {list(BOX_FORMATS)}, got {format!r}")
        self.data = _float_rows(data, 4, "boxes")
        self.format: BoxFormat = format
        self.normalized = bool(normalized)
        count = self.data.shape[0]
        self.labels = None if labels is None else _per_item(labels, count, "box labels")
        self.columns = {
            str(name): _per_item(values, count, f"box column {name!r}")
            for name, values in (columns or {}).items()
        }
        sizes = self.data[:, 2:] if format != "xyxy" else self.data[:, 2:] - self.data[:, :2]
        if (sizes < 0).any():
            bad = int(np.flatnonzero((sizes < 0).any(axis=1))[0])
            raise TargetError(
                f"box {bad} ({self.data[bad].tolist()} in {format}) has a negative width or "
                "height; is the format right?"
            )

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        scale = ", normalized" if self.normalized else ""
        return f"Boxes({self.data.tolist()!r}, format={self.format!r}{scale})"

    def to_xyxy(self, shape: CanvasShape) -> np.ndarray:
        """The boxes as (N, 4) pixel x_min, y_min, x_max, y_max on a canvas of ``shape``."""
        data = self.data.copy()
        if self.normalized:
            data *= [shape[1], shape[0], shape[1], shape[0]]
        if self.format == "xywh":
            data[:, 2:] += data[:, :2]
        elif self.format == "cxcywh":
            half = data[:, 2:] / 2
            data[:, 2:] = data[:, :2] + half
            data[:, :2] -= half
        return data

    def from_xyxy(self, xyxy: np.ndarray, shape: CanvasShape, keep: np.ndarray) -> Boxes:
        """New boxes in this object's format and scale from pixel ``xyxy`` on ``shape``,
        carrying the labels and columns of the kept items (``keep``: indices into self)."""
        data = np.array(xyxy, dtype=np.float64)
        if self.format == "xywh":
            data[:, 2:] -= data[:, :2]
        elif self.format == "cxcywh":
            size = data[:, 2:] - data[:, :2]
            data[:, :2] += size / 2
            data[:, 2:] = size
        if self.normalized:
            data /= [shape[1], shape[0], shape[1], shape[0]]
        return Boxes(
            data,
            format=self.format,
            normalized=self.normalized,
            labels=None if self.labels is None else self.labels[keep],
            columns={name: values[keep] for name, values in self.columns.items()},
        )


class Keypoints:
    """N points in (x, y) pixels with per-point ``visible`` flags and optional ``labels``.

    Points are never dropped, so arrays keep their length: a point that leaves the canvas
    (or was invisible already) has ``visible == False``. ``flip_pairs`` are index pairs
    (i, j), e.g. left eye <-> right eye: when the map mirrors the image, rows i and j exchange
    coordinates and visibility (labels stay with the index, as in mmpose).

    Example:
        >>> points = Keypoints([[5.5, 2.5], [9.5, 2.5]], flip_pairs=[(0, 1)])
        >>> points.visible.tolist()
        [True, True]
    """

    __slots__ = ("data", "flip_pairs", "labels", "visible")

    def __init__(
        self,
        data: Any,
        *,
        visible: Any = None,
        labels: Any = None,
        flip_pairs: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.data = _float_rows(data, 2, "keypoints")
        count = self.data.shape[0]
        self.visible = (
            np.ones(count, dtype=bool)
            if visible is None
            else _per_item(visible, count, "keypoint visible flags").astype(bool)
        )
        self.labels = None if labels is None else _per_item(labels, count, "keypoint labels")
        pairs = []
        for pair in flip_pairs:
            if len(pair) != 2 or not all(0 <= int(i) < count for i in pair):
                raise TargetError(
                    f"flip pair {tuple(pair)!r} must be two indices of the {count} keypoints"
                )
            pairs.append((int(pair[0]), int(pair[1])))
        self.flip_pairs: tuple[tuple[int, int], ...] = tuple(pairs)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        return f"Keypoints({self.data.tolist()!r}, visible={self.visible.tolist()!r})"

    def moved(self, data: np.ndarray, visible: np.ndarray) -> Keypoints:
        """The same points (labels, pairs) at new coordinates and visibility."""
        return Keypoints(data, visible=visible, labels=self.labels, flip_pairs=self.flip_pairs)


class Masks:
    """A label map (H, W), a stack (M, H, W) of masks, or float heatmaps of either shape.

    Integer and bool masks are warped with nearest-neighbour sampling, so labels are never
    blended; float masks (heatmaps, soft masks) are warped bilinearly. ``per_box=True`` says
    mask i of a stack belongs to box i: it is dropped when its box is.

    Example:
        >>> Masks(np.zeros((2, 8, 8), np.uint16), per_box=True).count
        2
    """

    __slots__ = ("data", "per_box")

    def __init__(self, data: Any, *, per_box: bool = False) -> None:
        array = np.asarray(data)
        if array.dtype.kind not in "biuf":
            raise TargetError(
                f"masks have dtype {array.dtype}; use an integer or bool dtype for labels "
                "and instances, or a float dtype for heatmaps"
            )
        if array.ndim not in (2, 3) or 0 in array.shape[-2:]:
            raise TargetError(f"masks must be (H, W) or (M, H, W), got shape {array.shape}")
        if per_box and array.ndim != 3:
            raise TargetError("per_box masks must be a stack (M, H, W), one mask per box")
        self.data = array
        self.per_box = bool(per_box)

    @property
    def count(self) -> int:
        """How many masks the stack holds (1 for a single label map)."""
        return 1 if self.data.ndim == 2 else self.data.shape[0]

    @property
    def shape(self) -> CanvasShape:
        """(H, W) of the canvas the masks cover."""
        return (self.data.shape[-2], self.data.shape[-1])

    @property
    def heatmap(self) -> bool:
        """Float masks are heatmaps: warped bilinearly."""
        return self.data.dtype.kind == "f"

    def __repr__(self) -> str:
        return f"Masks(shape={self.data.shape}, dtype={self.data.dtype}, per_box={self.per_box})"
