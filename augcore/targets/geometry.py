"""Moving points, boxes and polygons with the pull map that warps the image.

The image is warped by a pull map M in scipy's (row, col) index convention: input (r, c) =
M @ (r', c', 1), projective allowed. Targets move the other way, by the forward map inv(M),
written here once as a 3x3 ``forward`` in continuous (x, y) pixel coordinates: index (r, c) is
continuous (c + 0.5, r + 0.5) (see ``augcore.targets.types``). Every function is pure and
vectorised over the items; nothing here knows about pipelines.

Boxes move by their four corners; the result is the box enclosing them ("enclose", the
default, exact for the quadrilateral the box becomes) or the box of the moved inscribed
ellipse ("ellipse", tighter for round objects; exact for affine and projective maps alike,
computed from the ellipse's dual conic, which for an affine map is the closed form
sqrt((A00 a)^2 + (A01 b)^2), sqrt((A10 a)^2 + (A11 b)^2)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from augcore.errors import MatrixError, TargetError
from augcore.targets.types import Boxes, CanvasShape, Keypoints

BoxRule = Literal["enclose", "ellipse"]
BOX_RULES: tuple[BoxRule, ...] = get_args(BoxRule)

# continuous (x, y, 1) -> index (r, c, 1): swap the axes and move half a pixel.
_TO_INDEX = np.array([[0.0, 1.0, -0.5], [1.0, 0.0, -0.5], [0.0, 0.0, 1.0]])
_FROM_INDEX = np.linalg.inv(_TO_INDEX)


def forward_map(matrix: np.ndarray) -> np.ndarray:
    """The 3x3 forward map in continuous (x, y) coordinates of a (row, col) pull map.

    Raises:
        MatrixError: the matrix is not 2x3/3x3, not finite, or not invertible.
    """
    pull = np.asarray(matrix, dtype=np.float64)
    if pull.shape == (2, 3):
        pull = np.vstack([pull, [0.0, 0.0, 1.0]])
    if pull.shape != (3, 3) or not np.isfinite(pull).all():
        raise MatrixError(f"a pull map must be a finite 2x3 or 3x3 matrix, got {pull.shape}")
    try:
        inverse = np.linalg.inv(pull)
    except np.linalg.LinAlgError as exc:
        raise MatrixError(f"the pull map {pull.tolist()} is singular: targets cannot move") from exc
    return _FROM_INDEX @ inverse @ _TO_INDEX


def is_affine(forward: np.ndarray) -> bool:
    return bool(forward[2, 0] == 0.0 and forward[2, 1] == 0.0)


def mirrors(forward: np.ndarray, shape: CanvasShape) -> bool:
    """Whether the map reverses orientation (an odd number of flips) over the input canvas.

    The sign of a projective map's Jacobian is sign(det F) * sign(w)^3; w is taken at the
    input canvas's centre, where the image lies on the visible side of the horizon.
    """
    w = forward[2] @ [shape[1] / 2, shape[0] / 2, 1.0]
    return bool(np.linalg.det(forward) * w < 0)


def move_points(forward: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 2) moved by ``forward``, and which of them land in front of the horizon
    (w > 0; always all for affine maps). Points behind it come back as NaN."""
    moved = xy @ forward[:2, :2].T + forward[:2, 2]
    w = xy @ forward[2, :2] + forward[2, 2]
    ahead = w > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.where(ahead[:, None], moved / w[:, None], np.nan)
    return moved, ahead


def inside(xy: np.ndarray, shape: CanvasShape) -> np.ndarray:
    """Which points lie on the canvas: 0 <= x < W and 0 <= y < H (NaN never does)."""
    x, y = xy[:, 0], xy[:, 1]
    return (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])


def move_keypoints(
    keypoints: Keypoints, forward: np.ndarray, in_shape: CanvasShape, out_shape: CanvasShape
) -> Keypoints:
    """Keypoints moved; the ones that leave ``out_shape`` become invisible; flip pairs swap
    when the map mirrors (two flips do not)."""
    moved, _ = move_points(forward, keypoints.data)
    visible = keypoints.visible & inside(moved, out_shape)
    if keypoints.flip_pairs and mirrors(forward, in_shape):
        order = swap_order(len(keypoints), keypoints.flip_pairs)
        moved, visible = moved[order], visible[order]
    return keypoints.moved(moved, visible)


def swap_order(count: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """The row order that exchanges each pair (i, j) of ``count`` rows."""
    order = np.arange(count)
    for i, j in pairs:
        order[i], order[j] = j, i
    return order


@dataclass
class MovedBoxes:
    """Boxes after a map: the kept ones, which input indices they are, and why others went."""

    boxes: Boxes
    kept: np.ndarray
    #: input box index -> "outside" | "min_area" | "min_visibility" (also "behind" for a
    #: projective map that sends a corner past the horizon)
    dropped: dict[int, str] = field(default_factory=dict)


def move_boxes(
    boxes: Boxes,
    forward: np.ndarray,
    in_shape: CanvasShape,
    out_shape: CanvasShape,
    *,
    rule: BoxRule = "enclose",
    min_visibility: float = 0.0,
    min_area: float = 0.0,
) -> MovedBoxes:
    """Boxes moved, clipped to ``out_shape`` and filtered, labels and columns in step.

    A box is dropped when nothing of it is left on the canvas ("outside"), when its clipped
    area in pixels is below ``min_area``, or when the clipped fraction of its moved area is
    below ``min_visibility``.
    """
    if rule not in BOX_RULES:
        raise TargetError(f"box rule must be one of {list(BOX_RULES)}, got {rule!r}")
    xyxy = boxes.to_xyxy(in_shape)
    if rule == "ellipse":
        moved, ahead = _ellipse_boxes(forward, xyxy)
    else:
        moved, ahead = _enclosing_boxes(forward, xyxy)
    height, width = out_shape
    clipped = np.clip(moved, 0.0, [width, height, width, height]) if len(moved) else moved
    area = _area(clipped)
    with np.errstate(divide="ignore", invalid="ignore"):
        visibility = np.where(_area(moved) > 0, area / _area(moved), 0.0)
    reasons = np.full(len(boxes), "", dtype=object)
    reasons[visibility < min_visibility] = "min_visibility"
    reasons[area < min_area] = "min_area"
    reasons[area <= 0] = "outside"
    reasons[~ahead] = "behind"
    kept = np.flatnonzero(reasons == "")
    dropped = {int(i): str(reasons[i]) for i in np.flatnonzero(reasons != "")}
    return MovedBoxes(boxes.from_xyxy(clipped[kept], out_shape, kept), kept, dropped)


def _area(xyxy: np.ndarray) -> np.ndarray:
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)


def _enclosing_boxes(forward: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = xyxy.T
    corners = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 2)
    moved, ahead = move_points(forward, corners)
    moved, ahead = moved.reshape(-1, 4, 2), ahead.reshape(-1, 4).all(axis=1)
    low, high = moved.min(axis=1), moved.max(axis=1)
    out = np.concatenate([low, high], axis=1)
    return np.where(ahead[:, None], out, 0.0), ahead


def _ellipse_boxes(forward: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box of each box's inscribed ellipse after the map, from its dual conic.

    The ellipse with centre c and half-sizes (a, b) has the dual conic D = T diag(a², b², -1)
    T^T (T translates by c); after the map G it is G D G^T, and the vertical lines x = t
    tangent to it solve D00 - 2 t D02 + t² D22 = 0 (likewise y with D11, D12).
    """
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    half = (xyxy[:, 2:] - xyxy[:, :2]) / 2
    n = xyxy.shape[0]
    translate = np.zeros((n, 3, 3))
    translate[:, 0, 0] = translate[:, 1, 1] = translate[:, 2, 2] = 1.0
    translate[:, :2, 2] = centre
    scale = np.zeros((n, 3, 3))
    scale[:, 0, 0], scale[:, 1, 1], scale[:, 2, 2] = half[:, 0] ** 2, half[:, 1] ** 2, -1.0
    moved = forward @ translate
    dual = moved @ scale @ moved.transpose(0, 2, 1)
    # An ellipse stays an ellipse (bounded) only while it lies wholly before the horizon.
    ahead = dual[:, 2, 2] < 0
    out = np.zeros((n, 4))
    for axis in (0, 1):
        d_aa, d_a2, d_22 = dual[:, axis, axis], dual[:, axis, 2], dual[:, 2, 2]
        root = np.sqrt(np.clip(d_a2**2 - d_aa * d_22, 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            first, second = (d_a2 - root) / d_22, (d_a2 + root) / d_22
        out[:, axis] = np.where(ahead, np.minimum(first, second), 0.0)
        out[:, axis + 2] = np.where(ahead, np.maximum(first, second), 0.0)
    return out, ahead


def clip_polygon(xy: np.ndarray, shape: CanvasShape) -> np.ndarray:
    """A polygon (V, 2) clipped to the canvas [0, W] x [0, H] (Sutherland-Hodgman).

    Returns the clipped vertices, (0, 2) when nothing is left. The canvas is convex, so the
    result is exact: one polygon, possibly with collinear edges along the border.
    """
    height, width = shape
    # (axis, limit, keep-below): the four half-planes of the canvas rectangle.
    for axis, limit, below in (
        (0, 0.0, False),
        (0, width, True),
        (1, 0.0, False),
        (1, height, True),
    ):
        if len(xy) == 0:
            break
        points = xy
        keep = points[:, axis] <= limit if below else points[:, axis] >= limit
        out = []
        for i in range(len(points)):
            current, previous = points[i], points[i - 1]
            if keep[i] != keep[i - 1]:
                t = (limit - previous[axis]) / (current[axis] - previous[axis])
                crossing = previous + t * (current - previous)
                crossing[axis] = limit
                out.append(crossing)
            if keep[i]:
                out.append(current)
        xy = np.array(out, dtype=np.float64).reshape(-1, 2)
    return xy


def move_polygon(forward: np.ndarray, xy: np.ndarray, out_shape: CanvasShape) -> np.ndarray:
    """A polygon's vertices moved one by one and clipped to the canvas; (0, 2) if it left
    (or if a vertex went past a projective map's horizon, where the polygon is unbounded)."""
    moved, ahead = move_points(forward, np.asarray(xy, dtype=np.float64).reshape(-1, 2))
    if not ahead.all():
        return np.zeros((0, 2))
    clipped = clip_polygon(moved, out_shape)
    return clipped if len(clipped) >= 3 and polygon_area(clipped) > 0 else np.zeros((0, 2))


def polygon_area(xy: np.ndarray) -> float:
    """The area of a simple polygon (shoelace formula)."""
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
