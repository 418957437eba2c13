"""Labelled data that moves with the image: boxes, keypoints and masks (docs/targets.md).

The image is warped by a pull map; its targets move by the same map, forward: points (and
box corners, polygon vertices) by its inverse, masks through the same kernel at order 0. The
functions here are pure and know nothing of pipelines, so a map from anywhere moves targets.
"""

from __future__ import annotations

from augcore.targets.follow import follow_records
from augcore.targets.geometry import (
    BOX_RULES,
    BoxRule,
    MovedBoxes,
    clip_polygon,
    forward_map,
    mirrors,
    move_boxes,
    move_keypoints,
    move_points,
    move_polygon,
    polygon_area,
    swap_order,
)
from augcore.targets.masks import warp_masks, warp_masks_batch
from augcore.targets.move import (
    DroppedBox,
    MovedTargets,
    TargetOptions,
    Targets,
    move_targets,
    move_targets_batch,
)
from augcore.targets.types import BOX_FORMATS, Boxes, BoxFormat, CanvasShape, Keypoints, Masks

__all__ = [
    "BOX_FORMATS",
    "BOX_RULES",
    "BoxFormat",
    "BoxRule",
    "Boxes",
    "CanvasShape",
    "DroppedBox",
    "Keypoints",
    "Masks",
    "MovedBoxes",
    "MovedTargets",
    "TargetOptions",
    "Targets",
    "clip_polygon",
    "follow_records",
    "forward_map",
    "mirrors",
    "move_boxes",
    "move_keypoints",
    "move_points",
    "move_polygon",
    "move_targets",
    "move_targets_batch",
    "polygon_area",
    "swap_order",
    "warp_masks",
    "warp_masks_batch",
]
