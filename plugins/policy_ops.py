"""The operations of the augmentation policies, with torchvision's magnitude tables.

RandAugment, TrivialAugmentWide and AutoAugment (``augcore.plugins.policies``) choose among
the same fourteen operations. Each operation that takes a magnitude is a transform here,
``policy_<op>``: it draws a bin of its policy's table (``bin``, uniformly from an integer range
of the ``num_bins`` bins), looks the magnitude up, and for the signed operations negates it
with probability 1/2. The record holds ``bin`` and the signed ``magnitude`` actually applied.
Tables are torchvision's ``_AUGMENTATION_SPACE`` of each policy, computed as torch computes
them (float32 ``linspace``), so recorded magnitudes equal torchvision's bit for bit.

Geometric operations are pull maps built from torchvision's own inverse affine matrix (shears
pivot on the top-left corner, as torchvision's do), so the host fuses them with their
neighbours into one warp; pixel operations are the kernels of ``color``, ``tone`` and
``filters``. The parameterless operations are the built-ins ``autocontrast``, ``equalize`` and
``invert``, plus ``identity`` here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
from augcore.plugins.color import adjust_brightness, adjust_contrast, adjust_saturation
from augcore.plugins.filters import sharpen
from augcore.plugins.tone import posterize, solarize

from augcore.errors import ConfigError
from augcore.hookspecs import hookimpl
from augcore.seeding import Draws
from augcore.transform import (
    GeometricTransform,
    ImageShape,
    Param,
    Params,
    PixelTransform,
    Transform,
)

POLICIES = ("trivial_augment", "rand_augment", "auto_augment")
# A table end that scales with the image: (fraction, "width" | "height").
_RA_TRANSLATE = 150.0 / 331.0


def linspace32(start: float, end: float, steps: int) -> np.ndarray:
    """torch.linspace in float32, bit for bit: a float32 step, and each value start + i * step
    (end - (steps - 1 - i) * step for the second half) rounded once, as torch's fused
    multiply-add does."""
    first, last = np.float64(np.float32(start)), np.float64(np.float32(end))
    if steps == 1:
        return np.array([first], np.float32)
    step = np.float64(np.float32((np.float32(end) - np.float32(start)) / np.float32(steps - 1)))
    index = np.arange(steps)
    values = np.where(index < steps // 2, first + step * index, last - step * (steps - 1 - index))
    return values.astype(np.float32)


class _PolicyOp(Transform):
    """What every magnitude operation shares: its policy, bins, and the table lookup."""

    #: torchvision's name of the operation (``_AUGMENTATION_SPACE`` key)
    op: ClassVar[str] = ""
    #: whether the magnitude is negated with probability 1/2
    signed: ClassVar[bool] = True
    params = (
        Param(
            "policy", "trivial_augment", "choice", "", "whose magnitude table to use",
            choices=POLICIES,
        ),
        Param("num_bins", 31, "int", "bins", "magnitude bins in the table", minimum=2,
              maximum=1000),
        Param("bin", [0, 30], "int_range", "bin index", "bin drawn uniformly from this range",
              minimum=0, maximum=999),
    )  # fmt: skip

    def table(self, shape: ImageShape) -> np.ndarray:
        """The float32 magnitudes of the ``num_bins`` bins for images of ``shape``."""
        end = _ENDS[self.options["policy"] == "trivial_augment"][self.op]
        if isinstance(end, tuple):
            end = end[0] * (shape[1] if end[1] == "width" else shape[0])
        return linspace32(0.0, end, self.options["num_bins"])

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        low, high = self.options["bin"]
        if high >= self.options["num_bins"]:
            raise ConfigError(
                f"transform {self.name!r}: parameter 'bin' got [{low}, {high}]; allowed: bins "
                f"below num_bins ({self.options['num_bins']})"
            )
        bins = draws.integers(0, low, high)
        magnitude = self.table(shape)[bins].astype(np.float64)
        if self.signed:
            magnitude = np.where(draws.uniform(1) < 0.5, -magnitude, magnitude)
        return {"bin": bins, "magnitude": magnitude}


# torchvision's table ends (every table starts at 0) for (RandAugment/AutoAugment, Trivial).
_ENDS: dict[bool, dict[str, float | tuple[float, str]]] = {
    False: {"ShearX": 0.3, "ShearY": 0.3, "TranslateX": (_RA_TRANSLATE, "width"),
            "TranslateY": (_RA_TRANSLATE, "height"), "Rotate": 30.0, "Brightness": 0.9,
            "Color": 0.9, "Contrast": 0.9, "Sharpness": 0.9},
    True: {"ShearX": 0.99, "ShearY": 0.99, "TranslateX": 32.0, "TranslateY": 32.0,
           "Rotate": 135.0, "Brightness": 0.99, "Color": 0.99, "Contrast": 0.99,
           "Sharpness": 0.99},
}  # fmt: skip


class _PolicyPixel(_PolicyOp, PixelTransform):
    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        return self.kernel(images, params["magnitude"])

    def kernel(self, images: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _PolicyEnhance(_PolicyPixel):
    """An enhancement by the factor 1 + magnitude (the table is symmetric around 0)."""

    enhance: ClassVar[Callable[[np.ndarray, np.ndarray], np.ndarray]]

    def kernel(self, images: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
        return type(self).enhance(images, 1.0 + magnitude)


class PolicyBrightness(_PolicyEnhance):
    """Policy op Brightness: ``adjust_brightness`` by 1 + magnitude."""

    name, op, enhance = "policy_brightness", "Brightness", staticmethod(adjust_brightness)


class PolicyColor(_PolicyEnhance):
    """Policy op Color: ``adjust_saturation`` by 1 + magnitude."""

    name, op, enhance = "policy_color", "Color", staticmethod(adjust_saturation)


class PolicyContrast(_PolicyEnhance):
    """Policy op Contrast: ``adjust_contrast`` by 1 + magnitude."""

    name, op, enhance = "policy_contrast", "Contrast", staticmethod(adjust_contrast)


class PolicySharpness(_PolicyEnhance):
    """Policy op Sharpness: ``adjust_sharpness`` (Pillow's) by 1 + magnitude."""

    name, op, enhance = "policy_sharpness", "Sharpness", staticmethod(sharpen)


class PolicyPosterize(_PolicyPixel):
    """Policy op Posterize: keep int(magnitude) bits (the table runs from 8 down)."""

    name, op, signed = "policy_posterize", "Posterize", False

    def table(self, shape: ImageShape) -> np.ndarray:
        # torchvision: (8 - arange(bins) / ((bins - 1) / k)).round().int(), k = 6 or 4.
        spread = 6.0 if self.options["policy"] == "trivial_augment" else 4.0
        bins = self.options["num_bins"]
        steps = np.arange(bins, dtype=np.float32) / np.float32((bins - 1) / spread)
        return np.rint(np.float32(8.0) - steps).astype(np.float32)

    def kernel(self, images: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
        return posterize(images, magnitude.astype(np.int64))


class PolicySolarize(_PolicyPixel):
    """Policy op Solarize: invert values >= magnitude x white (the table runs from 1 to 0)."""

    name, op, signed = "policy_solarize", "Solarize", False

    def table(self, shape: ImageShape) -> np.ndarray:
        return linspace32(1.0, 0.0, self.options["num_bins"])

    def kernel(self, images: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
        return solarize(images, magnitude)


class Identity(PixelTransform):
    """Leave the image as it is (the policies' Identity operation)."""

    name = "identity"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        return images.copy()


# --- geometric operations: torchvision's inverse affine matrices as pull maps ---------------
def torchvision_pull_maps(
    angle: np.ndarray,
    translate: tuple[np.ndarray, np.ndarray],
    shear: tuple[np.ndarray, np.ndarray],
    pivot_at_corner: bool,
    shape: ImageShape,
) -> np.ndarray:
    """(n, 3, 3) (row, col) pull maps of torchvision's ``affine`` on tensors.

    torchvision maps coordinates relative to the image centre, x = col - (w - 1) / 2 and
    y = row - (h - 1) / 2, through ``_get_inverse_affine_matrix`` (scale 1); ``center=[0, 0]``
    (the shears) puts the pivot on the top-left corner, (-w / 2, -h / 2) in those coordinates.
    """
    height, width = shape[0], shape[1]
    cx, cy = (-width / 2.0, -height / 2.0) if pivot_at_corner else (0.0, 0.0)
    rot, sx, sy = np.radians(angle), np.radians(shear[0]), np.radians(shear[1])
    a = np.cos(rot - sy) / np.cos(sy)
    b = -(a * np.tan(sx) + np.sin(rot))
    c = np.sin(rot - sy) / np.cos(sy)
    d = np.cos(rot) - c * np.tan(sx)
    m00, m01, m10, m11 = d, -b, -c, a
    m02 = cx - m00 * (cx + translate[0]) - m01 * (cy + translate[1])
    m12 = cy - m10 * (cx + translate[0]) - m11 * (cy + translate[1])
    ch, cw = (height - 1) / 2.0, (width - 1) / 2.0
    out = np.zeros((angle.shape[0], 3, 3))
    out[:, 0, 0], out[:, 0, 1] = m11, m10
    out[:, 0, 2] = m12 + ch - m10 * cw - m11 * ch
    out[:, 1, 0], out[:, 1, 1] = m01, m00
    out[:, 1, 2] = m02 + cw - m00 * cw - m01 * ch
    out[:, 2, 2] = 1.0
    return out


class _PolicyGeometric(_PolicyOp, GeometricTransform):
    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        magnitude = params["magnitude"]
        zero = np.zeros(n)
        if self.op in ("ShearX", "ShearY"):
            degrees = np.degrees(np.arctan(magnitude))
            shear = (degrees, zero) if self.op == "ShearX" else (zero, degrees)
            return torchvision_pull_maps(zero, (zero, zero), shear, True, shape)
        if self.op == "Rotate":  # F.rotate passes -angle to the same matrix
            return torchvision_pull_maps(-magnitude, (zero, zero), (zero, zero), False, shape)
        pixels = np.trunc(magnitude)  # torchvision: translate=[int(magnitude), 0]
        moved = (pixels, zero) if self.op == "TranslateX" else (zero, pixels)
        return torchvision_pull_maps(zero, moved, (zero, zero), False, shape)


class PolicyShearX(_PolicyGeometric):
    """Policy op ShearX: shear by atan(magnitude) about the top-left corner."""

    name, op = "policy_shear_x", "ShearX"


class PolicyShearY(_PolicyGeometric):
    """Policy op ShearY: vertical shear by atan(magnitude) about the top-left corner."""

    name, op = "policy_shear_y", "ShearY"


class PolicyTranslateX(_PolicyGeometric):
    """Policy op TranslateX: move right by int(magnitude) pixels."""

    name, op = "policy_translate_x", "TranslateX"


class PolicyTranslateY(_PolicyGeometric):
    """Policy op TranslateY: move down by int(magnitude) pixels."""

    name, op = "policy_translate_y", "TranslateY"


class PolicyRotate(_PolicyGeometric):
    """Policy op Rotate: turn counter-clockwise by magnitude degrees about the centre."""

    name, op = "policy_rotate", "Rotate"


#: torchvision's operation name -> the transform class that performs it here
OPS: dict[str, type[Transform]] = {
    cls.op: cls
    for cls in (
        PolicyShearX, PolicyShearY, PolicyTranslateX, PolicyTranslateY, PolicyRotate,
        PolicyBrightness, PolicyColor, PolicyContrast, PolicySharpness, PolicyPosterize,
        PolicySolarize,
    )
}  # fmt: skip
TRANSFORMS = (Identity, *OPS.values())


@hookimpl
def augcore_transforms() -> tuple[type[Transform], ...]:
    return TRANSFORMS
