"""COCO: one ``annotations.json`` for a whole dataset (images, annotations, categories).

Reading checks what COCO tools assume and say nothing about when it breaks: every annotation
names an image and a category that exist, its box has a positive size, its polygons have three
or more vertices, its keypoints count matches its category's. A problem that belongs to one
image is collected (the job refuses it or, with ``--on-error skip``, skips that image and lists
it); a problem with the file itself (not JSON, no images list) is raised at once.

Writing assembles one file from the outputs in the order given, with new image and annotation
ids counted from 1, ``file_name`` relative to the output folder, categories and the other
top-level keys (info, licenses) kept, so the same outputs always give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augcore.annotations.model import (
    AnnotatedObject,
    ImageLabels,
    check_inside,
    encoded_rle,
    flip_pairs_from_names,
    pycocotools_mask,
)
from augcore.errors import AnnotationError
from augcore.targets import polygon_area
from augcore.validation import is_integer, is_number

#: Annotation keys augcore recomputes; every other key is written back as it was read.
_MOVED_KEYS = frozenset(
    {"id", "image_id", "category_id", "bbox", "segmentation", "keypoints", "num_keypoints", "area"}
)


@dataclass(frozen=True)
class AnnotationProblem:
    """Why one image's labels cannot be used (``key`` None: no image can be named)."""

    key: str | None
    message: str


@dataclass
class CocoDataset:
    """A COCO file read into ``ImageLabels`` keyed by ``file_name``."""

    path: Path
    images: dict[str, ImageLabels]
    categories: list[dict[str, Any]]
    head: dict[str, Any]
    flip_pairs: dict[int | str, list[tuple[int, int]]]
    problems: list[AnnotationProblem] = field(default_factory=list)


def read_coco(path: str | Path) -> CocoDataset:
    """Read a COCO annotations file.

    Raises:
        AnnotationError: the file is unreadable, not JSON, or lacks the COCO lists.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot read the annotations ({exc.strerror})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}: " if hasattr(exc, "lineno") else ""
        raise AnnotationError(f"{path}: not valid JSON ({where}{exc})") from exc
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), list) for key in ("images", "annotations", "categories")
    ):
        raise AnnotationError(
            f"{path}: a COCO file is an object with lists 'images', 'annotations' and 'categories'"
        )
    categories = data["categories"]
    known = {c.get("id"): c for c in categories if isinstance(c, dict)}
    problems: list[AnnotationProblem] = []
    by_id = _read_images(path, data["images"])
    objects: dict[int, list[AnnotatedObject]] = {image_id: [] for image_id in by_id}
    bad_images: set[int] = set()
    for annotation in data["annotations"]:
        image_id = annotation.get("image_id") if isinstance(annotation, dict) else None
        try:
            item = _read_annotation(annotation, by_id, known)
        except AnnotationError as exc:
            key = by_id[image_id].key if image_id in by_id else None
            problems.append(AnnotationProblem(key, f"{path}: {exc}"))
            bad_images.add(image_id)  # type: ignore[arg-type]
            continue
        objects[image_id].append(item)
    labels = {
        image.key: ImageLabels(image.key, image.shape, tuple(objects[image_id]), image.fields)
        for image_id, image in by_id.items()
        if image_id not in bad_images
    }
    head = {k: v for k, v in data.items() if k not in ("images", "annotations", "categories")}
    pairs: dict[int | str, list[tuple[int, int]]] = {
        cid: flip_pairs_from_names(list(c.get("keypoints", []))) for cid, c in known.items()
    }
    return CocoDataset(path, labels, categories, head, pairs, problems)


def _read_images(path: Path, entries: list[Any]) -> dict[int, ImageLabels]:
    by_id: dict[int, ImageLabels] = {}
    for index, entry in enumerate(entries):
        if not (
            isinstance(entry, dict)
            and is_integer(entry.get("id"))
            and isinstance(entry.get("file_name"), str)
            and is_integer(entry.get("width"))
            and entry["width"] > 0
            and is_integer(entry.get("height"))
            and entry["height"] > 0
        ):
            raise AnnotationError(
                f"{path}: images[{index}] needs an integer id, a file_name and positive "
                f"integer width and height, got {str(entry)[:120]}"
            )
        if entry["id"] in by_id:
            raise AnnotationError(f"{path}: image id {entry['id']} appears twice in images")
        fields = {k: v for k, v in entry.items() if k not in ("id", "file_name", "width", "height")}
        by_id[entry["id"]] = ImageLabels(
            entry["file_name"], (entry["height"], entry["width"]), (), fields
        )
    return by_id


def _read_annotation(
    entry: Any, images: dict[int, ImageLabels], categories: dict[Any, dict[str, Any]]
) -> AnnotatedObject:
    if not isinstance(entry, dict) or "id" not in entry:
        raise AnnotationError(f"an annotation without an id: {str(entry)[:120]}")
    name = f"annotation id {entry['id']}"
    if entry.get("image_id") not in images:
        raise AnnotationError(f"{name} names image_id {entry.get('image_id')!r}, not in images")
    if entry.get("category_id") not in categories:
        raise AnnotationError(
            f"{name} has category_id {entry.get('category_id')!r}, which no category has"
        )
    box = entry.get("bbox")
    if not (isinstance(box, list) and len(box) == 4 and all(map(is_number, box))):
        raise AnnotationError(f"{name}: bbox must be [x, y, width, height], got {box!r}")
    if box[2] <= 0 or box[3] <= 0:
        raise AnnotationError(f"{name}: bbox {box} is degenerate (width and height must be > 0)")
    x, y, w, h = (float(v) for v in box)
    check_inside((x, y, x + w, y + h), images[entry["image_id"]].shape, name)
    polygons, rle = _read_segmentation(entry.get("segmentation"), name)
    keypoints = _read_keypoints(entry.get("keypoints"), categories[entry["category_id"]], name)
    return AnnotatedObject(
        category=entry["category_id"],
        box=(x, y, x + w, y + h),
        polygons=polygons,
        rle=rle,
        keypoints=keypoints,
        fields={k: v for k, v in entry.items() if k not in _MOVED_KEYS},
    )


def _read_segmentation(value: Any, name: str) -> tuple[tuple[np.ndarray, ...], dict | None]:
    if value is None or value == []:
        return (), None
    if isinstance(value, dict):
        if "counts" not in value or not (
            isinstance(value.get("size"), list) and len(value["size"]) == 2
        ):
            raise AnnotationError(f"{name}: an RLE segmentation needs 'counts' and 'size' [h, w]")
        return (), value
    if not isinstance(value, list):
        raise AnnotationError(f"{name}: segmentation must be polygons or an RLE dict")
    polygons = []
    for part in value:
        if not (
            isinstance(part, list)
            and len(part) >= 6
            and len(part) % 2 == 0
            and all(map(is_number, part))
        ):
            raise AnnotationError(
                f"{name}: each polygon is a flat list [x0, y0, x1, y1, ...] of 3 or more "
                f"vertices, got {str(part)[:80]}"
            )
        polygons.append(np.asarray(part, dtype=np.float64).reshape(-1, 2))
    return tuple(polygons), None


def _read_keypoints(value: Any, category: dict[str, Any], name: str) -> np.ndarray | None:
    if value is None:
        return None
    expected = len(category.get("keypoints", []))
    if not (isinstance(value, list) and all(map(is_number, value))) or len(value) != 3 * expected:
        count = len(value) if isinstance(value, list) else value
        raise AnnotationError(
            f"{name}: keypoints must be {expected} (x, y, v) triples for category "
            f"{category.get('name', category.get('id'))!r} ({3 * expected} numbers), got {count}"
        )
    return np.asarray(value, dtype=np.float64).reshape(-1, 3)


# --- writing ---------------------------------------------------------------------------------
def coco_json(dataset: CocoDataset, outputs: list[tuple[str, ImageLabels]]) -> str:
    """The annotations.json text for ``outputs``: (file_name relative to the folder, labels).

    Example:
        >>> labels = ImageLabels("a.png", (10, 20), (AnnotatedObject(1, (2, 3, 6, 8)),))
        >>> data = CocoDataset(Path("in.json"), {}, [{"id": 1, "name": "cat"}], {}, {})
        >>> json.loads(coco_json(data, [("out/a_0.png", labels)]))["annotations"][0]["bbox"]
        [2.0, 3.0, 4.0, 5.0]
    """
    images = [coco_image(file_name, labels) for file_name, labels in outputs]
    return coco_document(dataset.head, dataset.categories, images)


def coco_image(file_name: str, labels: ImageLabels) -> dict[str, Any]:
    """One output's image entry with its annotations (ids are given by ``coco_document``)."""
    height, width = labels.shape
    return {
        **labels.fields,
        "file_name": file_name,
        "width": width,
        "height": height,
        "annotations": [_annotation(item) for item in labels.objects],
    }


def coco_document(
    head: dict[str, Any], categories: list[dict[str, Any]], images: list[dict[str, Any]]
) -> str:
    """A COCO file from ``coco_image`` entries, in their order: image and annotation ids
    counted from 1, the other top-level keys and the categories as read."""
    image_entries, annotations = [], []
    for image_id, image in enumerate(images, start=1):
        entry = {k: v for k, v in image.items() if k != "annotations"}
        image_entries.append({"id": image_id, **entry})
        for annotation in image["annotations"]:
            ids = {"id": len(annotations) + 1, "image_id": image_id}
            annotations.append({**ids, **annotation})
    document = {
        **head,
        "images": image_entries,
        "annotations": annotations,
        "categories": categories,
    }
    return json.dumps(document, ensure_ascii=False) + "\n"


def _annotation(item: AnnotatedObject) -> dict[str, Any]:
    x0, y0, x1, y1 = item.box
    out: dict[str, Any] = {"category_id": item.category, **item.fields}
    area = (x1 - x0) * (y1 - y0)
    if item.polygons:
        flat = [[round(float(v), 2) for v in part.ravel()] for part in item.polygons]
        points = np.concatenate([np.reshape(part, (-1, 2)) for part in flat])
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        out["segmentation"] = flat
        area = sum(polygon_area(np.reshape(part, (-1, 2))) for part in flat)
    elif item.rle is not None:
        out["segmentation"] = dict(item.rle)
        area = float(pycocotools_mask().area(encoded_rle(item.rle)))
    out["bbox"] = [
        round(float(x0), 2),
        round(float(y0), 2),
        round(float(x1 - x0), 2),
        round(float(y1 - y0), 2),
    ]
    out["area"] = round(float(area), 2)
    if item.keypoints is not None:
        rows = np.asarray(item.keypoints)
        out["keypoints"] = [
            round(float(v), 2) if i % 3 < 2 else int(v) for i, v in enumerate(rows.ravel())
        ]
        out["num_keypoints"] = int((rows[:, 2] > 0).sum())
    return out
