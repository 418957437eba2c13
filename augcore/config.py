"""A chain's config form (TOML, JSON or a dict) and the pipeline's warp options.

The chain's model (``Step``, ``OneOf``, ``SomeOf``) lives in ``augcore.chain``; it is
re-exported here because configs build it and older code imports it from this module.

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
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from augcore._deprecation import renamed_attributes
from augcore.chain import ChainStep, OneOf, SomeOf, Step, as_step
from augcore.errors import ConfigError
from augcore.safefile import NotRegularFileError, NotTextError, explain, read_text
from augcore.transform import did_you_mean, validate_options
from augcore.validation import FILL_MODES, check_probability, is_integer, is_number

if TYPE_CHECKING:
    from augcore.manager import PluginManager

__all__ = [
    "OneOf",
    "SomeOf",
    "Step",
    "WarpOptions",
    "chain_to_config",
    "load_config",
    "parse_config",
    "step_to_config",
]

ORDERS = (0, 1)
PIPELINE_KEYS = ("order", "fill_mode", "cval", "steps", "targets")
STEP_KEYS = ("transform", "p")
ONE_OF_KEYS = ("one_of", "weights", "p")
SOME_OF_KEYS = ("some_of", "n", "p")
# Augmentation policies: one config entry each, expanded into the groups of
# augcore.plugins.policies (its records name the operations that fired).
POLICY_KEYS = ("rand_augment", "trivial_augment", "auto_augment")


@dataclass(frozen=True)
class _WarpFields:
    order: int
    fill_mode: str
    cval: float


class WarpOptions(_WarpFields):
    """How the pipeline's fused warps resample: interpolation order, fill mode, fill value.

    Validated and normalised (``order`` an int, ``cval`` a float) when built; immutable.
    """

    def __init__(self, order: int = 0, fill_mode: str = "nearest", cval: float = 0.0) -> None:
        if not is_integer(order) or order not in ORDERS:
            raise ConfigError(f"'order' got {order!r}; allowed: 0 (nearest) or 1 (bilinear)")
        if fill_mode not in FILL_MODES:
            raise ConfigError(
                f"'fill_mode' got {fill_mode!r}; allowed: "
                + ", ".join(map(repr, FILL_MODES))
                + did_you_mean(str(fill_mode), FILL_MODES)
            )
        if not is_number(cval) or not math.isfinite(cval):
            raise ConfigError(f"'cval' got {cval!r}; allowed: a finite number")
        super().__init__(int(order), fill_mode, float(cval))


MAX_DEPTH = 64  # nested tables/lists in a config (a group inside a group takes two)


def load_config(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """The config as a dict, from a dict or a ``.toml`` / ``.json`` file.

    Whatever comes in, the result is plain data or a ConfigError naming where it is not:
    string keys only, numbers that are finite floats (no ``10**400``, NaN or inf), at most
    MAX_DEPTH levels of nesting; a file must be a regular file of UTF-8 text.
    """
    if isinstance(source, Mapping):
        data: Any = dict(source)
        name = "config"
    elif isinstance(source, (str, Path)):
        data = _read_file(Path(source))
        name = str(source)
    else:
        raise ConfigError(
            f"a config must be a dict or a path to a .toml or .json file, got {source!r}"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{name}: the top level must be a table/object, got {type(data).__name__}"
        )
    _check_plain(data, name)
    return data


def _read_file(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"{path}: config files must end in .toml or .json")
    try:
        text = read_text(path)
    except NotRegularFileError as exc:
        raise ConfigError(f"{exc}; a config is a regular .toml or .json file") from None
    except NotTextError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {explain(exc)}") from exc
    try:
        return _parse_toml(text, path) if suffix == ".toml" else json.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ConfigError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from exc
    except RecursionError:
        raise ConfigError(
            f"{path}: nested too deeply to read (at most {MAX_DEPTH} levels are allowed)"
        ) from None


def _check_plain(data: Any, name: str) -> None:
    """Refuse what no config may hold, naming where: walked without recursion, so a config
    nested a million levels deep is refused instead of exhausting the stack."""
    pending: list[tuple[Any, str, int]] = [(data, name, 0)]
    while pending:
        value, where, depth = pending.pop()
        if isinstance(value, Mapping):
            children = list(value.items())
        elif isinstance(value, (list, tuple)):
            children = [(f"[{index}]", item) for index, item in enumerate(value)]
        else:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if number and not (is_number(value) and math.isfinite(value)):
                raise ConfigError(
                    f"{where}: {reprlib.repr(value)} is not a finite number a float can hold"
                )
            continue
        if depth >= MAX_DEPTH:
            raise ConfigError(f"{where}: the config nests more than {MAX_DEPTH} levels deep")
        for key, item in children:
            if isinstance(value, Mapping):
                if not isinstance(key, str):
                    raise ConfigError(f"{where}: key {key!r} is not a string")
                pending.append((item, f"{where}.{key}", depth + 1))
            else:
                pending.append((item, f"{where}{key}", depth + 1))


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
) -> tuple[tuple[ChainStep, ...], WarpOptions]:
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
    return tuple(_parse_step(step, f"steps[{i}]", manager) for i, step in enumerate(steps)), warp


def _parse_members(value: Any, where: str, manager: PluginManager) -> list[ChainStep]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: must be a non-empty list of steps")
    return [_parse_step(member, f"{where}[{i}]", manager) for i, member in enumerate(value)]


def _parse_step(step: Any, where: str, manager: PluginManager) -> ChainStep:
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
    if kinds[0] != "transform":
        return _parse_group(step, kinds[0], where, manager)
    name = step["transform"]
    if name in POLICY_KEYS:  # a policy is a group of its own, not a transform
        raise ConfigError(
            f"{where}: {name!r} is a policy, written as its own step: "
            f'{{"{name}": {{...options...}}, "p": ...}} (docs/transforms.md)'
        )
    cls = manager.get(name, where)
    where = f"{where} ({name})"
    options = {key: value for key, value in step.items() if key not in STEP_KEYS}
    validate_options(cls, options, where)  # what the constructor checks, but naming the step
    try:  # the options are valid one by one, so what fails here is the transform's check_options
        transform = cls(**options)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return Step(transform, p=check_probability(step.get("p", 1.0), where))


def _parse_group(
    step: Mapping[str, Any], kind: str, where: str, manager: PluginManager
) -> OneOf | SomeOf:
    _check_keys(step, ONE_OF_KEYS if kind == "one_of" else SOME_OF_KEYS, where)
    members = _parse_members(step[kind], f"{where}.{kind}", manager)  # errors name the member
    try:  # the members are built, so what fails here is the group's own weights, n or p
        if kind == "one_of":
            return OneOf(members, weights=step.get("weights"), p=step.get("p", 1.0))
        return SomeOf(members, n=step.get("n", 1), p=step.get("p", 1.0))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_keys(step: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in step:
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}"
                + did_you_mean(str(key), allowed)
            )


def step_to_config(step: ChainStep) -> dict[str, Any]:
    """The config form of a chain step (JSON-able; parse_config reads it back equal)."""
    if isinstance(step, Step):
        return {**step.transform.to_config(), "p": step.p}
    if isinstance(step, OneOf):
        out: dict[str, Any] = {"one_of": [step_to_config(m) for m in step.members], "p": step.p}
        if step.weights is not None:
            out["weights"] = list(step.weights)
        return out
    return {
        "some_of": [step_to_config(m) for m in step.members],
        "n": list(step.n),
        "p": step.p,
    }


def chain_to_config(steps: Sequence[ChainStep], warp: WarpOptions) -> dict[str, Any]:
    """The config form of a whole chain with its warp options."""
    return {
        "order": warp.order,
        "fill_mode": warp.fill_mode,
        "cval": warp.cval,
        "steps": [step_to_config(step) for step in steps],
    }


__getattr__ = renamed_attributes(
    __name__,
    {
        "Node": ("augcore.chain.ChainStep", ChainStep),
        "as_node": ("augcore.chain.as_step", as_step),
        "node_to_config": ("step_to_config", step_to_config),
    },
)
