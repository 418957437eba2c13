"""``Pipeline.augment(..., boxes=, keypoints=, masks=)``: the image and its targets together.

The call reads like Albumentations' ``transform(image=..., bboxes=..., mask=...)`` and
torchvision's ``transform(image, boxes, masks)``: targets go in next to the image and come
back moved, with the record. Plain arrays are accepted where the meaning is unambiguous
(masks; (N, 4) pixel xyxy boxes; (N, 2) x, y keypoints); the ``Boxes``/``Keypoints``/``Masks``
types say the rest (formats, labels, flip pairs, per-box masks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from augcore.errors import BatchLengthError, TargetError
from augcore.targets.follow import follow_records
from augcore.targets.move import MovedTargets, TargetOptions, Targets
from augcore.targets.types import Boxes, Keypoints, Masks


def as_targets(boxes: Any = None, keypoints: Any = None, masks: Any = None) -> Targets:
    """One image's targets from the typed objects or plain arrays a caller passed."""
    return Targets(
        boxes=_as(boxes, Boxes, "boxes"),
        keypoints=_as(keypoints, Keypoints, "keypoints"),
        masks=_as(masks, Masks, "masks"),
    )


def _as(value: Any, kind: type, what: str) -> Any:
    if value is None or isinstance(value, kind):
        return value
    if isinstance(value, (Boxes, Keypoints, Masks, Targets)):
        raise TargetError(f"{what}= got a {type(value).__name__}; pass a {kind.__name__}")
    return kind(value)


def targets_of(
    count: int, boxes: Any, keypoints: Any, masks: Any, *, batch: bool
) -> list[Targets] | None:
    """The targets a call was given, one ``Targets`` per image; None when it was given none."""
    if boxes is None and keypoints is None and masks is None:
        return None
    if not batch:
        return [as_targets(boxes, keypoints, masks)]
    return batch_targets(count, boxes, keypoints, masks)


def batch_targets(
    count: int, boxes: Any = None, keypoints: Any = None, masks: Any = None
) -> list[Targets]:
    """Per-image targets of a batch: each argument is None or one entry per image (a masks
    array may also be stacked, (N, H, W) or (N, M, H, W))."""
    columns = []
    for value, what in ((boxes, "boxes"), (keypoints, "keypoints"), (masks, "masks")):
        if value is None:
            columns.append([None] * count)
            continue
        if isinstance(value, (Boxes, Keypoints, Masks, str)) or not isinstance(
            value, (Sequence, np.ndarray)
        ):
            raise TargetError(
                f"{what}= in a batch call takes one entry per image (a list), "
                f"got {type(value).__name__}"
            )
        if len(value) != count:
            raise BatchLengthError(
                f"got {count} images but {len(value)} {what}; pass one entry per image"
            )
        columns.append(list(value))
    return [as_targets(b, k, m) for b, k, m in zip(*columns, strict=True)]


def follow(
    targets: Sequence[Targets],
    records: Sequence[Any],
    shape: tuple[int, ...],
    per_image: int,
    fill_mode: str,
    options: TargetOptions | None,
    threads: int = 1,
) -> list[MovedTargets]:
    """The targets of every output: output i is variant i % per_image of image i // per_image."""
    per_output = [item for item in targets for _ in range(per_image)]
    return follow_records(
        per_output,
        records,
        (shape[0], shape[1]),
        options=options,
        fill_mode=fill_mode,
        threads=threads,
    )
