"""Augmentation policies as chain groups: RandAugment, TrivialAugmentWide, AutoAugment.

Each policy is built from the ordinary chain groups and the operations of
``augcore.plugins.policy_ops`` with torchvision's op sets, tables and probabilities:

- ``trivial_augment(num_magnitude_bins=31)``: one of the 14 operations, chosen uniformly, at a
  bin drawn uniformly (TrivialAugmentWide);
- ``rand_augment(n=2, m=9, num_magnitude_bins=31)``: ``n`` slots applied in order, each one of
  the 14 operations chosen uniformly (so an operation may repeat), at bin ``m``;
- ``auto_augment()``: one of the 25 ImageNet sub-policies, chosen uniformly; each of its two
  operations fires with its own probability, at its bin of 10.

Signed magnitudes are negated with probability 1/2. Because the members are plain steps,
records name the operation that fired (its transform name) with its ``bin`` and signed
``magnitude``; geometric operations are pull maps that the host fuses with the geometric steps
next to them; and a record replays exactly. In a config a policy is one entry:
``{"trivial_augment": {"num_magnitude_bins": 31}, "p": 1.0}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from augcore.plugins.policy_ops import OPS, Identity
from augcore.plugins.tone import Autocontrast, Equalize, Invert

from augcore.chain import ChainStep, OneOf, SomeOf, Step
from augcore.errors import ConfigError
from augcore.transform import Transform
from augcore.validation import is_integer

#: The operations of RandAugment and TrivialAugmentWide, in torchvision's order.
OP_SET = (
    "Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness",
    "Color", "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize",
)  # fmt: skip
_PARAMETERLESS: dict[str, type[Transform]] = {
    "Identity": Identity,
    "AutoContrast": Autocontrast,
    "Equalize": Equalize,
    "Invert": Invert,
}
AUTO_AUGMENT_BINS = 10
#: torchvision's AutoAugmentPolicy.IMAGENET: 25 sub-policies of (op, probability, bin).
IMAGENET_POLICY = (
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
    (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
    (("Color", 0.4, 0), ("Equalize", 0.6, None)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
)


def members_in_chain_order() -> tuple[str, ...]:
    """OP_SET with the geometric operations first: next to the geometric steps before the
    group, so a chosen shear, translate or rotate fuses with them into one warp. The choice
    is uniform, so the order changes which draw picks which op, not the distribution."""
    geometric = tuple(op for op in OP_SET if op in OPS and OPS[op].kind == "geometric")
    return geometric + tuple(op for op in OP_SET if op not in geometric)


def operation(op: str, policy: str, num_bins: int, bins: tuple[int, int]) -> Transform:
    """The transform performing torchvision's operation ``op`` with ``policy``'s table."""
    if op in _PARAMETERLESS:
        return _PARAMETERLESS[op]()
    return OPS[op](policy=policy, num_bins=num_bins, bin=list(bins))


def trivial_augment(num_magnitude_bins: int = 31, p: float = 1.0) -> OneOf:
    """TrivialAugmentWide: one operation of 14, uniformly, at a uniformly drawn bin.

    Example:
        >>> pipeline = augcore.Pipeline([Rotate(degrees=10), trivial_augment()])
    """
    bins = _count("num_magnitude_bins", num_magnitude_bins, 2, 1000)
    ops = members_in_chain_order()
    members = [operation(op, "trivial_augment", bins, (0, bins - 1)) for op in ops]
    return OneOf(tuple(Step(member) for member in members), p=p)


def rand_augment(n: int = 2, m: int = 9, num_magnitude_bins: int = 31, p: float = 1.0) -> SomeOf:
    """RandAugment: ``n`` slots in order, each one of 14 operations uniformly, at bin ``m``."""
    bins = _count("num_magnitude_bins", num_magnitude_bins, 2, 1000)
    slots = _count("n", n, 1, len(OP_SET))
    level = _count("m", m, 0, bins - 1)
    ops = members_in_chain_order()
    slot = [Step(operation(op, "rand_augment", bins, (level, level))) for op in ops]
    return SomeOf(tuple(OneOf(tuple(slot)) for _ in range(slots)), n=slots, p=p)


def auto_augment(p: float = 1.0) -> OneOf:
    """AutoAugment's ImageNet policy: one of 25 sub-policies, each two operations with their p."""
    sub_policies = []
    for pair in IMAGENET_POLICY:
        steps = [
            Step(
                operation(op, "auto_augment", AUTO_AUGMENT_BINS, (level or 0, level or 0)),
                p=probability,
            )
            for op, probability, level in pair
        ]
        sub_policies.append(SomeOf(tuple(steps), n=len(steps)))
    return OneOf(tuple(sub_policies), p=p)


BUILDERS = {
    "trivial_augment": trivial_augment,
    "rand_augment": rand_augment,
    "auto_augment": auto_augment,
}


def policy_from_config(name: str, options: Any, p: Any, where: str) -> ChainStep:
    """The chain group of a config entry ``{name: {options}, "p": p}``; ConfigError naming
    ``where``, the policy and the parameter."""
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where} ({name}): takes a table of options, got {options!r}")
    builder = BUILDERS[name]
    allowed = builder.__code__.co_varnames[: builder.__code__.co_argcount - 1]  # not p
    for key in options:
        if key not in allowed:
            raise ConfigError(
                f"{where} ({name}): unknown parameter {key!r}; its parameters are: "
                + (", ".join(allowed) or "none")
            )
    try:
        return builder(**options, p=p)
    except ConfigError as exc:
        raise ConfigError(f"{where} ({name}): {exc}") from None


def _count(name: str, value: Any, low: int, high: int) -> int:
    if not is_integer(value) or not low <= value <= high:
        raise ConfigError(
            f"parameter {name!r} got {value!r}; allowed: an integer within [{low}, {high}]"
        )
    return int(value)
