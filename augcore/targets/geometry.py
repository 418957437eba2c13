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
_FROM_INDEX = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.0, 0.0, 1.0]])


def forward_map(matrix: np.ndarray) -> np.ndarray:
    """The 3x3 forward map in continuous (x, y) coordinates of a (row, col) pull map.

    Raises:
        MatrixError: the matrix is not 2x3/3x3, not finite, or not invertible.
    """
    pull = np.asarray(matrix, dtype=np.float64)
    if pull.shape == (2, 3):
        pull = np.vstack([pull, [0.0, 0.0, 1.0]])
    if pull.shape != (3, 3):
        raise MatrixError(f"a pull map must be a finite 2x3 or 3x3 matrix, got {pull.shape}")
    return forward_maps(pull[None])[0]


def forward_maps(pulls: np.ndarray) -> np.ndarray:
    """``forward_map`` of each of (N, 3, 3) pull maps.

    Element by element (adjugate over determinant, explicit products; no LAPACK or BLAS), so
    a map's forward map has the same bits whatever batch it is computed in.
    """
    m = np.asarray(pulls, dtype=np.float64)
    if m.ndim != 3 or m.shape[1:] != (3, 3) or not np.isfinite(m).all():
        raise MatrixError(f"pull maps must be finite (N, 3, 3) matrices, got {m.shape}")
    adjugate = np.empty_like(m)
    for i in range(3):
        for j in range(3):
            r0, r1 = (j + 1) % 3, (j + 2) % 3
            c0, c1 = (i + 1) % 3, (i + 2) % 3
            adjugate[:, i, j] = m[:, r0, c0] * m[:, r1, c1] - m[:, r0, c1] * m[:, r1, c0]
    det = (
        m[:, 0, 0] * adjugate[:, 0, 0]
        + m[:, 0, 1] * adjugate[:, 1, 0]
        + m[:, 0, 2] * adjugate[:, 2, 0]
    )
    if (det == 0).any():
        bad = int(np.flatnonzero(det == 0)[0])
        raise MatrixError(f"the pull map {m[bad].tolist()} is singular: targets cannot move")
    inverse = adjugate / det[:, None, None]
    return _matmul(_matmul(np.broadcast_to(_FROM_INDEX, m.shape), inverse), _TO_INDEX)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) products written out, so each result's bits do not depend on the batch."""
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape)
    for i in range(3):
        for j in range(3):
            out[..., i, j] = (
                a[..., i, 0] * b[..., 0, j]
                + a[..., i, 1] * b[..., 1, j]
                + (a[..., i, 2] * b[..., 2, j])
            )
    return out


def mirrors(forward: np.ndarray, shape: CanvasShape) -> np.ndarray:
    """Whether each map reverses orientation (an odd number of flips) over the input canvas.

    The sign of a projective map's Jacobian is sign(det F) * sign(w)^3; w is taken at the
    input canvas's centre, where the image lies on the visible side of the horizon. Takes a
    (3, 3) map (returns a bool) or (..., 3, 3) maps.
    """
    f = np.asarray(forward)
    w = f[..., 2, 0] * (shape[1] / 2) + f[..., 2, 1] * (shape[0] / 2) + f[..., 2, 2]
    det = (
        f[..., 0, 0] * (f[..., 1, 1] * f[..., 2, 2] - f[..., 1, 2] * f[..., 2, 1])
        - f[..., 0, 1] * (f[..., 1, 0] * f[..., 2, 2] - f[..., 1, 2] * f[..., 2, 0])
        + f[..., 0, 2] * (f[..., 1, 0] * f[..., 2, 1] - f[..., 1, 1] * f[..., 2, 0])
    )
    return det * w < 0


def move_points(forward: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (..., 2) moved by ``forward`` ((3, 3), or maps whose leading shape broadcasts
    with the points'), and which land in front of the horizon (w > 0; always, for affine
    maps). Points behind it come back as NaN."""
    f = np.asarray(forward)
    x, y = xy[..., 0], xy[..., 1]
    w = f[..., 2, 0] * x + f[..., 2, 1] * y + f[..., 2, 2]
    ahead = w > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.stack(
            [
                (f[..., 0, 0] * x + f[..., 0, 1] * y + f[..., 0, 2]) / w,
                (f[..., 1, 0] * x + f[..., 1, 1] * y + f[..., 1, 2]) / w,
            ],
            axis=-1,
        )
    moved[~ahead] = np.nan
    return moved, ahead


def inside(xy: np.ndarray, shape: CanvasShape) -> np.ndarray:
    """Which points lie on the canvas: 0 <= x < W and 0 <= y < H (NaN never does)."""
    x, y = xy[:, 0], xy[:, 1]
    return (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])


def keypoint_positions(forward: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints moved, and which are in front of the horizon. A point sent behind a
    projective map's horizon has no position: it is put at (0, 0), COCO's place for an
    unlabelled point, and is invisible (keypoints are never dropped)."""
    moved, ahead = move_points(forward, xy)
    moved[~ahead] = 0.0
    return moved, ahead


def move_keypoints(
    keypoints: Keypoints, forward: np.ndarray, in_shape: CanvasShape, out_shape: CanvasShape
) -> Keypoints:
    """Keypoints moved; the ones that leave ``out_shape`` (or go behind a projective map's
    horizon) become invisible; flip pairs swap when the map mirrors (two flips do not)."""
    moved, ahead = keypoint_positions(forward, keypoints.data)
    visible = keypoints.visible & ahead & inside(moved, out_shape)
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


#: Why a box was dropped, by code (0: kept). "behind": a projective map sent a corner past
#: its horizon.
DROP_REASONS = ("", "min_visibility", "min_area", "outside", "behind")


@dataclass
class MovedBoxes:
    """Boxes after a map: the kept ones, which input indices they are, and why others went."""

    boxes: Boxes
    kept: np.ndarray
    #: input box index -> one of DROP_REASONS
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
    clipped, codes = move_box_array(
        boxes.to_xyxy(in_shape), forward, out_shape, rule, min_visibility, min_area
    )
    return boxes_after(boxes, clipped, codes, out_shape)


def boxes_after(
    boxes: Boxes, clipped: np.ndarray, codes: np.ndarray, out_shape: CanvasShape
) -> MovedBoxes:
    """``MovedBoxes`` from ``move_box_array``'s results for ``boxes``."""
    kept = np.flatnonzero(codes == 0)
    dropped = {int(i): DROP_REASONS[codes[i]] for i in np.flatnonzero(codes)}
    return MovedBoxes(boxes.from_xyxy(clipped[kept], out_shape, kept), kept, dropped)


def move_box_array(
    xyxy: np.ndarray,
    forward: np.ndarray,
    out_shape: CanvasShape,
    rule: BoxRule,
    min_visibility: float,
    min_area: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(B, 4) pixel boxes moved by ``forward`` ((3, 3) or one map per box, (B, 3, 3)) and
    clipped; with each box's drop code (an index into DROP_REASONS, 0 to keep)."""
    if rule not in BOX_RULES:
        raise TargetError(f"box rule must be one of {list(BOX_RULES)}, got {rule!r}")
    forward = np.asarray(forward)
    if rule == "ellipse":
        moved, ahead = _ellipse_boxes(forward, xyxy)
    else:
        moved, ahead = _enclosing_boxes(forward[:, None] if forward.ndim == 3 else forward, xyxy)
    height, width = out_shape
    clipped = np.clip(moved, 0.0, [width, height, width, height])
    area, unclipped = _area(clipped), _area(moved)
    with np.errstate(divide="ignore", invalid="ignore"):
        visibility = np.where(unclipped > 0, area / unclipped, 0.0)
    codes = np.zeros(len(xyxy), dtype=np.intp)
    codes[visibility < min_visibility] = 1
    codes[area < min_area] = 2
    codes[area <= 0] = 3
    codes[~ahead] = 4
    return clipped, codes


def _area(xyxy: np.ndarray) -> np.ndarray:
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)


def _enclosing_boxes(forward: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = xyxy.T
    corners = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 4, 2)
    moved, ahead = move_points(forward, corners)
    ahead = ahead.all(axis=1)
    out = np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1)
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
    moved = _matmul(forward, translate)
    dual = _matmul(_matmul(moved, scale), moved.transpose(0, 2, 1))
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
