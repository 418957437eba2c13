"""Records: what was applied to each output, in memory and in its on-disk JSON form.

A record is the whole story of one output: its identity (seed, key, k), every transform that
fired with the parameters it drew, and each fused warp's matrix. ``Record.to_dict`` is the
JSON form stored in manifests; its keys are an on-disk format that existing datasets use and
never change within a major version (docs/manifest.md, docs/glossary.md). In that form:

- ``steps[i]["step"]`` is the transform's *position*: its index among the chain's Steps in
  pre-order (``augcore.chain.Leaf.position``);
- ``fused[j]["steps"]`` are indices into the record's own ``steps`` list: the applied steps
  that one warp fused.

Canvas changes add keys only where they happen, so a record of a chain that keeps the canvas
is byte for byte what it was before canvases existed: ``steps[i]["canvas"]`` is the [H, W] a
step made when it changed the size; ``fused[j]["shape"]`` the [H, W] a warp wrote when it
differs from its input's (such a warp may fuse no applied step: every canvas step of the run
fell back to its plain resize); ``fused[j]["stages"]`` is 2 when a projective run was warped
in two stages (``augcore.fusion``); ``fused[j]["reduce"]`` the box-reduce factors [rows, columns]
when the source was box-reduced before the warp (``augcore.fusion``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, overload

import numpy as np

from augcore.chain import Leaf, Segment
from augcore.contract import checked_params
from augcore.errors import ManifestError
from augcore.fusion import FusedWarp
from augcore.seeding import Draws
from augcore.transform import ImageShape, Params


class AppliedStep(TypedDict):
    """One transform that fired on an output, in application order."""

    name: str  #: the transform's name
    step: int  #: its position among the chain's Steps (pre-order), not a chain index
    params: dict[str, Any]  #: the values it drew, JSON-able
    canvas: NotRequired[list[int]]  #: [H, W] it made, only when it changed the size


class FusedRun(TypedDict):
    """One warp: the applied steps it fused and their composed pull map."""

    steps: list[int]  #: indices into the record's ``steps`` (applied steps), consecutive
    matrix: Any  #: 3x3 pull map as nested lists (a numpy array before ``to_dict``)
    shape: NotRequired[list[int]]  #: [H, W] written, only when it differs from the input's
    reduce: NotRequired[list[int]]  #: box-reduce factors [rows, columns], only when reduced
    stages: NotRequired[int]  #: 2 when warped in two stages (augcore.fusion), else absent


@dataclass
class Sampled:
    """What sampling gave one leaf for a batch: which outputs it fires on, and its params."""

    fired: np.ndarray
    params: Params


@dataclass
class Record:
    """What was applied to one output: identity, the steps that fired, the fused matrices.

    ``steps`` entries are ``{"name", "step", "params"}`` in application order (``step`` is the
    transform's position among the chain's transforms); ``fused`` entries are
    ``{"steps": [indices into steps], "matrix": 3x3 pull map}``, one per warp performed.
    """

    seed: int
    key: str
    k: int
    steps: list[AppliedStep] = field(default_factory=list)
    fused: list[FusedRun] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The record's JSON form (what a manifest stores); ``from_dict`` reads it back."""
        return {
            "seed": self.seed,
            "key": self.key,
            "k": self.k,
            "steps": [dict(step) for step in self.steps],
            "fused": [dict(run) for run in self.fused],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """A record from its JSON form; ManifestError saying what is missing or malformed."""
        try:
            steps = [_applied_step(entry) for entry in data["steps"]]
            fused = [_fused_run(run) for run in data["fused"]]
            _check_runs(fused, len(steps))
            return cls(int(data["seed"]), str(data["key"]), int(data["k"]), steps, fused)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(
                f"not a valid augcore record ({type(exc).__name__}: {exc}); a record needs "
                "seed, key, k, steps [{name, step, params}] and fused [{steps, matrix}]"
            ) from exc


def _applied_step(entry: Mapping[str, Any]) -> AppliedStep:
    step = AppliedStep(
        name=str(entry["name"]), step=int(entry["step"]), params=dict(entry["params"])
    )
    if "canvas" in entry:
        step["canvas"] = _size(entry["canvas"], "canvas")
    return step


def _fused_run(entry: Mapping[str, Any]) -> FusedRun:
    run = FusedRun(steps=[int(i) for i in entry["steps"]], matrix=entry["matrix"])
    for key in ("shape", "reduce"):
        if key in entry:
            run[key] = _size(entry[key], key)
    if "stages" in entry:
        if entry["stages"] != 2:
            raise ValueError(f"stages must be 2 when given, got {entry['stages']!r}")
        run["stages"] = 2
    return run


def _size(value: Any, name: str) -> list[int]:
    pair = [int(side) for side in value]
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"{name} must be two positive integers, got {value!r}")
    return pair


def _check_runs(runs: Sequence[FusedRun], step_count: int) -> None:
    """Fused runs are in order, disjoint runs of consecutive step indices; only a warp that
    changed the canvas may fuse no applied step."""
    after = 0
    for entry in runs:
        run = entry["steps"]
        if not run:
            if "shape" not in entry:
                raise ValueError("a fused run with no steps must say the shape it wrote")
            continue
        if run != list(range(run[0], run[0] + len(run))) or run[0] < after:
            raise ValueError(f"fused run {run} is not a new run of consecutive step indices")
        after = run[-1] + 1
    if after > step_count:
        raise ValueError(f"a fused run refers to step {after - 1}, but there are {step_count}")


class RecordSequence(Sequence[Record]):
    """The records of a batch (formerly ``Records``), built on access from its arrays.

    Output i is variant ``first_k + i % per_image`` of source ``keys[i // per_image]``.

    The first access converts every array to Python lists once (a few milliseconds for
    thousands of outputs); each record is then assembled from plain lists.
    """

    def __init__(
        self,
        seed: int,
        keys: Sequence[str],
        per_image: int,
        leaves: Sequence[Leaf],
        results: Sequence[Sampled],
        segments: Sequence[Segment],
        fused: Sequence[FusedWarp | None],
        first_k: int = 0,
        canvases: Sequence[list[int] | None] = (),
    ) -> None:
        self._seed, self._keys, self._per_image, self._first_k = seed, keys, per_image, first_k
        self._leaves, self._results = leaves, results
        self._segments, self._fused = segments, fused
        self._canvases = list(canvases) or [None] * len(leaves)
        self._columns: tuple[list[Any], ...] | None = None

    def __len__(self) -> int:
        return len(self._keys) * self._per_image

    def _as_lists(self) -> tuple[list[Any], ...]:
        if self._columns is None:
            fired = [result.fired.tolist() for result in self._results]
            params = [
                {name: values.tolist() for name, values in result.params.items()}
                for result in self._results
            ]
            warps = [
                None
                if warp is None
                else (warp.matrices.tolist(), warp.reduce.tolist(), warp.staged.tolist())
                for warp in self._fused
            ]
            self._columns = (fired, params, warps)
        return self._columns

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        i = range(len(self))[index]
        fired, params, warps = self._as_lists()
        k = self._first_k + i % self._per_image
        record = Record(self._seed, self._keys[i // self._per_image], k)
        for segment, warp, fused in zip(self._segments, warps, self._fused, strict=True):
            first = len(record.steps)
            for leaf in segment.leaves:
                if fired[leaf][i]:
                    applied = AppliedStep(
                        name=self._leaves[leaf].step.transform.name,
                        step=self._leaves[leaf].position,
                        params={name: values[i] for name, values in params[leaf].items()},
                    )
                    if self._canvases[leaf] is not None:
                        applied["canvas"] = self._canvases[leaf]
                    record.steps.append(applied)
            if warp is None or (len(record.steps) == first and fused.shape is None):
                continue
            run = FusedRun(steps=list(range(first, len(record.steps))), matrix=warp[0][i])
            if fused.shape is not None:
                run["shape"] = list(fused.shape)
            if warp[1][i] != [1, 1]:
                run["reduce"] = warp[1][i]
            if warp[2][i]:
                run["stages"] = 2
            record.fused.append(run)
        return record


# The JSON kinds a recorded value may come back as, by the dtype ``sample`` gives it.
_DECODABLE_KINDS = {"f": "fi", "i": "i", "b": "b"}


def decode_params(leaf: Leaf, recorded: Mapping[str, Any], shape: ImageShape, where: str) -> Params:
    """A record's JSON params back to length-1 arrays of the names, dtypes and shapes that the
    transform's ``sample`` gives for this image shape (learnt by sampling it once)."""
    transform = leaf.step.transform
    expected = checked_params(
        transform, transform.sample(Draws(np.zeros(1, dtype=np.uint64)), shape), 1
    )
    if set(recorded) != set(expected):
        raise ManifestError(
            f"{where} has params {sorted(recorded)}, but the transform records "
            f"{sorted(expected)}; replay with the pipeline that made the record"
        )
    decoded = {}
    for name, like in expected.items():
        try:
            value = np.asarray([recorded[name]])
        except ValueError:  # a ragged list
            value = np.asarray([None])
        if value.shape != like.shape or value.dtype.kind not in _DECODABLE_KINDS[like.dtype.kind]:
            raise ManifestError(
                f"{where}: parameter {name!r} got {recorded[name]!r}; expected "
                f"{like.dtype} of shape {like.shape[1:]}"
            )
        decoded[name] = value.astype(like.dtype)
    return decoded
