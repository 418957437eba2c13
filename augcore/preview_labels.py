"""Labels on a preview sheet: an input's annotations, read and moved exactly as a labelled run.

``augcore preview ... --annotations PATH --annotation-format coco|yolo|voc`` reads the labels
with the job's own functions (``augcore.job.labels``: the same file lookup, size checks and
resize) and moves them through each variant's record as ``augcore run`` does before writing
them, so the boxes, polygons and keypoints drawn on a tile are the ones the run would write.

Unlike ``run``, a preview does not refuse annotations that name images it is not showing (a
preview often shows a few inputs of a dataset); broken labels of a shown input stop it, or
with ``on_error="skip"`` give that input a row saying why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from augcore.annotations import ImageLabels
from augcore.errors import AnnotationError
from augcore.job.labels import LabelPlan, check_label_options, follow_record, plan_labels
from augcore.job.labels import read_labels as read_job_labels
from augcore.overlays import draw_boxes, draw_keypoints, draw_polygons
from augcore.tiles import Placement

if TYPE_CHECKING:
    from augcore import Pipeline


@dataclass(frozen=True)
class PreviewLabels:
    """A preview's annotations: the job's plan, whether inputs are resized, category names."""

    plan: LabelPlan
    resized: bool
    names: Mapping[Any, str] = field(default_factory=dict)

    def of(self, key: str, shape: tuple[int, ...]) -> ImageLabels:
        """The labels of input ``key`` on its decoded image. Raises AnnotationError."""
        return read_job_labels(self.plan.spec, key, self.plan.by_key.get(key), shape, self.resized)

    def moved(self, labels: ImageLabels, record: Mapping[str, Any]) -> ImageLabels:
        """``labels`` after an output's warps (dropped objects gone), as the run writes them."""
        return follow_record(self.plan.spec, labels, record).labels


def plan_preview_labels(
    annotations: Any,
    annotation_format: str | None,
    keys: Sequence[str],
    pipeline: Pipeline,
    *,
    resized: bool,
    on_error: str,
) -> tuple[PreviewLabels | None, dict[str, str]]:
    """The preview's labels (None without annotations) and the shown inputs whose labels are
    broken, with why. Raises JobOptionError, AnnotationError (with on_error="stop")."""
    check_label_options(annotations, annotation_format)
    if annotations is None or annotation_format is None:
        return None, {}
    plan = plan_labels(annotations, annotation_format, keys, pipeline.targets)
    shown = set(keys)
    broken = {p.key: p.message for p in plan.problems if p.key is not None and p.key in shown}
    if broken and on_error == "stop":
        listing = "\n".join(f"  {message}" for message in broken.values())
        raise AnnotationError(
            f"{len(broken)} annotation problem(s):\n{listing}\n"
            "fix the annotations, or pass --on-error skip to show those inputs as skipped"
        )
    names = {c.get("id"): str(c.get("name")) for c in plan.coco.categories} if plan.coco else {}
    return PreviewLabels(plan, resized, names), broken


def draw_labels(
    tile: Image.Image, placement: Placement, labels: ImageLabels, names: Mapping[Any, str]
) -> None:
    """Draw an image's objects on its tile: polygons, boxes with category names, keypoints."""
    objects = labels.objects
    categories = [names.get(item.category, item.category) for item in objects]
    for item, category in zip(objects, categories, strict=True):
        draw_polygons(tile, placement, item.polygons, category)  # the colour of its box
    if objects:
        boxes = np.array([item.box for item in objects], dtype=np.float64)
        draw_boxes(tile, placement, boxes, categories)
    for item in objects:
        if item.keypoints is not None and len(item.keypoints):
            points = np.asarray(item.keypoints, dtype=np.float64)
            labelled = points[:, 2] > 0  # COCO v=0: not labelled, nothing to show
            draw_keypoints(tile, placement, points[labelled, :2], points[labelled, 2] == 2)
