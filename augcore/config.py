"""A chain's data model (steps and groups) and its config form: TOML, JSON or a dict.

A config is::

    order = 0              # interpolation: 0 nearest, 1 bilinear
    fill_mode = "nearest"  # nearest | constant | reflect | wrap
    cval = 0.0             # fill value for "constant"

    [[steps]]              # a transform step: its name, probability p, and its parameters
    transform = "rotate"
    p = 1.0
    degrees = 40

    [[steps]]              # a group: exactly one member, chosen by weight
    one_of = [{ transform = "brightness", factor = 0.2 }, { transform = "contrast" }]
    weights = [2, 1]
    p = 0.5

    [[steps]]              # a group: n members (or n drawn from [low, high]), kept in order
    some_of = [{ transform = "flip_horizontal" }, { transform = "flip_vertical" }]
    n = [0, 2]

TOML needs Python >= 3.11 (tomllib) or the ``tomli`` package on 3.10; JSON works everywhere.
Everything is validated before any image is touched: an unknown transform or parameter, or a
value out of range or of the wrong type, is a ConfigError naming the step and the key, saying
what is allowed, with a "did you mean".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from augcore.errors import ConfigError
from augcore.transform import Transform, did_you_mean, validate_options
from augcore.validation import FILL_MODES, is_integer, is_number

if TYPE_CHECKING:
    from augcore.manager import PluginManager

ORDERS = (0, 1)
PIPELINE_KEYS = ("order", "fill_mode", "cval", "steps")
STEP_KEYS = ("transform", "p")
ONE_OF_KEYS = ("one_of", "weights", "p")
SOME_OF_KEYS = ("some_of", "n", "p")
# Augmentation policies: one config entry each, expanded into the groups of
# augcore.plugins.policies (its records name the operations that fired).
POLICY_KEYS = ("rand_augment", "trivial_augment", "auto_augment")


def _check_probability(p: Any, where: str) -> float:
    if not is_number(p) or not 0.0 <= p <= 1.0:
        raise ConfigError(f"{where}: 'p' got {p!r}; allowed: a number in [0, 1]")
    return float(p)


@dataclass(frozen=True)
class Step:
    """A transform that fires with probability ``p`` (p=0 never, p=1 always)."""

    transform: Transform
    p: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.transform, Transform):
            raise ConfigError(f"Step needs an augcore.Transform, got {self.transform!r}")
        object.__setattr__(self, "p", _check_probability(self.p, f"step {self.transform.name!r}"))


@dataclass(frozen=True)
class OneOf:
    """Exactly one member fires (if the group does), chosen with the given relative weights."""

    steps: tuple[Node, ...]
    weights: tuple[float, ...] | None = None
    p: float = 1.0

    def __post_init__(self) -> None:
        steps = _normalise_group(self, "one_of")
        if self.weights is not None:
            weights = self.weights
            if (
                not isinstance(weights, (list, tuple))
                or len(weights) != len(steps)
                or not all(is_number(w) and math.isfinite(w) for w in weights)
                or min(weights) < 0
                or sum(weights) <= 0
            ):
                raise ConfigError(
                    f"one_of: 'weights' got {weights!r}; allowed: one number >= 0 per "
                    f"member ({len(steps)} in all) with a positive sum"
                )
            object.__setattr__(self, "weights", tuple(float(w) for w in weights))


@dataclass(frozen=True)
class SomeOf:
    """``n`` members fire (n fixed, or drawn uniformly from [low, high]), in chain order."""

    steps: tuple[Node, ...]
    n: int | tuple[int, int] = 1
    p: float = 1.0

    def __post_init__(self) -> None:
        steps = _normalise_group(self, "some_of")
        n = self.n
        bounds = (n, n) if is_integer(n) else tuple(n) if isinstance(n, (list, tuple)) else None
        if (
            bounds is None
            or len(bounds) != 2
            or not all(is_integer(b) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1] <= len(steps)
        ):
            raise ConfigError(
                f"some_of: 'n' got {n!r}; allowed: an integer or [low, high] with "
                f"0 <= low <= high <= {len(steps)} (the number of members)"
            )
        object.__setattr__(self, "n", (int(bounds[0]), int(bounds[1])))


Node = Step | OneOf | SomeOf


def _normalise_group(group: OneOf | SomeOf, kind: str) -> tuple[Node, ...]:
    """Set a group's members (as chain nodes) and p in place; the members."""
    if not isinstance(group.steps, (list, tuple)) or not group.steps:
        raise ConfigError(f"{kind}: needs a non-empty list of members, got {group.steps!r}")
    steps = tuple(as_node(step, kind) for step in group.steps)
    object.__setattr__(group, "steps", steps)
    object.__setattr__(group, "p", _check_probability(group.p, kind))
    return steps


def as_node(item: Any, where: str) -> Node:
    """A chain member: a Step or group as is, a bare Transform as a Step with p=1."""
    if isinstance(item, (Step, OneOf, SomeOf)):
        return item
    if isinstance(item, Transform):
        return Step(item)
    raise ConfigError(
        f"{where}: a chain member must be an augcore.Transform, Step, OneOf or SomeOf, got {item!r}"
    )


@dataclass(frozen=True)
class WarpOptions:
    """How the pipeline's fused warps resample: interpolation order, fill mode, fill value."""

    order: int = 0
    fill_mode: str = "nearest"
    cval: float = 0.0

    def __post_init__(self) -> None:
        if not is_integer(self.order) or self.order not in ORDERS:
            raise ConfigError(f"'order' got {self.order!r}; allowed: 0 (nearest) or 1 (bilinear)")
        object.__setattr__(self, "order", int(self.order))
        if self.fill_mode not in FILL_MODES:
            raise ConfigError(
                f"'fill_mode' got {self.fill_mode!r}; allowed: "
                + ", ".join(map(repr, FILL_MODES))
                + did_you_mean(str(self.fill_mode), FILL_MODES)
            )
        if not is_number(self.cval) or not math.isfinite(self.cval):
            raise ConfigError(f"'cval' got {self.cval!r}; allowed: a finite number")
        object.__setattr__(self, "cval", float(self.cval))


def load_config(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """The config as a dict, from a dict or a ``.toml`` / ``.json`` file."""
    if isinstance(source, Mapping):
        return dict(source)
    if not isinstance(source, (str, Path)):
        raise ConfigError(
            f"a config must be a dict or a path to a .toml or .json file, got {source!r}"
        )
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"{path}: config files must end in .toml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from exc
    try:
        data = _parse_toml(text, path) if suffix == ".toml" else json.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ConfigError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a table/object, got {type(data).__name__}"
        )
    return data


def _parse_toml(text: str, path: Path) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ConfigError(
                f"{path}: reading TOML on Python 3.10 needs the 'tomli' package "
                "(pip install tomli), or write the config as JSON"
            ) from None
    return tomllib.loads(text)


def parse_config(
    config: Mapping[str, Any], manager: PluginManager
) -> tuple[tuple[Node, ...], WarpOptions]:
    """Validate a config dict completely and build its chain and warp options."""
    for key in config:
        if key not in PIPELINE_KEYS:
            raise ConfigError(
                f"config: unknown key {key!r}; allowed: {', '.join(PIPELINE_KEYS)}"
                + did_you_mean(str(key), PIPELINE_KEYS)
            )
    steps = config.get("steps", [])
    if not isinstance(steps, list):
        raise ConfigError(f"config: 'steps' must be a list of steps, got {type(steps).__name__}")
    warp = WarpOptions(
        order=config.get("order", 0),
        fill_mode=config.get("fill_mode", "nearest"),
        cval=config.get("cval", 0.0),
    )
    return tuple(_parse_node(step, f"steps[{i}]", manager) for i, step in enumerate(steps)), warp


def _parse_members(value: Any, where: str, manager: PluginManager) -> list[Node]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: must be a non-empty list of steps")
    return [_parse_node(member, f"{where}[{i}]", manager) for i, member in enumerate(value)]


def _parse_node(step: Any, where: str, manager: PluginManager) -> Node:
    if not isinstance(step, Mapping):
        raise ConfigError(f"{where}: a step must be a table/object, got {step!r}")
    kinds = [key for key in ("transform", "one_of", "some_of", *POLICY_KEYS) if key in step]
    if len(kinds) != 1:
        raise ConfigError(
            f"{where}: a step needs exactly one of 'transform', 'one_of', 'some_of' or a policy "
            f"({', '.join(POLICY_KEYS)}), got keys {sorted(step)}"
        )
    if kinds[0] in POLICY_KEYS:
        from augcore.plugins.policies import policy_from_config

        _check_keys(step, (kinds[0], "p"), where)
        return policy_from_config(kinds[0], step[kinds[0]], step.get("p", 1.0), where)
    try:
        if kinds[0] == "one_of":
            _check_keys(step, ONE_OF_KEYS, where)
            return OneOf(
                tuple(_parse_members(step["one_of"], f"{where}.one_of", manager)),
                weights=step.get("weights"),
                p=step.get("p", 1.0),
            )
        if kinds[0] == "some_of":
            _check_keys(step, SOME_OF_KEYS, where)
            return SomeOf(
                tuple(_parse_members(step["some_of"], f"{where}.some_of", manager)),
                n=step.get("n", 1),
                p=step.get("p", 1.0),
            )
    except ConfigError as exc:
        if str(exc).startswith(where):
            raise
        raise ConfigError(f"{where}: {exc}") from None
    name = step["transform"]
    cls = manager.get(name, where)
    where = f"{where} ({name})"
    options = {key: value for key, value in step.items() if key not in STEP_KEYS}
    validate_options(cls, options, where)  # what the constructor checks, but naming the step
    return Step(cls(**options), p=_check_probability(step.get("p", 1.0), where))


def _check_keys(step: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in step:
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}"
                + did_you_mean(str(key), allowed)
            )


def node_to_config(node: Node) -> dict[str, Any]:
    """The config form of a chain member (JSON-able; parse_config reads it back equal)."""
    if isinstance(node, Step):
        return {**node.transform.to_config(), "p": node.p}
    if isinstance(node, OneOf):
        out: dict[str, Any] = {"one_of": [node_to_config(m) for m in node.steps], "p": node.p}
        if node.weights is not None:
            out["weights"] = list(node.weights)
        return out
    return {
        "some_of": [node_to_config(m) for m in node.steps],
        "n": list(node.n),
        "p": node.p,
    }


def chain_to_config(nodes: Sequence[Node], warp: WarpOptions) -> dict[str, Any]:
    return {
        "order": warp.order,
        "fill_mode": warp.fill_mode,
        "cval": warp.cval,
        "steps": [node_to_config(node) for node in nodes],
    }
