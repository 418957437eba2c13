"""Running a chain: sampling, fusion and the applied record of every output.

Each chain member gets a fixed stream number from its pre-order position (member m uses
stream 2m for its transform's parameters and 2m + 1 for its own gate / group choices), so an
output's draws depend only on (seed, key, k) and the chain (see ``augcore.seeding``).

A batch of n outputs is processed step by step, never image by image: every member samples
for all n outputs in one vectorised call; consecutive geometric steps are composed into one
(n, 3, 3) matrix per fused run (a step that did not fire contributes the identity) and warped
with one kernel call; pixel steps are applied to the outputs they fired on.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any, overload

import numpy as np

from augcore.config import (
    Node,
    OneOf,
    Step,
    WarpOptions,
    as_node,
    chain_to_config,
    load_config,
    parse_config,
)
from augcore.errors import (
    AugmentOptionError,
    BatchLengthError,
    ImageDtypeError,
    ImageShapeError,
    ManifestError,
    PluginContractError,
)
from augcore.manager import PluginManager, describe_transform
from augcore.seeding import Draws, check_seed, key_hashes, output_streams
from augcore.transform import (
    RECORDABLE_DTYPES,
    GeometricTransform,
    ImageShape,
    Params,
    compose,
    identity_matrices,
)
from augcore.validation import require_int
from augcore.warp import warp_affine_batch

DEFAULT_CONFIG = Path(__file__).with_name("data") / "default.toml"
IMAGE_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))


# --- records ----------------------------------------------------------------------------------
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
    steps: list[dict[str, Any]] = field(default_factory=list)
    fused: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "key": self.key,
            "k": self.k,
            "steps": [dict(step) for step in self.steps],
            "fused": [dict(run) for run in self.fused],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        try:
            steps = [
                {"name": str(s["name"]), "step": int(s["step"]), "params": dict(s["params"])}
                for s in data["steps"]
            ]
            fused = [
                {"steps": [int(i) for i in run["steps"]], "matrix": run["matrix"]}
                for run in data["fused"]
            ]
            _check_runs([run["steps"] for run in fused], len(steps))
            return cls(int(data["seed"]), str(data["key"]), int(data["k"]), steps, fused)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(
                f"not a valid augcore record ({type(exc).__name__}: {exc}); a record needs "
                "seed, key, k, steps [{name, step, params}] and fused [{steps, matrix}]"
            ) from exc


def _check_runs(runs: Sequence[list[int]], step_count: int) -> None:
    """Fused runs are non-empty, in order, disjoint runs of consecutive step indices."""
    after = 0
    for run in runs:
        if not run or run != list(range(run[0], run[0] + len(run))) or run[0] < after:
            raise ValueError(f"fused run {run} is not a new run of consecutive step indices")
        after = run[-1] + 1
    if after > step_count:
        raise ValueError(f"a fused run refers to step {after - 1}, but there are {step_count}")


@dataclass(frozen=True)
class _Leaf:
    """A transform step of the flattened chain with its stream and transform-position."""

    step: Step
    stream: int
    position: int


@dataclass
class _LeafResult:
    mask: np.ndarray
    params: Params


@dataclass(frozen=True)
class _Segment:
    """A fused geometric run, or a single pixel step, of the flattened chain."""

    leaves: tuple[int, ...]
    geometric: bool


class Records(Sequence[Record]):
    """The records of a batch, built on access from the batch's parameter arrays.

    Output i is variant ``first_k + i % variants`` of source ``keys[i // variants]``.

    The first access converts every array to Python lists once (a few milliseconds for
    thousands of outputs); each record is then assembled from plain lists.
    """

    def __init__(
        self,
        seed: int,
        keys: Sequence[str],
        variants: int,
        leaves: Sequence[_Leaf],
        results: Sequence[_LeafResult],
        segments: Sequence[_Segment],
        fused: Sequence[np.ndarray | None],
        first_k: int = 0,
    ) -> None:
        self._seed, self._keys, self._variants, self._first_k = seed, keys, variants, first_k
        self._leaves, self._results = leaves, results
        self._segments, self._fused = segments, fused
        self._columns: tuple[list[Any], ...] | None = None

    def __len__(self) -> int:
        return len(self._keys) * self._variants

    def _as_lists(self) -> tuple[list[Any], ...]:
        if self._columns is None:
            fired = [result.mask.tolist() for result in self._results]
            params = [
                {name: values.tolist() for name, values in result.params.items()}
                for result in self._results
            ]
            matrices = [None if fused is None else fused.tolist() for fused in self._fused]
            self._columns = (fired, params, matrices)
        return self._columns

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        i = range(len(self))[index]
        fired, params, matrices = self._as_lists()
        k = self._first_k + i % self._variants
        record = Record(self._seed, self._keys[i // self._variants], k)
        for segment, segment_matrices in zip(self._segments, matrices, strict=True):
            first = len(record.steps)
            for leaf in segment.leaves:
                if fired[leaf][i]:
                    record.steps.append(
                        {
                            "name": self._leaves[leaf].step.transform.name,
                            "step": self._leaves[leaf].position,
                            "params": {name: values[i] for name, values in params[leaf].items()},
                        }
                    )
            if segment_matrices is not None and len(record.steps) > first:
                record.fused.append(
                    {"steps": list(range(first, len(record.steps))), "matrix": segment_matrices[i]}
                )
        return record


# --- the pipeline -----------------------------------------------------------------------------
class _Batch:
    """The images being augmented, and whether we may write into them (copy on first write)."""

    __slots__ = ("array", "owned")

    def __init__(self, array: np.ndarray, owned: bool) -> None:
        self.array, self.owned = array, owned

    def replace(self, array: np.ndarray, owned: bool = True) -> None:
        self.array, self.owned = array, owned

    def writable(self) -> np.ndarray:
        if not self.owned:
            self.array, self.owned = self.array.copy(), True
        return self.array


def _flatten(nodes: Sequence[Node]) -> list[_Leaf]:
    """The chain's transform steps in pre-order, each with its stream number.

    Member m of the chain in pre-order (groups included) owns streams 2m (parameters) and
    2m + 1 (gate and group choices); ``Pipeline._masks`` walks the chain in the same order.
    """
    leaves: list[_Leaf] = []
    param_streams = itertools.count(0, 2)

    def visit(node: Node) -> None:
        stream = next(param_streams)
        if isinstance(node, Step):
            leaves.append(_Leaf(node, stream, len(leaves)))
        else:
            for member in node.steps:
                visit(member)

    for node in nodes:
        visit(node)
    return leaves


def _segments(leaves: Sequence[_Leaf]) -> list[_Segment]:
    """Each run of consecutive geometric leaves is one segment (one warp); each pixel leaf too."""
    segments: list[_Segment] = []
    runs = itertools.groupby(
        range(len(leaves)), key=lambda i: isinstance(leaves[i].step.transform, GeometricTransform)
    )
    for geometric, run in runs:
        indices = tuple(run)
        if geometric:
            segments.append(_Segment(indices, geometric=True))
        else:
            segments.extend(_Segment((index,), geometric=False) for index in indices)
    return segments


def _check_image(image: Any, what: str, batch: bool = False) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ImageDtypeError(
            f"{what} must be a numpy array, got {type(image).__name__}; "
            "convert it with numpy.asarray(...)"
        )
    if image.dtype not in IMAGE_DTYPES:
        raise ImageDtypeError(
            f"{what} has dtype {image.dtype}; augcore handles uint8 and float32 "
            "(convert with .astype(np.float32) or to uint8 first)"
        )
    dims = (3, 4) if batch else (2, 3)
    if image.ndim not in dims or 0 in image.shape:
        layout = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
        raise ImageShapeError(f"{what} has shape {image.shape}; expected non-empty {layout}")
    return np.ascontiguousarray(image)


class Pipeline:
    """A chain of transform steps and groups plus the warp options its fused warps use."""

    def __init__(
        self,
        steps: Sequence[Any] = (),
        *,
        order: int = 0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
    ) -> None:
        self.steps: tuple[Node, ...] = tuple(
            as_node(step, f"pipeline step {i}") for i, step in enumerate(steps)
        )
        self.warp = WarpOptions(order=order, fill_mode=fill_mode, cval=cval)
        self._leaves = _flatten(self.steps)
        self._segments = _segments(self._leaves)

    # --- construction and config ----------------------------------------------------------
    @classmethod
    def from_config(
        cls, config: Mapping[str, Any] | str | Path, manager: PluginManager | None = None
    ) -> Pipeline:
        """From a dict or a .toml/.json file; names resolve through ``manager``.

        The default manager is a fresh one with the built-ins and installed entry points.
        """
        nodes, warp = parse_config(load_config(config), manager or PluginManager())
        return cls(nodes, order=warp.order, fill_mode=warp.fill_mode, cval=warp.cval)

    @classmethod
    def default(cls, manager: PluginManager | None = None) -> Pipeline:
        """The seed's chain (augcore/data/default.toml), Keras's settings in augcore's terms."""
        return cls.from_config(DEFAULT_CONFIG, manager or PluginManager(autoload=False))

    def to_config(self) -> dict[str, Any]:
        return chain_to_config(self.steps, self.warp)

    def __repr__(self) -> str:
        return f"Pipeline({list(self.steps)!r}, {self.warp})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and other.steps == self.steps and other.warp == self.warp

    __hash__ = None  # type: ignore[assignment]

    # --- augmenting -----------------------------------------------------------------------
    def augment(
        self, image: np.ndarray, *, seed: int, key: str, k: int = 0
    ) -> tuple[np.ndarray, Record]:
        """Output k of ``image`` (identified by ``key``) and its record."""
        image = _check_image(image, "image")
        seed = check_seed(seed)
        require_int("k", k, minimum=0, error=AugmentOptionError)
        roots = output_streams(seed, key_hashes([key]), np.array([k], np.uint64))
        outs, results, fused = self._run(image[None], roots, threads=1)
        records = Records(seed, [key], 1, self._leaves, results, self._segments, fused, int(k))
        return outs[0], records[0]

    def augment_batch(
        self,
        images: np.ndarray | Sequence[np.ndarray],
        *,
        seed: int,
        keys: Sequence[str] | None = None,
        variants: int = 1,
        threads: int = 1,
    ) -> tuple[np.ndarray, Records]:
        """``variants`` outputs of each image: ``outs[i * variants + k]`` is variant k of image i.

        ``keys`` (one stable string per image) default to "0", "1", ... - fine in a training
        loop, but pass real keys wherever outputs must be traceable. Results equal ``augment``
        for the same (seed, key, k), whatever the batch, its order or ``threads``.
        """
        batch, owned = self._stack(images)
        count = batch.shape[0]
        keys = list(map(str, range(count))) if keys is None else list(keys)
        if len(keys) != count:
            raise BatchLengthError(f"got {count} images but {len(keys)} keys; pass one key each")
        require_int("variants", variants, minimum=1, error=AugmentOptionError)
        require_int("threads", threads, minimum=1, error=AugmentOptionError)
        seed = check_seed(seed)
        hashes = np.repeat(key_hashes(keys), variants)
        roots = output_streams(seed, hashes, np.tile(np.arange(variants, dtype=np.uint64), count))
        if variants > 1:
            batch, owned = np.repeat(batch, variants, axis=0), True
        outs, results, fused = self._run(batch, roots, threads=threads, owned=owned)
        return outs, Records(seed, keys, variants, self._leaves, results, self._segments, fused)

    @staticmethod
    def _stack(images: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, bool]:
        """The images as one (N, H, W[, C]) array, and whether it is a new one (ours to write)."""
        if isinstance(images, np.ndarray):
            return _check_image(images, "images", batch=True), False
        if not isinstance(images, Sequence) or isinstance(images, (str, bytes)):
            raise ImageDtypeError(
                "images must be an (N, H, W[, C]) numpy array or a sequence of arrays, "
                f"got {type(images).__name__}"
            )
        images = list(images)
        if not images:
            raise ImageShapeError("images is empty; pass at least one image")
        checked = [_check_image(image, f"images[{i}]") for i, image in enumerate(images)]
        shapes = {(image.shape, image.dtype) for image in checked}
        if len(shapes) != 1:
            raise ImageShapeError(
                f"images must share one shape and dtype, got {sorted(map(str, shapes))}; "
                "resize them first or call augment per image"
            )
        return np.stack(checked), True

    def _run(
        self, images: np.ndarray, roots: np.ndarray, *, threads: int, owned: bool = False
    ) -> tuple[np.ndarray, list[_LeafResult], list[np.ndarray | None]]:
        """The whole batch, step by step: the outputs, each leaf's mask and parameters, and each
        segment's fused matrices (None for pixel steps). ``owned``: ``images`` may be modified
        in place.

        Caller-owned images are copied only when a step must write into them in place (a
        partial warp or pixel step); a warp over the whole batch writes a new array anyway.
        """
        shape: ImageShape = images.shape[1:]
        n = images.shape[0]
        masks = self._masks(roots)
        results = []
        for leaf in self._leaves:
            draws = Draws.for_step(roots, leaf.stream)
            params = leaf.step.transform.sample(draws, shape)
            _check_params(leaf, params, n)
            results.append(_LeafResult(masks[leaf.position], params))
        batch = _Batch(images, owned)
        fused: list[np.ndarray | None] = []
        for segment in self._segments:
            if segment.geometric:
                fused.append(self._warp_run(batch, segment, results, shape, threads))
            else:
                first = segment.leaves[0]
                self._apply_pixel(batch, self._leaves[first], results[first])
                fused.append(None)
        return batch.writable(), results, fused

    def _masks(self, roots: np.ndarray) -> list[np.ndarray]:
        """For every leaf (by position), which outputs it fires on."""
        masks: list[np.ndarray] = []
        everywhere = np.ones(roots.shape[0], dtype=bool)
        gate_streams = itertools.count(1, 2)  # member m: 2m + 1, in _flatten's order

        def visit(node: Node, parent: np.ndarray) -> None:
            draws = Draws.for_step(roots, next(gate_streams))
            mask = parent if node.p >= 1.0 else parent & draws.bernoulli(0, node.p)
            if isinstance(node, Step):
                masks.append(mask)
            elif isinstance(node, OneOf):
                weights = np.asarray(node.weights or [1.0] * len(node.steps))
                cumulative = np.cumsum(weights)
                edges = cumulative / cumulative[-1]
                edges[cumulative >= cumulative[-1]] = 1.0
                choice = np.searchsorted(edges, draws.uniform(1), side="right")
                for j, member in enumerate(node.steps):
                    visit(member, mask & (choice == j))
            else:
                low, high = node.n
                count = draws.integers(1, low, high)
                priorities = np.stack([draws.uniform(2 + j) for j in range(len(node.steps))], 1)
                ranks = np.argsort(np.argsort(priorities, axis=1), axis=1)
                for j, member in enumerate(node.steps):
                    visit(member, mask & (ranks[:, j] < count))

        for node in self.steps:
            visit(node, everywhere)
        return masks

    def _warp_run(
        self,
        batch: _Batch,
        segment: _Segment,
        results: Sequence[_LeafResult],
        shape: ImageShape,
        threads: int,
    ) -> np.ndarray:
        """Warp the outputs any of the run's steps fired on; their fused (n, 3, 3) matrices."""
        n = batch.array.shape[0]
        steps = []
        for index in segment.leaves:
            leaf, result = self._leaves[index], results[index]
            matrices = _checked_matrices(
                leaf, leaf.step.transform.matrices(n, result.params, shape), n
            )
            if not result.mask.all():  # outputs the step did not fire on get the identity
                matrices = np.where(result.mask[:, None, None], matrices, identity_matrices(1))
            steps.append(matrices)
        fused = reduce(compose, steps)
        fired = np.logical_or.reduce([results[index].mask for index in segment.leaves])
        options = self._warp_options()
        if fired.all():
            batch.replace(warp_affine_batch(batch.array, fused, threads=threads, **options))
        elif fired.any():
            which = np.flatnonzero(fired)
            warped = warp_affine_batch(batch.array[which], fused[which], threads=threads, **options)
            batch.writable()[which] = warped
        return fused

    def _warp_options(self) -> dict[str, Any]:
        return {"order": self.warp.order, "fill_mode": self.warp.fill_mode, "cval": self.warp.cval}

    def _apply_pixel(self, batch: _Batch, leaf: _Leaf, result: _LeafResult) -> None:
        which = np.flatnonzero(result.mask)
        if which.size == 0:
            return
        everywhere = which.size == batch.array.shape[0]
        subset = batch.array if everywhere else batch.array[which]
        params = result.params if everywhere else {k: v[which] for k, v in result.params.items()}
        changed = leaf.step.transform.apply(subset, params)
        if (
            not isinstance(changed, np.ndarray)
            or changed.shape != subset.shape
            or changed.dtype != subset.dtype
        ):
            got = f"{getattr(changed, 'shape', None)} {getattr(changed, 'dtype', type(changed))}"
            raise PluginContractError(
                f"{describe_transform(leaf.step.transform)}: apply() must return an array of shape "
                f"{subset.shape} and dtype {subset.dtype}, got {got}"
            )
        if everywhere:
            batch.replace(changed, owned=changed is not subset and changed.base is None)
        else:
            batch.writable()[which] = changed

    # --- replay ---------------------------------------------------------------------------
    def apply_record(self, image: np.ndarray, record: Record | Mapping[str, Any]) -> np.ndarray:
        """Re-apply a record's exact parameters to ``image``; nothing is drawn.

        ``record`` is a Record or its ``to_dict()`` form; it must come from this pipeline's
        chain (each step is matched by position and name). Records are read from files, so
        anything that does not fit the chain is a ManifestError naming the step: each step's
        params must have the names, dtypes and shapes its transform's ``sample`` gives.
        """
        if not isinstance(record, Record):
            record = Record.from_dict(record)
        image = _check_image(image, "image")
        shape: ImageShape = image.shape
        leaves = [self._leaf_for(entry) for entry in record.steps]
        params = [
            _decode_params(leaf, entry["params"], shape, f"record step {index} ({entry['name']!r})")
            for index, (leaf, entry) in enumerate(zip(leaves, record.steps, strict=True))
        ]
        runs = {run["steps"][0]: run["steps"] for run in record.fused}
        in_runs = {index for run in record.fused for index in run["steps"]}
        for index, (leaf, entry) in enumerate(zip(leaves, record.steps, strict=True)):
            geometric = isinstance(leaf.step.transform, GeometricTransform)
            if geometric != (index in in_runs):
                problem = "geometric but in no" if geometric else "a pixel step but in a"
                raise ManifestError(
                    f"record step {index} ({entry['name']!r}) is {problem} fused run"
                )
        batch = _Batch(image[None], owned=False)
        for index, leaf in enumerate(leaves):
            if index in runs:
                steps = [
                    _checked_matrices(
                        leaves[member],
                        leaves[member].step.transform.matrices(1, params[member], shape),
                        1,
                    )
                    for member in runs[index]
                ]
                fused = reduce(compose, steps)
                batch.replace(warp_affine_batch(batch.array, fused, **self._warp_options()))
            elif index not in in_runs:
                self._apply_pixel(batch, leaf, _LeafResult(np.ones(1, dtype=bool), params[index]))
        return batch.writable()[0]

    def _leaf_for(self, entry: Mapping[str, Any]) -> _Leaf:
        position = entry["step"]
        if not 0 <= position < len(self._leaves):
            raise ManifestError(
                f"record step {entry['name']!r} refers to transform #{position}, but this "
                f"pipeline has {len(self._leaves)}; replay with the pipeline that made it"
            )
        leaf = self._leaves[position]
        if leaf.step.transform.name != entry["name"]:
            raise ManifestError(
                f"record step #{position} is {entry['name']!r} but this pipeline has "
                f"{leaf.step.transform.name!r} there; replay with the pipeline that made the record"
            )
        return leaf


# The JSON kinds a recorded value may come back as, by the dtype ``sample`` gives it.
_DECODABLE_KINDS = {"f": "fi", "i": "i", "b": "b"}


def _decode_params(
    leaf: _Leaf, recorded: Mapping[str, Any], shape: ImageShape, where: str
) -> Params:
    """A record's JSON params back to length-1 arrays of the names, dtypes and shapes that the
    transform's ``sample`` gives for this image shape (learnt by sampling it once)."""
    expected = leaf.step.transform.sample(Draws(np.zeros(1, dtype=np.uint64)), shape)
    _check_params(leaf, expected, 1)
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


def _check_params(leaf: _Leaf, params: Any, n: int) -> None:
    """Sampled params must be arrays of length n with a dtype that round-trips through JSON."""
    if not isinstance(params, dict):
        raise PluginContractError(
            f"{describe_transform(leaf.step.transform)}: sample() must return a dict of arrays"
        )
    for key, value in params.items():
        if (
            not isinstance(value, np.ndarray)
            or value.ndim < 1
            or value.shape[0] != n
            or value.dtype not in RECORDABLE_DTYPES
        ):
            raise PluginContractError(
                f"{describe_transform(leaf.step.transform)}: sampled parameter "
                f"{key!r} must be a float64, int64 or bool array with first axis {n} (so it "
                f"survives the record's JSON round trip), got {value!r:.80}"
            )


def _checked_matrices(leaf: _Leaf, matrices: Any, n: int) -> np.ndarray:
    if (
        not isinstance(matrices, np.ndarray)
        or matrices.shape != (n, 3, 3)
        or matrices.dtype != np.float64
    ):
        raise PluginContractError(
            f"{describe_transform(leaf.step.transform)}: matrices() must return a float64 "
            f"array of shape ({n}, 3, 3), got {getattr(matrices, 'shape', type(matrices))}"
        )
    if matrices[:, 2, :2].any() or (matrices[:, 2, 2] != 1.0).any():
        raise PluginContractError(
            f"{describe_transform(leaf.step.transform)}: matrices() must be affine, "
            "every last row [0, 0, 1]"
        )
    return matrices
