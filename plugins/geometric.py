"""Built-in geometric transforms: each one is a pull-map matrix the host fuses into one warp.

Conventions (docs/transforms.md): coordinates are (row, col), rows grow downwards; rotation,
shear and zoom pivot about the true centre ((h - 1) / 2, (w - 1) / 2); a positive angle turns
the picture counter-clockwise as seen on screen, so ``rotate`` by 90 equals ``np.rot90``.
"""

from __future__ import annotations

import numpy as np

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws, OneDraws
from augcore.transform import (
    AffineRows,
    GeometricTransform,
    ImageShape,
    Param,
    Params,
    Values,
    about_centre,
    about_centre_one,
    identity_matrices,
)


class Rotate(GeometricTransform):
    """Rotate about the image centre; positive degrees turn counter-clockwise as seen."""

    name = "rotate"
    params = (
        Param(
            "degrees",
            15.0,
            "range",
            "degrees",
            "rotation angle, drawn uniformly",
            minimum=-360.0,
            maximum=360.0,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"degrees": draws.uniform(0, *self.options["degrees"])}

    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        return {"degrees": draws.uniform_value(0, *self.options["degrees"])}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        radians = np.deg2rad(params["degrees"])
        cos, sin = np.cos(radians), np.sin(radians)
        linear = np.empty((n, 2, 2))
        linear[:, 0, 0], linear[:, 0, 1] = cos, sin
        linear[:, 1, 0], linear[:, 1, 1] = -sin, cos
        return about_centre(linear, shape)

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        radians = np.deg2rad(values["degrees"])
        cos, sin = float(np.cos(radians)), float(np.sin(radians))
        return about_centre_one(cos, sin, -sin, cos, shape)


class Shift(GeometricTransform):
    """Translate: positive x moves the picture right, positive y moves it down."""

    name = "shift"
    params = (
        Param("x", 0.1, "range", "fraction of width, or pixels (see unit)", "horizontal shift"),
        Param("y", 0.1, "range", "fraction of height, or pixels (see unit)", "vertical shift"),
        Param(
            "unit",
            "fraction",
            "choice",
            "",
            "how x and y are measured",
            choices=("fraction", "pixels"),
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        x = draws.uniform(0, *self.options["x"])
        y = draws.uniform(1, *self.options["y"])
        if self.options["unit"] == "fraction":
            x, y = x * shape[1], y * shape[0]
        return {"x_pixels": x, "y_pixels": y}

    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        x = draws.uniform_value(0, *self.options["x"])
        y = draws.uniform_value(1, *self.options["y"])
        if self.options["unit"] == "fraction":
            x, y = x * shape[1], y * shape[0]
        return {"x_pixels": x, "y_pixels": y}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        out = identity_matrices(n)
        out[:, 0, 2] = -params["y_pixels"]
        out[:, 1, 2] = -params["x_pixels"]
        return out

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        return (1.0, 0.0, -values["y_pixels"], 0.0, 1.0, -values["x_pixels"])


class Shear(GeometricTransform):
    """Horizontal shear about the centre: positive degrees lean the top to the right.

    Keras's ``shear_range=0.2`` is this in degrees (0.2 degrees, barely visible).
    """

    name = "shear"
    params = (
        Param(
            "degrees",
            10.0,
            "range",
            "degrees",
            "shear angle from the vertical",
            minimum=-80.0,
            maximum=80.0,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"degrees": draws.uniform(0, *self.options["degrees"])}

    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        return {"degrees": draws.uniform_value(0, *self.options["degrees"])}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        tangent = np.tan(np.deg2rad(params["degrees"]))
        linear = np.zeros((n, 2, 2))
        linear[:, 0, 0] = linear[:, 1, 1] = 1.0
        linear[:, 1, 0] = tangent
        return about_centre(linear, shape)

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        tangent = float(np.tan(np.deg2rad(values["degrees"])))
        return about_centre_one(1.0, 0.0, tangent, 1.0, shape)


class Zoom(GeometricTransform):
    """Scale about the centre: a factor above 1 magnifies (zooms in), below 1 shrinks."""

    name = "zoom"
    params = (
        Param(
            "factor",
            0.1,
            "range",
            "scale factor (1 = unchanged)",
            "magnification",
            minimum=0.01,
            maximum=100.0,
            center=1.0,
        ),
        Param(
            "per_axis",
            False,
            "bool",
            "",
            "draw independent factors for x and y (as Keras does) instead of one",
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        y = draws.uniform(0, *self.options["factor"])
        x = draws.uniform(1, *self.options["factor"]) if self.options["per_axis"] else y
        return {"y": y, "x": x}

    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        y = draws.uniform_value(0, *self.options["factor"])
        x = draws.uniform_value(1, *self.options["factor"]) if self.options["per_axis"] else y
        return {"y": y, "x": x}

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        linear = np.zeros((n, 2, 2))
        linear[:, 0, 0] = 1.0 / params["y"]
        linear[:, 1, 1] = 1.0 / params["x"]
        return about_centre(linear, shape)

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        return about_centre_one(1.0 / values["y"], 0.0, 0.0, 1.0 / values["x"], shape)


class FlipHorizontal(GeometricTransform):
    """Mirror left-right, exactly ``np.flip(image, axis=1)``."""

    name = "flip_horizontal"

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        return _flip(n, axis=1, length=shape[1])

    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        return {}

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        return (1.0, 0.0, 0.0, 0.0, -1.0, float(shape[1] - 1))


class FlipVertical(GeometricTransform):
    """Mirror top-bottom, exactly ``np.flip(image, axis=0)``."""

    name = "flip_vertical"

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        return _flip(n, axis=0, length=shape[0])

    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        return {}

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        return (-1.0, 0.0, float(shape[0] - 1), 0.0, 1.0, 0.0)


def _flip(n: int, axis: int, length: int) -> np.ndarray:
    out = identity_matrices(n)
    out[:, axis, axis] = -1.0
    out[:, axis, 2] = length - 1
    return out


TRANSFORMS = (Rotate, Shift, Shear, Zoom, FlipHorizontal, FlipVertical)


@hookimpl
def augcore_transforms() -> tuple[type[GeometricTransform], ...]:
    return TRANSFORMS
