"""Moving all the targets of an image at once: boxes, keypoints and masks, kept in step.

One call per warp: the same pull map and canvas the image was warped with. Boxes are filtered
by the options, and their labels, extra columns and per-box masks go with them; what was
dropped is reported by input index and reason. Keypoints are never dropped. A batch is moved
item by item with the masks warped in one kernel call, so item i of a batch equals the single
call bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

import numpy as np

from augcore.errors import BatchLengthError, ConfigError, MatrixError, TargetError
from augcore.targets.geometry import (
    BOX_RULES,
    BoxRule,
    MovedBoxes,
    boxes_after,
    forward_maps,
    inside,
    keypoint_positions,
    mirrors,
    move_box_array,
    move_boxes,
    swap_order,
)
from augcore.targets.masks import warp_masks_batch
from augcore.targets.types import Boxes, CanvasShape, Keypoints, Masks
from augcore.validation import is_number


@dataclass(frozen=True)
class TargetOptions:
    """How boxes and masks follow the image (the Albumentations ``BboxParams`` of augcore).

    Args:
        box_rule: "enclose" (box of the 4 moved corners) or "ellipse" (box of the moved
            inscribed ellipse: tighter for round objects under rotation).
        min_visibility: drop a box when less than this fraction of it stays on the canvas.
        min_area: drop a box whose clipped area is below this many square pixels.
        mask_fill: the label masks take outside the source (e.g. 255 as an ignore index);
            None uses the image's fill mode (and 0 where that is "constant").
    """

    box_rule: BoxRule = "enclose"
    min_visibility: float = 0.0
    min_area: float = 0.0
    mask_fill: float | None = None

    def __post_init__(self) -> None:
        if self.box_rule not in BOX_RULES:
            raise TargetError(f"box_rule must be one of {list(BOX_RULES)}, got {self.box_rule!r}")
        if not is_number(self.min_visibility) or not 0 <= self.min_visibility <= 1:
            raise TargetError(f"min_visibility must be in [0, 1], got {self.min_visibility!r}")
        if not is_number(self.min_area) or self.min_area < 0:
            raise TargetError(f"min_area must be a number >= 0, got {self.min_area!r}")
        if self.mask_fill is not None and not is_number(self.mask_fill):
            raise TargetError(f"mask_fill must be a number or None, got {self.mask_fill!r}")

    @classmethod
    def from_config(cls, table: Any) -> TargetOptions:
        """From a config's ``targets`` table (keys as the fields; absent: the defaults).

        Raises:
            ConfigError: not a table, an unknown key, or a bad value.
        """
        if table is None:
            return cls()
        names = [f.name for f in fields(cls)]
        if not isinstance(table, Mapping) or set(table) - set(names):
            raise ConfigError(
                f"config 'targets' must be a table with keys among {', '.join(names)}, "
                f"got {table!r}"
            )
        try:
            return cls(**table)
        except TargetError as exc:
            raise ConfigError(f"config 'targets': {exc}") from exc

    def to_config(self) -> dict[str, Any]:
        """The fields that differ from the defaults (a config without them reads back equal)."""
        default = TargetOptions()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def move_boxes(
        self, boxes: Boxes, forward: np.ndarray, in_shape: CanvasShape, out_shape: CanvasShape
    ) -> MovedBoxes:
        """``boxes`` moved by ``forward`` (see ``forward_map``) with this rule and filters."""
        return move_boxes(
            boxes,
            forward,
            in_shape,
            out_shape,
            rule=self.box_rule,
            min_visibility=self.min_visibility,
            min_area=self.min_area,
        )


@dataclass(frozen=True)
class Targets:
    """The labelled data of one image; any part may be None.

    Raises:
        TargetError: per-box masks whose count differs from the number of boxes.
    """

    boxes: Boxes | None = None
    keypoints: Keypoints | None = None
    masks: Masks | None = None

    def __post_init__(self) -> None:
        if self.masks is not None and self.masks.per_box:
            boxes = 0 if self.boxes is None else len(self.boxes)
            if self.masks.count != boxes:
                raise TargetError(
                    f"{self.masks.count} per-box masks for {boxes} boxes; give one mask per box"
                )

    def check_canvas(self, shape: CanvasShape, what: str = "the image") -> None:
        """Masks must cover exactly the image they go with."""
        if self.masks is not None and self.masks.shape != tuple(shape):
            raise TargetError(
                f"masks are {self.masks.shape[0]} x {self.masks.shape[1]} but {what} is "
                f"{shape[0]} x {shape[1]}; masks must cover the image pixel for pixel"
            )


class DroppedBox(TypedDict):
    """A box a map dropped, as recorded: its index among the boxes given, and why."""

    index: int
    #: "outside", "min_area", "min_visibility" or "behind" (past a perspective's horizon)
    reason: str


@dataclass
class MovedTargets:
    """Targets after one or more maps: the moved targets, which input boxes survive (their
    indices, in order), and the dropped ones."""

    targets: Targets
    kept: np.ndarray
    dropped: list[DroppedBox] = field(default_factory=list)

    @property
    def boxes(self) -> Boxes | None:
        return self.targets.boxes

    @property
    def keypoints(self) -> Keypoints | None:
        return self.targets.keypoints

    @property
    def masks(self) -> Masks | None:
        return self.targets.masks


def move_targets(
    targets: Targets,
    matrix: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
    *,
    options: TargetOptions = TargetOptions(),
    fill_mode: str = "nearest",
) -> MovedTargets:
    """Move one image's targets by the pull map its pixels were warped with.

    Example:
        >>> flip = np.array([[1.0, 0, 0], [0, -1, 9], [0, 0, 1]])  # mirror a 10-wide image
        >>> moved = move_targets(Targets(boxes=Boxes([[1, 2, 4, 5]])), flip, (8, 10), (8, 10))
        >>> moved.targets.boxes.data.tolist()
        [[6.0, 2.0, 9.0, 5.0]]
    """
    return move_targets_batch(
        [targets],
        np.asarray(matrix, dtype=np.float64)[None],
        in_shape,
        out_shape,
        options=options,
        fill_mode=fill_mode,
    )[0]


def move_targets_batch(
    targets: Sequence[Targets],
    matrices: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
    *,
    options: TargetOptions = TargetOptions(),
    fill_mode: str = "nearest",
    threads: int = 1,
) -> list[MovedTargets]:
    """Move each image's targets by its own pull map (``matrices``: (N, 3, 3)).

    All the boxes of the batch move in one vectorised pass, all the keypoints in another
    (element-wise arithmetic: item i's result does not depend on the others).
    """
    for item in targets:
        item.check_canvas(in_shape)
    matrices = _as_3x3(matrices)
    if len(matrices) != len(targets):
        raise BatchLengthError(f"got {len(targets)} targets but {len(matrices)} matrices")
    forwards = forward_maps(matrices)
    boxes = _move_all_boxes(targets, forwards, in_shape, out_shape, options)
    keypoints = _move_all_keypoints(targets, forwards, in_shape, out_shape)
    moved = []
    for item, item_boxes, item_points in zip(targets, boxes, keypoints, strict=True):
        kept = np.arange(0) if item_boxes is None else item_boxes.kept
        dropped = (
            []
            if item_boxes is None
            else [
                DroppedBox(index=index, reason=reason)
                for index, reason in item_boxes.dropped.items()
            ]
        )
        masks = item.masks
        if masks is not None and masks.per_box:  # dropped with their boxes, before warping
            masks = Masks(masks.data[kept], per_box=True)
        result = Targets(None if item_boxes is None else item_boxes.boxes, item_points, masks)
        moved.append(MovedTargets(result, kept, dropped))
    _warp_all_masks(moved, matrices, out_shape, options, fill_mode, threads)
    return moved


def _as_3x3(matrices: Any) -> np.ndarray:
    array = np.asarray(matrices, dtype=np.float64)
    if array.ndim == 3 and array.shape[1:] == (2, 3):
        array = np.concatenate(
            [array, np.broadcast_to([[[0.0, 0.0, 1.0]]], (len(array), 1, 3))], axis=1
        )
    if array.ndim != 3 or array.shape[1:] != (3, 3):
        raise MatrixError(f"matrices must be (N, 3, 3) pull maps, got shape {array.shape}")
    return array


def _split(counts: list[int]) -> list[int]:
    return np.cumsum(counts)[:-1].tolist()


def _move_all_boxes(
    targets: Sequence[Targets],
    forwards: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
    options: TargetOptions,
) -> list[MovedBoxes | None]:
    result: list[MovedBoxes | None] = [None] * len(targets)
    given = [(i, item.boxes) for i, item in enumerate(targets) if item.boxes is not None]
    if not given:
        return result
    xyxy = [boxes.to_xyxy(in_shape) for _, boxes in given]
    counts = [len(boxes) for _, boxes in given]
    owners = np.repeat([i for i, _ in given], counts)
    clipped, codes = move_box_array(
        np.concatenate(xyxy),
        forwards[owners],
        out_shape,
        options.box_rule,
        options.min_visibility,
        options.min_area,
    )
    cuts = _split(counts)
    for (i, boxes), part, part_codes in zip(
        given, np.split(clipped, cuts), np.split(codes, cuts), strict=True
    ):
        result[i] = boxes_after(boxes, part, part_codes, out_shape)
    return result


def _move_all_keypoints(
    targets: Sequence[Targets],
    forwards: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
) -> list[Keypoints | None]:
    result: list[Keypoints | None] = [None] * len(targets)
    given = [(i, item.keypoints) for i, item in enumerate(targets) if item.keypoints is not None]
    if not given:
        return result
    counts = [len(points) for _, points in given]
    owners = np.repeat([i for i, _ in given], counts)
    moved, ahead = keypoint_positions(forwards[owners], np.concatenate([p.data for _, p in given]))
    visible = np.concatenate([p.visible for _, p in given]) & ahead & inside(moved, out_shape)
    mirrored = mirrors(forwards, in_shape)
    cuts = _split(counts)
    for (i, points), xy, flags in zip(
        given, np.split(moved, cuts), np.split(visible, cuts), strict=True
    ):
        if points.flip_pairs and mirrored[i]:
            order = swap_order(len(points), points.flip_pairs)
            xy, flags = xy[order], flags[order]
        result[i] = points.moved(xy, flags)
    return result


def _warp_all_masks(
    moved: list[MovedTargets],
    matrices: np.ndarray,
    out_shape: CanvasShape,
    options: TargetOptions,
    fill_mode: str,
    threads: int,
) -> None:
    """Warp every item's masks, one kernel call per group of like masks."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, item in enumerate(moved):
        masks = item.targets.masks
        if masks is None:
            continue
        groups.setdefault((masks.data.shape, masks.data.dtype, masks.per_box), []).append(i)
    for (_, _, per_box), members in groups.items():
        stack = np.stack([moved[i].targets.masks.data for i in members])  # type: ignore[union-attr]
        if stack.ndim == 4 and stack.shape[1] == 0:  # every box dropped: nothing to warp
            warped = np.zeros((len(members), 0, *out_shape), dtype=stack.dtype)
        else:
            warped = warp_masks_batch(
                stack,
                matrices[members],
                out_shape,
                fill_mode=fill_mode,
                mask_fill=options.mask_fill,
                threads=threads,
            )
        for i, data in zip(members, warped, strict=True):
            item = moved[i]
            item.targets = Targets(
                item.targets.boxes, item.targets.keypoints, Masks(data, per_box=bool(per_box))
            )
