"""The Transform contract every transform, built-in or third-party, is written against.

Sampling is separated from applying, as torchvision v2 separates ``make_params`` from
``transform``, and sampling is vectorised: one ``sample`` call draws the parameters of a whole
batch of n outputs. The host (``augcore.pipeline``) then either asks a geometric transform for
its pull-map matrices and fuses them with its neighbours into one warp, or hands a pixel
transform the images that the step fired on with their parameters.

Parameters are declared once, as class-level ``Param`` metadata; config validation, error
messages ("did you mean"), ``augcore plugins --json`` and the docs all read that declaration.
See docs/plugins.md for a complete example plugin.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

import numpy as np

from augcore.errors import ConfigError, PluginContractError
from augcore.seeding import Draws, OneDraws
from augcore.validation import check_probability, is_integer, is_number

ParamKind = Literal["range", "int_range", "float", "int", "bool", "choice"]
PARAM_KINDS: tuple[ParamKind, ...] = get_args(ParamKind)
ImageShape = tuple[int, ...]
Params = dict[str, np.ndarray]
#: One output's sampled values as its record holds them (``sample(...)[name].tolist()[0]``).
Values = dict[str, Any]
#: The top two rows of an affine pull map, row-major: (m00, m01, m02, m10, m11, m12).
AffineRows = tuple[float, float, float, float, float, float]

# Keys a step in a config uses for itself; a transform may not declare parameters named so.
RESERVED_KEYS = frozenset({"transform", "p", "one_of", "some_of", "weights", "n"})
# dtypes a sampled parameter may have: exactly what survives a JSON round trip unchanged.
RECORDABLE_DTYPES = (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_))


@dataclass(frozen=True)
class Param:
    """One declared parameter of a transform.

    ``kind`` "range" takes ``[low, high]`` or a single number r, which means
    ``[center - r, center + r]`` (``single="symmetric"``) or ``[center, center + r]``
    (``single="upto"``). Every value must lie within [minimum, maximum].

    ``kind`` "int_range" takes ``[low, high]`` of integers (``[4.5, 6]`` is refused) or one
    integer v meaning ``[v, v]``; it becomes a tuple of ints. ``odd=True`` (for "int" and
    "int_range") also refuses even values, as kernel sizes need.
    """

    name: str
    default: Any
    kind: ParamKind
    units: str
    doc: str
    minimum: float = -math.inf
    maximum: float = math.inf
    center: float = 0.0
    single: Literal["symmetric", "upto"] = "symmetric"
    choices: tuple[str, ...] = field(default=())
    odd: bool = False

    def __post_init__(self) -> None:
        """Refuse a malformed declaration where it is written (a typo would pass as "range")."""
        where = f"Param {self.name!r}"
        if self.kind not in PARAM_KINDS:
            raise PluginContractError(
                f"{where}: kind {self.kind!r} is not one of {', '.join(PARAM_KINDS)}"
                + did_you_mean(self.kind, PARAM_KINDS)
            )
        if self.single not in ("symmetric", "upto"):
            raise PluginContractError(
                f"{where}: single {self.single!r} must be 'symmetric' or 'upto'"
            )
        if self.kind == "choice" and not self.choices:
            raise PluginContractError(f"{where}: kind 'choice' needs choices=(...)")

    def allowed(self) -> str:
        """What values are allowed, in words, for error messages and listings."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(choice) for choice in self.choices)
        if self.kind == "bool":
            return "true or false"
        if math.isinf(self.minimum) and math.isinf(self.maximum):
            bounds = "finite"
        else:
            bounds = f"within [{_fmt(self.minimum)}, {_fmt(self.maximum)}]"
        if self.odd:
            bounds += ", odd"
        if self.kind == "int_range":
            return f"[low, high] of integers with low <= high, or one integer; values {bounds}"
        if self.kind == "range":
            low = "-r" if self.center == 0 else f"{_fmt(self.center)} - r"
            high = "r" if self.center == 0 else f"{_fmt(self.center)} + r"
            if self.single == "upto":
                low = _fmt(self.center)
            single = f"a number r >= 0 meaning [{low}, {high}]"
            return f"[low, high] with low <= high, or {single}; values {bounds}"
        noun = "an integer" if self.kind == "int" else "a number"
        return f"{noun} {bounds}"

    def validate(self, value: Any, where: str) -> Any:
        """The normalised value (ranges become (low, high) tuples of floats) or ConfigError."""
        problem = f"{where}: parameter {self.name!r} got {value!r}; allowed: {self.allowed()}"
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ConfigError(problem)
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                raise ConfigError(problem + did_you_mean(value, self.choices))
            return value
        if self.kind == "int":
            if not is_integer(value):
                raise ConfigError(problem)
            self._check_bounds((int(value),), problem)
            return int(value)
        if self.kind == "float":
            if not is_number(value):
                raise ConfigError(problem)
            self._check_bounds((float(value),), problem)
            return float(value)
        return self._validate_range(value, problem)

    def _validate_range(self, value: Any, problem: str) -> tuple[float, float] | tuple[int, int]:
        integral = self.kind == "int_range"
        accepts, convert = (is_integer, int) if integral else (is_number, float)
        if accepts(value) and integral:
            bounds = (int(value), int(value))
        elif accepts(value):
            if value < 0:
                raise ConfigError(problem + " (a single number must be >= 0)")
            low = self.center - value if self.single == "symmetric" else self.center
            bounds = (float(low), float(self.center + value))
        elif isinstance(value, (list, tuple)) and len(value) == 2 and all(map(accepts, value)):
            bounds = (convert(value[0]), convert(value[1]))
            if bounds[0] > bounds[1]:
                raise ConfigError(problem + " (low > high)")
        else:
            raise ConfigError(problem)
        self._check_bounds(bounds, problem)
        return bounds

    def _check_bounds(self, values: tuple[float, ...], problem: str) -> None:
        if not all(math.isfinite(v) and self.minimum <= v <= self.maximum for v in values):
            raise ConfigError(problem)
        if self.odd and not all(int(v) % 2 == 1 for v in values):
            raise ConfigError(problem + " (must be odd)")

    def to_json(self) -> Any:
        """This parameter's metadata as a JSON-able dict (``augcore plugins --json``)."""
        info: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "default": _jsonable(self.default),
            "units": self.units,
            "doc": self.doc,
            "allowed": self.allowed(),
        }
        if self.kind in ("range", "int_range", "float", "int"):
            info["minimum"] = None if math.isinf(self.minimum) else self.minimum
            info["maximum"] = None if math.isinf(self.maximum) else self.maximum
        if self.kind == "choice":
            info["choices"] = list(self.choices)
        info["odd"] = self.odd
        return info


def _fmt(value: float) -> str:
    return "-inf" if value == -math.inf else "inf" if value == math.inf else f"{value:g}"


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def did_you_mean(word: Any, candidates: Iterable[Any]) -> str:
    """' (did you mean ...?)' naming the candidates closest to ``word``, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def validate_options(
    cls: type[Transform], options: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Check ``options`` against ``cls.params``; the full normalised set, defaults filled in."""
    declared = {param.name: param for param in cls.params}
    for key in options:
        if key not in declared:
            allowed = ", ".join(declared) if declared else "none"
            raise ConfigError(
                f"{where}: unknown parameter {key!r} for transform {cls.name!r}; "
                f"its parameters are: {allowed}" + did_you_mean(key, declared)
            )
    return {
        name: param.validate(options.get(name, param.default), where)
        for name, param in declared.items()
    }


class Transform:
    """Base of every transform. Subclass ``GeometricTransform`` or ``PixelTransform``.

    Class attributes: ``name`` (unique, lower_snake_case, what configs use), ``params`` (tuple
    of ``Param``). Instances are built from their parameters, ``Rotate(degrees=40)``, validated
    and normalised into ``self.options``, then checked by ``check_options``; do not override
    ``__init__``. Every transform also takes ``p`` (default 1), the probability that it fires
    in a chain, as Albumentations' transforms do: ``Pipeline([Rotate(degrees=40, p=0.5)])`` is
    ``Pipeline([Step(Rotate(degrees=40), p=0.5)])``. ``p`` belongs to the chain, not to what
    the transform does: it is not an option, and transforms that differ only in ``p`` are equal.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, *, p: float = 1.0, **options: Any) -> None:
        where = f"transform {self.name!r}"
        self.p = check_probability(p, where)
        self.options: dict[str, Any] = validate_options(type(self), options, where)
        try:
            self.check_options()
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def check_options(self) -> None:
        """Hook: refuse option values that each pass their ``Param`` but not together.

        Called once ``self.options`` holds the validated, normalised options, whenever an
        instance is made (in Python, from a config, and when the plugin registers, with the
        defaults). Raise ``augcore.ConfigError`` saying what is wrong and what to change; the
        host prefixes where the transform was named. The default accepts everything.
        """

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        """Parameters for ``draws.n`` outputs of images of ``shape``: name -> array of length n.

        Arrays must be float64, int64 or bool (exactly what survives JSON) with first axis n.
        Each output's values may depend only on its own draws: use ``draws.uniform(i, lo, hi)``
        etc. with a distinct draw number ``i`` per quantity. Parameterless transforms return {}.
        """
        return {}

    def to_config(self) -> dict[str, Any]:
        """This transform as a config step (without ``p``), JSON-able."""
        return {"transform": self.name, **{k: _jsonable(v) for k, v in self.options.items()}}

    @classmethod
    def summary(cls) -> str:
        """First line of the class docstring: the one-line description listings show."""
        lines = (cls.__doc__ or "").strip().splitlines()
        return lines[0] if lines else ""

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.options.items()]
        if self.p != 1.0:
            args.append(f"p={self.p!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Transform)
            and type(other) is type(self)
            and other.options == self.options
        )

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.options.items()))))


class GeometricTransform(Transform):
    """A transform that is an affine map of the pixel grid, described by pull-map matrices.

    The host composes consecutive geometric steps into one matrix per output and warps once;
    because the transform is only a matrix, masks, keypoints and boxes can follow it later.
    """

    kind: ClassVar[str] = "geometric"

    def canvas(self, shape: ImageShape) -> ImageShape:
        """The output shape for an input of ``shape``: unchanged unless the step resizes.

        It may depend on ``shape`` and the options only, never on sampled values, so every
        output made from one input size has one size and a batch stays rectangular.
        """
        return shape

    def matrices(self, n: int, params: Params, shape: ImageShape) -> np.ndarray:
        """(n, 3, 3) float64 pull maps, input (row, col, 1) = M @ output (row, col, 1).

        Output coordinates are on this step's ``canvas(shape)``, input ones on ``shape``. The
        last row is [0, 0, 1] for an affine map; a projective map (a perspective) may use it,
        and input (row, col) is then divided by the third coordinate. ``params`` holds arrays
        of length n as ``sample`` returned them (or as a record replays them); a
        parameterless transform learns the batch size from ``n``.
        """
        raise NotImplementedError(f"transform {self.name!r} does not implement matrices()")

    # --- optional: the same numbers for ONE output, on Python scalars -----------------------
    # ``pipeline(image)`` and ``augment`` make one output per call, where numpy's cost per call
    # on 1-element arrays dominates. A transform may also implement these two hooks; the host
    # then uses them for one output (``augcore.one``). Never required: without them the host
    # calls ``sample`` and ``matrices`` with n = 1. Rule: bit for bit the batch's numbers.
    def sample_one(self, draws: OneDraws, shape: ImageShape) -> Values:
        """Optional: ``sample`` for one output, as the values its record holds.

        Must equal ``{name: array.tolist()[0] for name, array in sample(draws, shape).items()}``
        bit for bit (use ``draws.uniform_value`` etc., same draw numbers). Overriding it
        without ``affine_one`` has no effect.
        """
        raise NotImplementedError(f"transform {self.name!r} does not implement sample_one()")

    def affine_one(self, values: Values, shape: ImageShape) -> AffineRows:
        """Optional: ``matrices`` for one output whose map is affine, as its top two rows.

        ``values`` are what ``sample_one`` (or ``sample``, converted as there) gave. Must
        equal ``tuple(matrices(1, params, shape)[0, :2].ravel().tolist())`` bit for bit:
        the same operations in the same order (``math`` and numpy's float64 arithmetic are
        both IEEE; transcendental functions must be numpy's, e.g. ``float(np.cos(x))``, as
        libm's may differ in the last bit). Transforms whose map may be projective do not
        implement it. ``about_centre_one`` is ``about_centre`` for one output.
        """
        raise NotImplementedError(f"transform {self.name!r} does not implement affine_one()")


class PixelTransform(Transform):
    """A transform that changes pixel values only, never where they are.

    ``apply`` gets only the images the step fired on, (m, H, W[, C]), with their parameters
    (arrays of length m). Image i's result may depend only on image i and params[...][i].
    """

    kind: ClassVar[str] = "pixel"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        """The transformed images, same shape and dtype as ``images``."""
        raise NotImplementedError(f"transform {self.name!r} does not implement apply()")


# --- helpers for transform authors ------------------------------------------------------------
def image_centre(shape: ImageShape) -> tuple[float, float]:
    """The true centre ((h - 1) / 2, (w - 1) / 2) that rotations and zooms pivot about."""
    return (shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0


def about_centre(linear: np.ndarray, shape: ImageShape) -> np.ndarray:
    """(n, 3, 3) pull maps applying the (n, 2, 2) linear pull maps about the image centre."""
    if linear.shape[0] == 1:  # one output (augment): floats cost far less than tiny arrays
        (l00, l01), (l10, l11) = linear[0].tolist()
        rows = about_centre_one(l00, l01, l10, l11, shape)
        return np.array([[rows[:3], rows[3:], (0.0, 0.0, 1.0)]])
    cr, cc = image_centre(shape)
    # Each element is c - (l0 * cr + l1 * cc) in this order in both forms: the same bits.
    out = np.zeros((linear.shape[0], 3, 3), dtype=np.float64)
    out[:, :2, :2] = linear
    out[:, :2, 2] = np.array((cr, cc)) - (linear[:, :, 0] * cr + linear[:, :, 1] * cc)
    out[:, 2, 2] = 1.0
    return out


def about_centre_one(
    l00: float, l01: float, l10: float, l11: float, shape: ImageShape
) -> AffineRows:
    """``about_centre`` of one linear pull map [[l00, l01], [l10, l11]], as affine rows (the
    same operations, so the same bits)."""
    cr, cc = image_centre(shape)
    return (l00, l01, cr - (l00 * cr + l01 * cc), l10, l11, cc - (l10 * cr + l11 * cc))


def identity_matrices(n: int) -> np.ndarray:
    """(n, 3, 3) identity pull maps."""
    if n == 1:
        return np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    out = np.zeros((n, 3, 3), dtype=np.float64)
    out[:, 0, 0] = out[:, 1, 1] = out[:, 2, 2] = 1.0
    return out


def compose(first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """Pull map of applying ``first`` and then ``then``: ``first @ then`` for (n, 3, 3) maps.

    Written element by element (no BLAS) so every output's product is computed in exactly the
    same operation order whatever the batch size: fused matrices are bit-identical between
    ``augment`` and ``augment_batch``. Two affine maps give an affine map whose last row is
    exactly [0, 0, 1], computed as before projective maps existed (records stay the same); a
    projective product is normalised so that its corner element is 1.
    """
    a, b = first, then
    out = np.zeros(a.shape, dtype=np.float64)
    if not (is_projective(a) or is_projective(b)):
        for i in range(2):
            a0, a1 = a[:, i, 0], a[:, i, 1]
            out[:, i, 0] = a0 * b[:, 0, 0] + a1 * b[:, 1, 0]
            out[:, i, 1] = a0 * b[:, 0, 1] + a1 * b[:, 1, 1]
            out[:, i, 2] = a0 * b[:, 0, 2] + a1 * b[:, 1, 2] + a[:, i, 2]
        out[:, 2, 2] = 1.0
        return out
    for i in range(3):
        for j in range(3):
            out[:, i, j] = (
                a[:, i, 0] * b[:, 0, j] + a[:, i, 1] * b[:, 1, j] + a[:, i, 2] * b[:, 2, j]
            )
    return out / out[:, 2:3, 2:3]


def is_projective(matrices: np.ndarray) -> bool:
    """Whether any of the (n, 3, 3) maps has a last row other than [0, 0, 1]."""
    return bool(matrices[:, 2, :2].any() or (matrices[:, 2, 2] != 1.0).any())


def region_matrices(
    top: np.ndarray,
    left: np.ndarray,
    height: np.ndarray,
    width: np.ndarray,
    canvas: ImageShape,
) -> np.ndarray:
    """(n, 3, 3) pull maps that resize the input region (top, left, height, width) onto
    ``canvas``, pixel centre onto pixel centre: row = top + (row' + 0.5) * height / H' - 0.5."""
    out = identity_matrices(top.shape[0])
    out[:, 0, 0] = height / canvas[0]
    out[:, 1, 1] = width / canvas[1]
    out[:, 0, 2] = top + 0.5 * out[:, 0, 0] - 0.5
    out[:, 1, 2] = left + 0.5 * out[:, 1, 1] - 0.5
    return out


def to_image_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float results back to the image dtype: uint8 is rounded half to even and clipped."""
    if dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return values.astype(dtype, copy=False)
