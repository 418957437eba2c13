"""YOLO: one ``.txt`` per image in a ``labels/`` tree that mirrors the images.

A row is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ... xn yn`` (a segmentation
polygon of n >= 3 vertices), every coordinate a fraction of the image's width or height. An
image without a label file has no objects. Written rows use 6 decimals, as Ultralytics does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from augcore.annotations.model import AnnotatedObject, ImageLabels, check_inside
from augcore.errors import AnnotationError
from augcore.targets import CanvasShape


def label_path(labels_dir: str | Path, key: str) -> Path:
    """Where the label file of the image ``key`` (relative posix path) lives."""
    return Path(labels_dir) / Path(key).with_suffix(".txt")


def read_yolo(path: str | Path, key: str, shape: CanvasShape) -> ImageLabels:
    """The objects in the YOLO file ``path`` of the image ``key`` of ``shape`` (H, W).

    A missing file means an image without objects.

    Raises:
        AnnotationError: a row that is not a box or a polygon, naming the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ImageLabels(key, shape)
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read the labels ({exc})") from exc
    height, width = shape
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            category, values = int(fields[0]), np.array(fields[1:], dtype=np.float64)
        except ValueError:
            category, values = -1, np.zeros(0)
        if category < 0 or not (len(values) == 4 or (len(values) >= 6 and len(values) % 2 == 0)):
            raise AnnotationError(
                f"{path}, line {number}: expected 'class cx cy w h' or 'class x1 y1 ... xn yn' "
                f"(class a non-negative integer, n >= 3), got {line.strip()[:80]!r}"
            )
        if not np.isfinite(values).all():
            raise AnnotationError(f"{path}, line {number}: coordinates must be finite numbers")
        if len(values) == 4:
            cx, cy, w, h = values * [width, height, width, height]
            if w <= 0 or h <= 0:
                raise AnnotationError(f"{path}, line {number}: the box is degenerate (w, h <= 0)")
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            check_inside(box, shape, f"{path}, line {number}")
            objects.append(AnnotatedObject(category, box))
        else:
            polygon = values.reshape(-1, 2) * [width, height]
            low, high = polygon.min(axis=0), polygon.max(axis=0)
            check_inside((*low, *high), shape, f"{path}, line {number}")
            objects.append(AnnotatedObject(category, (*low, *high), polygons=(polygon,)))
    return ImageLabels(key, shape, tuple(objects))


def yolo_text(labels: ImageLabels) -> str:
    """The YOLO rows of ``labels``: polygons where the object has one, boxes otherwise.

    Example:
        >>> yolo_text(ImageLabels("a.png", (10, 20), (AnnotatedObject(3, (2, 4, 6, 8)),)))
        '3 0.200000 0.600000 0.200000 0.400000\\n'
    """
    height, width = labels.shape
    rows = []
    for item in labels.objects:
        if item.polygons:
            # a clipped polygon is one piece; an object drawn in several keeps its largest
            polygon = max(item.polygons, key=len) / [width, height]
            numbers = " ".join(f"{v:.6f}" for v in polygon.ravel())
        else:
            x0, y0, x1, y1 = item.box
            numbers = (
                f"{(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} "
                f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}"
            )
        rows.append(f"{item.category} {numbers}\n")
    return "".join(rows)
