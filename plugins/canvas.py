"""Built-in geometric transforms that change the canvas: crops, resizes, padding, perspective.

Each is still only a pull map: ``canvas(shape)`` says the output size from the options and the
input size alone (never from sampled values, so a batch stays rectangular), and ``matrices``
maps that output canvas back onto the input. The host fuses them with their geometric
neighbours into ONE warp from the input canvas to the run's final canvas.

Sizes are (height, width) in pixels. A resize maps pixel centres onto pixel centres, as Pillow,
OpenCV and torchvision do: input row = (row' + 0.5) * h / h' - 0.5. A canvas step that does not
fire (``p`` < 1) still delivers its canvas, by that plain resize of the whole input.
"""

from __future__ import annotations

import math

import numpy as np

from augcore.errors import CanvasError, ConfigError
from augcore.hookspecs import hookimpl
from augcore.seeding import Draws
from augcore.transform import (
    GeometricTransform,
    ImageShape,
    Param,
    Params,
    about_centre,
    compose,
    identity_matrices,
    region_matrices,
)

_SIZE_LIMIT = 1 << 20  # one side, in pixels; the kernel's pixel limit guards the area


def _side(name: str, doc: str) -> Param:
    return Param(name, 0, "int", "pixels (0 = not set)", doc, minimum=0, maximum=_SIZE_LIMIT)


def _with_channels(shape: ImageShape, height: int, width: int) -> ImageShape:
    return (height, width, *shape[2:])


class Crop(GeometricTransform):
    """Cut a fixed-size window out of the image, centred or at a random position."""

    name = "crop"
    params = (
        Param("height", 224, "int", "pixels", "window height", minimum=1, maximum=_SIZE_LIMIT),
        Param("width", 224, "int", "pixels", "window width", minimum=1, maximum=_SIZE_LIMIT),
        Param(
            "position",
            "center",
            "choice",
            "",
            "where the window sits: the centre (torchvision's CenterCrop rounding), or a "
            "uniformly drawn whole-pixel offset (RandomCrop)",
            choices=("center", "random"),
        ),
    )

    def canvas(self, shape: ImageShape) -> ImageShape:
        height, width = self.options["height"], self.options["width"]
        if height > shape[0] or width > shape[1]:
            raise CanvasError(
                f"transform 'crop': a {height}x{width} window does not fit a "
                f"{shape[0]}x{shape[1]} image; pad first (transform 'pad') or crop smaller"
            )
        return _with_channels(shape, height, width)

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        spare_rows = shape[0] - self.options["height"]
        spare_cols = shape[1] - self.options["width"]
        if self.options["position"] == "center":
            top = np.full(draws.n, round(spare_rows / 2.0), np.int64)
            left = np.full(draws.n, round(spare_cols / 2.0), np.int64)
        else:
            top = draws.integers(0, 0, max(spare_rows, 0))
            left = draws.integers(1, 0, max(spare_cols, 0))
        return {"top": top, "left": left}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        out = identity_matrices(n)
        out[:, 0, 2] = params["top"]
        out[:, 1, 2] = params["left"]
        return out


class RandomResizedCrop(GeometricTransform):
    """Crop a random area and aspect ratio, resized to ``height`` x ``width`` (torchvision's).

    The region is chosen by torchvision's rule: up to 10 tries of an area fraction drawn from
    ``scale`` and an aspect ratio drawn log-uniformly from ``ratio``, the first that fits
    wins; otherwise the whole image, cropped centrally to the nearest allowed ratio.
    """

    name = "random_resized_crop"
    tries = 10
    params = (
        Param("height", 224, "int", "pixels", "output height", minimum=1, maximum=_SIZE_LIMIT),
        Param("width", 224, "int", "pixels", "output width", minimum=1, maximum=_SIZE_LIMIT),
        Param(
            "scale",
            (0.08, 1.0),
            "range",
            "fraction of the image area",
            "area of the cropped region",
            minimum=1e-6,
            maximum=1.0,
            single="upto",
        ),
        Param(
            "ratio",
            (3 / 4, 4 / 3),
            "range",
            "width / height",
            "aspect ratio of the cropped region, drawn log-uniformly",
            minimum=1e-3,
            maximum=1e3,
            single="upto",
        ),
    )

    def canvas(self, shape: ImageShape) -> ImageShape:
        return _with_channels(shape, self.options["height"], self.options["width"])

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        image_h, image_w = shape[0], shape[1]
        area = float(image_h * image_w)
        log_low, log_high = (math.log(r) for r in self.options["ratio"])
        n = draws.n
        top = np.zeros(n, np.int64)
        left = np.zeros(n, np.int64)
        height, width = _fallback_region(image_h, image_w, self.options["ratio"], n)
        top[:] = (image_h - height) // 2
        left[:] = (image_w - width) // 2
        pending = np.ones(n, dtype=bool)
        for attempt in range(self.tries):
            if not pending.any():  # draws are counter-based: skipping the rest changes none
                break
            target = area * draws.uniform(4 * attempt, *self.options["scale"])
            aspect = np.exp(draws.uniform(4 * attempt + 1, log_low, log_high))
            w = np.rint(np.sqrt(target * aspect)).astype(np.int64)
            h = np.rint(np.sqrt(target / aspect)).astype(np.int64)
            fits = pending & (w > 0) & (w <= image_w) & (h > 0) & (h <= image_h)
            if fits.any():
                row = draws.uniform(4 * attempt + 2)
                col = draws.uniform(4 * attempt + 3)
                top[fits] = np.floor(row[fits] * (image_h - h[fits] + 1)).astype(np.int64)
                left[fits] = np.floor(col[fits] * (image_w - w[fits] + 1)).astype(np.int64)
                height[fits], width[fits] = h[fits], w[fits]
                pending &= ~fits
        return {"top": top, "left": left, "region_height": height, "region_width": width}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        return region_matrices(
            params["top"],
            params["left"],
            params["region_height"],
            params["region_width"],
            self.canvas(shape),
        )


def _fallback_region(
    image_h: int, image_w: int, ratio: tuple[float, float], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's central fallback: the whole image, trimmed to the nearest allowed ratio."""
    in_ratio = image_w / image_h
    if in_ratio < min(ratio):
        width = image_w
        height = round(width / min(ratio))
    elif in_ratio > max(ratio):
        height = image_h
        width = round(height * max(ratio))
    else:
        height, width = image_h, image_w
    return np.full(n, height, np.int64), np.full(n, width, np.int64)


class Resize(GeometricTransform):
    """Resize to ``height`` x ``width``, or scale so the ``longest`` / ``shortest`` side fits.

    ``longest`` or ``shortest`` (one of them) keeps the aspect ratio, the other side rounded to
    the nearest pixel; ``height`` and ``width`` are then not used and must be left as they are.
    """

    name = "resize"
    params = (
        Param("height", 224, "int", "pixels", "output height", minimum=1, maximum=_SIZE_LIMIT),
        Param("width", 224, "int", "pixels", "output width", minimum=1, maximum=_SIZE_LIMIT),
        _side("longest", "the longer side becomes this, aspect kept"),
        _side("shortest", "the shorter side becomes this, aspect kept"),
    )

    def check_options(self) -> None:
        options = self.options
        exact = (options["height"], options["width"]) != (224, 224)
        if sum((exact, bool(options["longest"]), bool(options["shortest"]))) > 1:
            raise ConfigError(
                "transform 'resize': give height and width, or longest, or shortest - one "
                f"way to size the output (got {self.to_config()})"
            )

    def canvas(self, shape: ImageShape) -> ImageShape:
        options, (h, w) = self.options, shape[:2]
        if not (options["longest"] or options["shortest"]):
            return _with_channels(shape, options["height"], options["width"])
        side = options["longest"] or options["shortest"]
        scale = side / (max(h, w) if options["longest"] else min(h, w))
        return _with_channels(shape, max(1, round(h * scale)), max(1, round(w * scale)))

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        zero = np.zeros(n, np.int64)
        return region_matrices(
            zero, zero, np.full(n, shape[0]), np.full(n, shape[1]), self.canvas(shape)
        )


class Pad(GeometricTransform):
    """Add a border: by pixels per side, or up to at least ``height`` x ``width`` (centred).

    What fills the border is the pipeline's ``fill_mode`` (and ``cval``): constant, edge
    (nearest), reflect or wrap, exactly as for every other pixel that maps outside the image.
    """

    name = "pad"
    params = (
        _side("top", "rows added above"),
        _side("bottom", "rows added below"),
        _side("left", "columns added on the left"),
        _side("right", "columns added on the right"),
        _side("height", "pad to at least this height, centred (with width)"),
        _side("width", "pad to at least this width, centred (with height)"),
    )

    def check_options(self) -> None:
        by_pixels = any(self.options[side] for side in ("top", "bottom", "left", "right"))
        to_size = bool(self.options["height"] or self.options["width"])
        if by_pixels and to_size:
            raise ConfigError(
                "transform 'pad': give pixels per side (top, bottom, left, right) or a size "
                "to pad up to (height, width), not both"
            )

    def _margins(self, shape: ImageShape) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) in pixels for an input of ``shape``."""
        options = self.options
        if options["height"] or options["width"]:
            rows = max(options["height"] - shape[0], 0)
            cols = max(options["width"] - shape[1], 0)
            return rows // 2, rows - rows // 2, cols // 2, cols - cols // 2
        return options["top"], options["bottom"], options["left"], options["right"]

    def canvas(self, shape: ImageShape) -> ImageShape:
        top, bottom, left, right = self._margins(shape)
        return _with_channels(shape, shape[0] + top + bottom, shape[1] + left + right)

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        top, _, left, _ = self._margins(shape)
        out = identity_matrices(n)
        out[:, 0, 2] = -top
        out[:, 1, 2] = -left
        return out


class Perspective(GeometricTransform):
    """Move the four corners inwards at random (torchvision's RandomPerspective).

    Each corner moves by up to ``distortion_scale`` of half the image's width and height, drawn
    in whole pixels as torchvision draws them; the map is the projective one that takes the
    image's corners to the moved ones.
    """

    name = "perspective"
    params = (
        Param(
            "distortion_scale",
            0.5,
            "float",
            "fraction of half the image size",
            "how far corners may move inwards",
            minimum=0.0,
            maximum=1.0,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        height, width = shape[0], shape[1]
        reach_x = int(self.options["distortion_scale"] * (width // 2))
        reach_y = int(self.options["distortion_scale"] * (height // 2))
        near_x = (0, reach_x)
        near_y = (0, reach_y)
        far_x = (width - reach_x - 1, width - 1)
        far_y = (height - reach_y - 1, height - 1)
        # torchvision's corner order: top-left, top-right, bottom-right, bottom-left, (x, y).
        bounds = (near_x, near_y, far_x, near_y, far_x, far_y, near_x, far_y)
        corners = np.stack(
            [draws.integers(i, low, high) for i, (low, high) in enumerate(bounds)], axis=1
        )
        return {"corners": corners.astype(np.float64)}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        height, width = shape[0], shape[1]
        moved = params["corners"].reshape(n, 4, 2)[:, :, ::-1]  # (x, y) -> (row, col)
        square_to_image = _square_to_quad(
            np.broadcast_to(
                np.array([[0, 0], [0, width - 1], [height - 1, width - 1], [height - 1, 0]], float),
                (n, 4, 2),
            )
        )
        square_to_moved = _square_to_quad(moved)
        # Pull map: output (a moved corner) -> unit square -> input (an image corner).
        return compose(square_to_image, _adjugate(square_to_moved))


def _square_to_quad(quad: np.ndarray) -> np.ndarray:
    """(n, 3, 3) projective maps taking the unit square onto ``quad`` ((n, 4, 2) corners in
    (row, col): top-left, top-right, bottom-right, bottom-left), (u, v) = (0, 0), (0, 1),
    (1, 1), (1, 0) in that order. Heckbert's closed form, element by element, so each output's
    matrix is the same whatever the batch."""
    (r0, c0), (r1, c1) = quad[:, 0].T, quad[:, 3].T  # Heckbert's p0 (0,0) and p1 (1,0)
    (r2, c2), (r3, c3) = quad[:, 2].T, quad[:, 1].T  # p2 (1,1) and p3 (0,1)
    sum_r, sum_c = r0 - r1 + r2 - r3, c0 - c1 + c2 - c3
    dr1, dr2, dc1, dc2 = r1 - r2, r3 - r2, c1 - c2, c3 - c2
    det = dr1 * dc2 - dr2 * dc1
    g = (sum_r * dc2 - dr2 * sum_c) / det
    h = (dr1 * sum_c - sum_r * dc1) / det
    out = np.zeros((quad.shape[0], 3, 3))
    out[:, 0] = np.stack([r1 - r0 + g * r1, r3 - r0 + h * r3, r0], axis=1)
    out[:, 1] = np.stack([c1 - c0 + g * c1, c3 - c0 + h * c3, c0], axis=1)
    out[:, 2] = np.stack([g, h, np.ones_like(g)], axis=1)
    return out


def _adjugate(m: np.ndarray) -> np.ndarray:
    """The adjugate of each 3x3: the inverse up to scale, which is all a projective map needs."""
    out = np.empty_like(m)
    for i in range(3):
        for j in range(3):
            rows = [r for r in range(3) if r != j]
            cols = [c for c in range(3) if c != i]
            minor = (
                m[:, rows[0], cols[0]] * m[:, rows[1], cols[1]]
                - m[:, rows[0], cols[1]] * m[:, rows[1], cols[0]]
            )
            out[:, i, j] = minor if (i + j) % 2 == 0 else -minor
    return out / out[:, 2:3, 2:3]


class Affine(GeometricTransform):
    """Scale, shear, rotate and shift in one step (torchvision's RandomAffine, augcore's axes).

    Equal to ``zoom``, ``shear``, ``rotate`` and ``shift`` (unit fraction) in that order, with
    one draw each: angles counter-clockwise as seen, about the image centre; ``translate_x`` and
    ``translate_y`` are fractions of the width and height; ``shear`` leans the top to the right.
    """

    name = "affine"
    params = (
        Param("degrees", 0.0, "range", "degrees", "rotation angle", minimum=-360, maximum=360),
        Param("translate_x", 0.0, "range", "fraction of width", "horizontal shift"),
        Param("translate_y", 0.0, "range", "fraction of height", "vertical shift"),
        Param(
            "scale", 0.0, "range", "factor (1 = unchanged)", "magnification",
            minimum=0.01, maximum=100.0, center=1.0,
        ),
        Param("shear", 0.0, "range", "degrees", "shear angle", minimum=-80, maximum=80),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        options = self.options
        return {
            "degrees": draws.uniform(0, *options["degrees"]),
            "x_pixels": draws.uniform(1, *options["translate_x"]) * shape[1],
            "y_pixels": draws.uniform(2, *options["translate_y"]) * shape[0],
            "scale": draws.uniform(3, *options["scale"]),
            "shear": draws.uniform(4, *options["shear"]),
        }

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        radians = np.deg2rad(params["degrees"])
        cos, sin = np.cos(radians), np.sin(radians)
        tangent = np.tan(np.deg2rad(params["shear"]))
        inverse_scale = 1.0 / params["scale"]
        # Scale, shear, rotate, then translate (torchvision's order): the pull map is
        # zoom's . shear's . rotate's pull maps (plugins/geometric.py), then the shift's.
        linear = np.empty((n, 2, 2))
        linear[:, 0, 0] = inverse_scale * cos
        linear[:, 0, 1] = inverse_scale * sin
        linear[:, 1, 0] = inverse_scale * (tangent * cos - sin)
        linear[:, 1, 1] = inverse_scale * (tangent * sin + cos)
        out = about_centre(linear, shape)
        out[:, 0, 2] -= linear[:, 0, 0] * params["y_pixels"] + linear[:, 0, 1] * params["x_pixels"]
        out[:, 1, 2] -= linear[:, 1, 0] * params["y_pixels"] + linear[:, 1, 1] * params["x_pixels"]
        return out


TRANSFORMS = (Crop, RandomResizedCrop, Resize, Pad, Perspective, Affine)


@hookimpl
def augcore_transforms() -> tuple[type[GeometricTransform], ...]:
    return TRANSFORMS
