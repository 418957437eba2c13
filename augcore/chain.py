"""The chain model: steps and groups, and which outputs each transform fires on.

A chain is a sequence of *steps*. A step is a ``Step`` (one transform and the probability p that
it fires) or a group whose *members* are steps again: ``OneOf`` (one member, chosen by weight)
or ``SomeOf`` (n members). Every class here is immutable and built in its final shape: the
constructor validates and normalises its arguments (lists become tuples, numbers floats, ``n``
a (low, high) pair) and raises ``ConfigError``; nothing is patched afterwards.

Semantics, whatever the nesting: a step fires when its parent fired and its own p gate passes;
a group's chosen members then each roll their own p. So a member with p < 1 inside a
``one_of`` may leave the group with nothing applied (unlike Albumentations, where a chosen
member always runs), and "at most one member fires" holds for every output.

Draw domains (``augcore.seeding``): ``CompiledChain`` numbers the steps in pre-order, groups
included, once; step m draws its transform's parameters in domain 2m and its gate and group
choice in domain 2m + 1. Both numbers are stored on each compiled step, so nothing else counts
or has to agree with the count.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from augcore._deprecation import renamed_keyword, warn_renamed
from augcore.errors import ConfigError
from augcore.seeding import Draws, OneDraws
from augcore.transform import GeometricTransform, Transform
from augcore.validation import check_probability, is_integer, is_number


# The frozen fields of each class, filled once by the dataclass __init__ with final values;
# the public classes below add the constructor that validates and normalises.
@dataclass(frozen=True)
class _StepFields:
    transform: Transform
    p: float


@dataclass(frozen=True)
class _OneOfFields:
    members: tuple[ChainStep, ...]
    weights: tuple[float, ...] | None
    p: float


@dataclass(frozen=True)
class _SomeOfFields:
    members: tuple[ChainStep, ...]
    n: tuple[int, int]
    p: float


class Step(_StepFields):
    """A transform that fires with probability ``p`` (p=0 never, p=1 always).

    ``p`` defaults to the transform's own ``p`` (``Rotate(p=0.5)``); give it in one place only.

    Example:
        >>> from augcore.plugins.geometric import Rotate
        >>> Step(Rotate(degrees=10), p=0.5).p, Step(Rotate(degrees=10, p=0.5)).p
        (0.5, 0.5)
    """

    def __init__(self, transform: Transform, p: float | None = None) -> None:
        if not isinstance(transform, Transform):
            raise ConfigError(f"Step needs an augcore.Transform, got {transform!r}")
        if p is not None and transform.p != 1.0:
            raise ConfigError(
                f"step {transform.name!r}: p is given twice ({transform!r} and Step(p={p!r})); "
                "give p once, on the transform or on the Step"
            )
        chosen = transform.p if p is None else p
        super().__init__(transform, check_probability(chosen, f"step {transform.name!r}"))


class _Group:
    """What both group classes share: the deprecated name of their ``members``.

    Groups were built with ``steps=`` before 0.2; the keyword and the attribute still work,
    with a DeprecationWarning.
    """

    members: tuple[ChainStep, ...]

    @property
    def steps(self) -> tuple[ChainStep, ...]:
        """Deprecated name of ``members`` (a group's members are steps; it has no "steps")."""
        warn_renamed(f"{type(self).__name__}.steps", f"{type(self).__name__}.members")
        return self.members


class OneOf(_OneOfFields, _Group):
    """At most one member fires: the group's p gate, one member chosen by weight, its own p.

    ``weights`` are relative (default: equal); a member with weight 0 is never chosen.

    Example:
        >>> from augcore.plugins.pixel import Brightness, Contrast
        >>> group = OneOf([Step(Brightness(), p=0.5), Contrast()], weights=[3, 1], p=0.8)
        >>> group.weights, len(group.members)
        ((3.0, 1.0), 2)
    """

    def __init__(
        self,
        members: Sequence[Any] | None = None,
        weights: Sequence[float] | None = None,
        p: float = 1.0,
        *,
        steps: Sequence[Any] | None = None,
    ) -> None:
        checked = _members(
            renamed_keyword("OneOf", ("steps", steps), ("members", members), (), ConfigError),
            "one_of",
        )
        super().__init__(checked, _weights(weights, len(checked)), check_probability(p, "one_of"))


class SomeOf(_SomeOfFields, _Group):
    """``n`` members are chosen (n fixed, or uniform in [low, high]); each then rolls its p.

    The chosen members run in chain order. ``n`` is stored as a (low, high) pair.

    Example:
        >>> from augcore.plugins.geometric import FlipHorizontal, FlipVertical
        >>> SomeOf([FlipHorizontal(), FlipVertical()], n=1).n
        (1, 1)
    """

    def __init__(
        self,
        members: Sequence[Any] | None = None,
        n: int | Sequence[int] = 1,
        p: float = 1.0,
        *,
        steps: Sequence[Any] | None = None,
    ) -> None:
        checked = _members(
            renamed_keyword("SomeOf", ("steps", steps), ("members", members), (), ConfigError),
            "some_of",
        )
        super().__init__(checked, _bounds(n, len(checked)), check_probability(p, "some_of"))


#: A step of a chain: one transform, or a group of steps.
ChainStep = Step | OneOf | SomeOf


def as_step(item: Any, where: str) -> ChainStep:
    """A chain step: a Step or group as is, a bare Transform as a Step with the transform's p."""
    if isinstance(item, (Step, OneOf, SomeOf)):
        return item
    if isinstance(item, Transform):
        return Step(item)
    raise ConfigError(
        f"{where}: a chain step must be an augcore.Transform, Step, OneOf or SomeOf, got {item!r}"
    )


def _members(members: Any, kind: str) -> tuple[ChainStep, ...]:
    if not isinstance(members, (list, tuple)) or not members:
        raise ConfigError(f"{kind}: needs a non-empty list of members, got {members!r}")
    return tuple(as_step(member, kind) for member in members)


def _weights(weights: Any, count: int) -> tuple[float, ...] | None:
    if weights is None:
        return None
    if (
        not isinstance(weights, (list, tuple))
        or len(weights) != count
        or not all(is_number(w) and math.isfinite(w) for w in weights)
        or min(weights) < 0
        or not 0 < sum(weights) < math.inf  # a sum that overflows would never pick a member
    ):
        raise ConfigError(
            f"one_of: 'weights' got {weights!r}; allowed: one number >= 0 per "
            f"member ({count} in all) with a positive sum"
        )
    return tuple(float(w) for w in weights)


def _bounds(n: Any, count: int) -> tuple[int, int]:
    bounds = (n, n) if is_integer(n) else tuple(n) if isinstance(n, (list, tuple)) else None
    if (
        bounds is None
        or len(bounds) != 2
        or not all(is_integer(b) for b in bounds)
        or not 0 <= bounds[0] <= bounds[1] <= count
    ):
        raise ConfigError(
            f"some_of: 'n' got {n!r}; allowed: an integer or [low, high] with "
            f"0 <= low <= high <= {count} (the number of members)"
        )
    return int(bounds[0]), int(bounds[1])


# --- the chain as the pipeline runs it -------------------------------------------------------
#: The draws of one domain for the outputs being made (a batch, or one output).
DrawsFor = Callable[[int], Draws]


@dataclass(frozen=True)
class Leaf:
    """A ``Step`` of the chain, with its place among the transforms and its draw domains.

    ``position`` is the Step's index among the chain's Steps in pre-order: what a record
    stores under the on-disk key ``"step"``.
    """

    step: Step
    position: int
    param_domain: int
    gate_domain: int


@dataclass(frozen=True)
class Segment:
    """A run of consecutive geometric leaves (fused into one warp), or one pixel leaf."""

    leaves: tuple[int, ...]
    geometric: bool


@dataclass(frozen=True)
class _Gate:
    """A step of the chain with its gate's draw domain; a Step's leaf, a group's members."""

    step: ChainStep
    gate_domain: int
    leaf: int | None
    members: tuple[_Gate, ...]


class CompiledChain:
    """The chain walked once: its leaves in pre-order, their segments, and the gates.

    ``leaves[i]`` is the Step at transform position i; ``segments`` cover the leaves in order.
    """

    def __init__(self, steps: Sequence[ChainStep]) -> None:
        self.leaves: list[Leaf] = []
        domains = itertools.count(0, 2)  # step m of the pre-order: 2m and 2m + 1
        self._gates = tuple(self._compile(step, domains) for step in steps)
        self._flat = all(gate.leaf is not None for gate in self._gates)  # no groups
        self.segments = _segments(self.leaves)

    def _compile(self, step: ChainStep, domains: Iterator[int]) -> _Gate:
        param_domain = next(domains)
        if isinstance(step, Step):
            leaf = Leaf(step, len(self.leaves), param_domain, param_domain + 1)
            self.leaves.append(leaf)
            return _Gate(step, leaf.gate_domain, leaf.position, ())
        members = tuple(self._compile(member, domains) for member in step.members)
        return _Gate(step, param_domain + 1, None, members)

    def fired(self, roots: np.ndarray | int) -> list[np.ndarray]:
        """For every leaf (by position), which of the outputs with these root hashes it fires on.

        ``roots``: the ``output_roots`` of a batch, or one ``output_root`` (an int), whose
        draws are then hashed on Python ints (``OneDraws``) into 1-element masks.
        """
        fired: list[np.ndarray] = [np.empty(0, dtype=bool)] * len(self.leaves)
        if isinstance(roots, int):
            draws: DrawsFor = functools.partial(OneDraws.for_domain, roots)
            everywhere = np.ones(1, dtype=bool)
        else:
            draws = functools.partial(Draws.for_domain, roots)
            everywhere = np.ones(roots.shape[0], dtype=bool)
        for gate in self._gates:
            _open(gate, draws, everywhere, fired)
        return fired

    def fired_one(self, root: int) -> list[bool]:
        """``fired`` for the one output whose ``output_root`` is ``root``, as bools per leaf.

        A chain without groups gates each leaf with one Bernoulli draw, computed here on
        Python scalars exactly as ``_open`` computes it; groups take ``fired``.
        """
        if not self._flat:
            return [bool(mask[0]) for mask in self.fired(root)]
        return [
            gate.step.p >= 1.0
            or OneDraws.for_domain(root, gate.gate_domain).bernoulli_value(0, gate.step.p)
            for gate in self._gates
        ]


def _segments(leaves: Sequence[Leaf]) -> list[Segment]:
    """Each run of consecutive geometric leaves is one segment (one warp); each pixel leaf too."""
    segments: list[Segment] = []
    runs = itertools.groupby(
        range(len(leaves)), key=lambda i: isinstance(leaves[i].step.transform, GeometricTransform)
    )
    for geometric, run in runs:
        indices = tuple(run)
        if geometric:
            segments.append(Segment(indices, geometric=True))
        else:
            segments.extend(Segment((index,), geometric=False) for index in indices)
    return segments


def _open(gate: _Gate, draws_for: DrawsFor, parent: np.ndarray, fired: list[np.ndarray]) -> None:
    """Where ``gate``'s step fires (within ``parent``), recorded for its leaves in ``fired``."""
    step = gate.step
    if gate.leaf is not None and step.p >= 1.0:  # nothing to draw: skip hashing the domain
        fired[gate.leaf] = parent
        return
    draws = draws_for(gate.gate_domain)
    mask = parent if step.p >= 1.0 else parent & draws.bernoulli(0, step.p)
    if gate.leaf is not None:
        fired[gate.leaf] = mask
    elif isinstance(step, OneOf):
        weights = np.asarray(step.weights or [1.0] * len(step.members))
        cumulative = np.cumsum(weights)
        edges = cumulative / cumulative[-1]
        edges[cumulative >= cumulative[-1]] = 1.0
        choice = np.searchsorted(edges, draws.uniform(1), side="right")
        for j, member in enumerate(gate.members):
            _open(member, draws_for, mask & (choice == j), fired)
    else:
        low, high = step.n
        count = draws.integers(1, low, high)
        priorities = np.stack([draws.uniform(2 + j) for j in range(len(gate.members))], 1)
        ranks = np.argsort(np.argsort(priorities, axis=1), axis=1)
        for j, member in enumerate(gate.members):
            _open(member, draws_for, mask & (ranks[:, j] < count), fired)
