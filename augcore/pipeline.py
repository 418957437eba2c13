"""Running a chain: sampling, fusion and the record of every output.

A batch of n outputs is processed step by step, never image by image: every transform samples
for all n outputs in one vectorised call; consecutive geometric steps are composed into one
(n, 3, 3) matrix per fused run (a step that did not fire contributes the identity) and warped
with one kernel call; pixel steps are applied to the outputs they fired on.

Which outputs a step fires on and which numbers it draws come from ``augcore.chain`` (the
chain walked once, each step's draw domains stored on it) and ``augcore.seeding``: an output's
draws depend only on its identity (seed, key, k) and the chain. Records are built by
``augcore.record``; what transforms hand back is checked by ``augcore.contract``.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np

from augcore._deprecation import renamed_attributes, renamed_keyword
from augcore.adapters import Layout, adapt
from augcore.calls import CallIdentities
from augcore.chain import ChainStep, CompiledChain, Leaf, Segment, as_step
from augcore.config import WarpOptions, chain_to_config, load_config, parse_config
from augcore.contract import checked_canvas, checked_matrices, checked_params
from augcore.errors import (
    AugmentOptionError,
    BatchLengthError,
)
from augcore.fusion import FusedWarp, fuse, plain_resize, warp_changed, warp_run
from augcore.manager import PluginManager
from augcore.one import augment_one
from augcore.pixels import apply_pixels, sample_shape
from augcore.record import Record, RecordSequence, Sampled
from augcore.seeding import (
    Draws,
    OneDraws,
    check_seed,
    key_hash,
    key_hashes,
    output_root,
    output_roots,
)
from augcore.targets.call import follow, targets_of
from augcore.targets.move import MovedTargets, TargetOptions
from augcore.transform import GeometricTransform, ImageShape, PixelTransform
from augcore.validation import check_image, require_int, stack_images

DEFAULT_CONFIG = Path(__file__).with_name("data") / "default.toml"


class _WorkingImages:
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


class Pipeline:
    """A chain of steps (transforms and groups) plus the options its fused warps use.

    Args:
        steps: the chain: ``Transform`` instances (each fires with its own p, default 1),
            ``Step(transform, p=...)``, ``OneOf`` and ``SomeOf`` groups (see ``augcore.chain``).
        order: interpolation of every warp, 0 (nearest) or 1 (bilinear).
        fill_mode: "nearest", "constant", "reflect" or "wrap", as in ``scipy.ndimage``.
        cval: the fill value for ``fill_mode="constant"``.
        targets: how boxes and masks passed to ``augment`` follow the image, unless a call
            passes its own ``target_options`` (config table ``targets``; docs/targets.md).
        seed: the seed of ``pipeline(image)``'s own identities (default: 64 random bits,
            drawn now; read it as ``pipeline.seed``). ``augment`` and ``augment_batch`` take
            theirs from the caller.

    Raises:
        ConfigError: a step that is not a transform, Step or group, or a bad warp option.

    Example:
        >>> import numpy as np, augcore
        >>> from augcore.plugins.geometric import FlipHorizontal, Rotate
        >>> from augcore.plugins.pixel import Brightness
        >>> pipeline = augcore.Pipeline(
        ...     [Rotate(degrees=30), augcore.Step(FlipHorizontal(), p=0.5), Brightness()],
        ...     order=1, fill_mode="reflect")
        >>> image = np.full((32, 48, 3), 100, np.uint8)
        >>> out, record = pipeline.augment(image, seed=0, key="cat.png", k=1)
        >>> out.shape, [step["name"] for step in record.steps]
        ((32, 48, 3), ['rotate', 'brightness'])

    The same (seed, key, k) always gives the same output and record, in any batch, order or
    process; ``apply_record`` replays a record without drawing anything.
    """

    def __init__(
        self,
        steps: Sequence[Any] = (),
        *,
        order: int = 0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        targets: TargetOptions | None = None,
        seed: int | None = None,
    ) -> None:
        self.targets = TargetOptions() if targets is None else targets
        self.steps: tuple[ChainStep, ...] = tuple(
            as_step(step, f"pipeline step {i}") for i, step in enumerate(steps)
        )
        self.warp = WarpOptions(order=order, fill_mode=fill_mode, cval=cval)
        self._chain = CompiledChain(self.steps)
        self._leaves = self._chain.leaves
        self._calls = CallIdentities(None if seed is None else check_seed(seed))
        self._set_up_runtime()

    def _set_up_runtime(self) -> None:
        """What a pipeline owns but never pickles: the last records, the thread pool, and the
        canvases it has worked out (by input shape)."""
        self._last = threading.local()  # each thread sees the record of its own last call
        self._shapes: dict[ImageShape, list[ImageShape]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_last", "_executor", "_executor_lock", "_shapes"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._set_up_runtime()

    # --- construction and config ----------------------------------------------------------
    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | str | Path,
        manager: PluginManager | None = None,
        *,
        seed: int | None = None,
    ) -> Pipeline:
        """From a dict or a .toml/.json file; names resolve through ``manager``.

        The default manager is a fresh one with the built-ins and installed entry points.
        """
        loaded = load_config(config)
        steps, warp = parse_config(loaded, manager or PluginManager())
        targets = TargetOptions.from_config(loaded.get("targets"))
        return cls(
            steps,
            order=warp.order,
            fill_mode=warp.fill_mode,
            cval=warp.cval,
            targets=targets,
            seed=seed,
        )

    @classmethod
    def default(cls, manager: PluginManager | None = None, *, seed: int | None = None) -> Pipeline:
        """The seed's chain (augcore/data/default.toml), Keras's settings in augcore's terms."""
        return cls.from_config(DEFAULT_CONFIG, manager or PluginManager(autoload=False), seed=seed)

    @property
    def seed(self) -> int:
        """The seed of ``pipeline(image)``'s identities (given, or drawn when made)."""
        return self._calls.seed

    def to_config(self) -> dict[str, Any]:
        """The chain and warp options as a config dict (``from_config`` reads it back equal)."""
        config = chain_to_config(self.steps, self.warp)
        if self.targets.to_config():  # only when set: configs and headers of others unchanged
            config["targets"] = self.targets.to_config()
        return config

    def __repr__(self) -> str:
        return f"Pipeline({list(self.steps)!r}, {self.warp})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and (other.steps, other.warp, other.targets) == (
            self.steps,
            self.warp,
            self.targets,
        )

    __hash__ = None  # type: ignore[assignment]

    # --- augmenting -----------------------------------------------------------------------
    def __call__(self, image: Any, *, layout: Layout | None = None) -> Any:
        """One augmented image with fresh draws, of the type it was given.

        ``image``: a numpy array (H, W) or (H, W, C), a PIL image (any mode ``read_image``
        accepts; returned in its mode) or a torch tensor (C, H, W) (torch is imported only
        then); ``layout="chw"`` for channels-first numpy (see ``augcore.adapters``).

        Call n (counted per process, per DataLoader worker) is the output
        ``(pipeline.seed, key, k)`` of ``augcore.calls``: in the process that made the
        pipeline, ``key="call"`` and ``k=n``, so it equals
        ``pipeline.augment(image, seed=pipeline.seed, key="call", k=n)``. Its record is
        ``pipeline.last_record`` (per thread). Same seed, same calls: same images.

        Example:
            >>> import numpy as np, augcore
            >>> pipeline = augcore.Pipeline([augcore.Rotate(degrees=30), augcore.Brightness()],
            ...                             seed=0)
            >>> out = pipeline(np.zeros((28, 28, 3), np.uint8))
            >>> pipeline.last_record.key, pipeline.last_record.k
            ('call', 0)
        """
        adapted = adapt(image, layout=layout)
        array = check_image(adapted.array, "image")
        out, self._last.record = self._augment_one(array, *self._calls.next())
        return adapted.restore(out)

    @property
    def last_record(self) -> Record | None:
        """The record of this thread's last ``pipeline(image)`` call (None before the first)."""
        record = getattr(self._last, "record", None)
        if callable(record):  # built on first read: most training loops never read it
            record = self._last.record = record()
        return record

    def augment(
        self,
        image: np.ndarray,
        *,
        seed: int,
        key: str,
        k: int = 0,
        boxes: Any = None,
        keypoints: Any = None,
        masks: Any = None,
        target_options: TargetOptions | None = None,
    ) -> tuple[np.ndarray, Record] | tuple[np.ndarray, Record, MovedTargets]:
        """Output ``k`` of ``image``, identified by ``key``, and its record.

        With ``boxes``, ``keypoints`` or ``masks`` (``augcore.Boxes``/``Keypoints``/``Masks``,
        or plain arrays), returns ``(out, record, moved)``: the targets moved by the same warps
        (docs/targets.md), filtered by ``target_options`` (default: the pipeline's ``targets``).

        Args:
            image: (H, W) or (H, W, C) uint8 or float32 array; it is never modified.
            seed: the run's seed, an integer in [0, 2**64).
            key: a stable string naming the source (e.g. its path relative to the dataset
                root); with ``seed`` and ``k`` it is the output's identity.
            k: the variant index, an integer >= 0.

        Returns:
            ``(out, record)``: the augmented image (same shape and dtype as ``image``) and the
            ``Record`` of what was applied (``record.to_dict()`` is its JSON form).

        Raises:
            ImageDtypeError: ``image`` is not a numpy array, or not uint8/float32.
            ImageShapeError: ``image`` is not 2-D or 3-D, or has an empty axis.
            AugmentOptionError: a bad ``seed``, ``key`` or ``k``.
            PluginContractError: a transform returned data that breaks the contract.

        Example:
            >>> import numpy as np, augcore
            >>> pipeline = augcore.Pipeline.default()
            >>> out, record = pipeline.augment(np.zeros((8, 8), np.uint8), seed=0, key="a.png")
            >>> (record.seed, record.key, record.k), record.steps[0]["name"]
            ((0, 'a.png', 0), 'rotate')
        """
        image = check_image(image, "image")
        seed = check_seed(seed)
        k = require_int("k", k, minimum=0, error=AugmentOptionError)
        targets = targets_of(1, boxes, keypoints, masks, batch=False)
        out, make_record = self._augment_one(image, seed, key, k)
        record = make_record()
        if targets is None:
            return out, record
        options = target_options or self.targets
        moved = follow(targets, [record], image.shape, 1, self.warp.fill_mode, options)
        return out, record, moved[0]

    def _augment_one(
        self, image: np.ndarray, seed: int, key: str, k: int
    ) -> tuple[np.ndarray, Callable[[], Record]]:
        """One output, bit for bit a batch of one, and what makes its record: on Python
        scalars where the chain keeps the canvas (``augcore.one``), else through the batch
        code with draws hashed on Python ints."""
        shapes = self._leaf_shapes(image.shape)
        if all(shape[:2] == image.shape[:2] for shape in shapes):
            done = augment_one(self._chain, self.warp, image, seed, key, k)
            if done is not None:
                return done[0], done[1].record
        root = output_root(seed, key_hash(key), k)
        outs, results, fused, canvases = self._run(image[None], root, threads=1)
        records = RecordSequence(
            seed, [key], 1, self._leaves, results, self._chain.segments, fused, k, canvases
        )
        return outs[0], functools.partial(records.__getitem__, 0)

    def augment_batch(
        self,
        images: np.ndarray | Sequence[np.ndarray],
        *,
        seed: int,
        keys: Sequence[str] | None = None,
        per_image: int | None = None,
        threads: int = 1,
        variants: int | None = None,
        boxes: Sequence[Any] | None = None,
        keypoints: Sequence[Any] | None = None,
        masks: Sequence[Any] | np.ndarray | None = None,
        target_options: TargetOptions | None = None,
    ) -> tuple[np.ndarray, RecordSequence] | tuple[np.ndarray, RecordSequence, list[MovedTargets]]:
        """``per_image`` outputs of each image, augmented together in vectorised steps.

        With ``boxes``, ``keypoints`` or ``masks`` (one entry per image), returns
        ``(outs, records, moved)``: ``moved[i]`` are output i's targets, equal bit for bit to
        what ``augment`` gives for that output (docs/targets.md).

        Output ``i * per_image + k`` is variant k of image i, and equals
        ``augment(images[i], seed=seed, key=keys[i], k=k)`` bit for bit, whatever the batch,
        its order or ``threads``.

        Args:
            images: an (N, H, W[, C]) uint8/float32 array, or a sequence of same-shape,
                same-dtype (H, W[, C]) arrays. Never modified.
            seed: the run's seed, an integer in [0, 2**64).
            keys: one stable string per image; default "0", "1", ... (fine in a training
                loop; pass real keys wherever outputs must be traceable).
            per_image: outputs per image, an integer >= 1 (default 1).
            threads: threads the warp kernel may use, >= 1.
            variants: deprecated name of ``per_image``.

        Returns:
            ``(outs, records)``: an (N * per_image, H, W[, C]) array of the input dtype, and a
            ``RecordSequence`` (a lazy ``Sequence[Record]``) of the same length.

        Raises:
            ImageDtypeError: ``images`` (or one of them) is not a numpy array of uint8/float32.
            ImageShapeError: wrong rank, an empty axis, no images, or mixed shapes/dtypes.
            BatchLengthError: ``keys`` does not have one key per image.
            AugmentOptionError: a bad ``seed``, ``per_image``, ``threads`` or key.
            PluginContractError: a transform returned data that breaks the contract.

        Example:
            >>> import numpy as np, augcore
            >>> pipeline = augcore.Pipeline.default()
            >>> images = np.zeros((2, 8, 8, 3), np.uint8)
            >>> outs, records = pipeline.augment_batch(
            ...     images, seed=0, keys=["cat.png", "dog.png"], per_image=3)
            >>> outs.shape, len(records), (records[4].key, records[4].k)
            ((6, 8, 8, 3), 6, ('dog.png', 1))
        """
        batch, owned = stack_images(images)
        count = batch.shape[0]
        keys = list(map(str, range(count))) if keys is None else list(keys)
        if len(keys) != count:
            raise BatchLengthError(f"got {count} images but {len(keys)} keys; pass one key each")
        per_image = renamed_keyword(
            "augment_batch", ("variants", variants), ("per_image", per_image), 1, AugmentOptionError
        )
        require_int("per_image", per_image, minimum=1, error=AugmentOptionError)
        require_int("threads", threads, minimum=1, error=AugmentOptionError)
        seed = check_seed(seed)
        hashes = np.repeat(key_hashes(keys), per_image)
        roots = output_roots(seed, hashes, np.tile(np.arange(per_image, dtype=np.uint64), count))
        targets = targets_of(count, boxes, keypoints, masks, batch=True)
        if per_image > 1:
            batch, owned = np.repeat(batch, per_image, axis=0), True
        outs, results, fused, canvases = self._run(batch, roots, threads=threads, owned=owned)
        records = RecordSequence(
            seed, keys, per_image, self._leaves, results, self._chain.segments, fused, 0, canvases
        )
        if targets is None:
            return outs, records
        options = target_options or self.targets
        moved = follow(
            targets, records, batch.shape[1:], per_image, self.warp.fill_mode, options, threads
        )
        return outs, records, moved

    def _run(
        self, images: np.ndarray, roots: np.ndarray | int, *, threads: int, owned: bool = False
    ) -> tuple[np.ndarray, list[Sampled], list[FusedWarp | None], list[list[int] | None]]:
        """The whole batch, step by step: the outputs, what each leaf sampled and where it
        fired, each segment's fused warp (None for pixel steps) and each leaf's new canvas
        (None where it kept the size). ``owned``: ``images`` may be modified in place.
        ``roots``: the batch's ``output_roots``, or one output's ``output_root`` (an int).

        Caller-owned images are copied only when a step must write into them in place (a
        partial warp or pixel step); a warp over the whole batch writes a new array anyway.
        """
        n = images.shape[0]
        shapes = self._leaf_shapes(images.shape[1:])
        fired = self._chain.fired(roots)
        results = []
        draws_type = OneDraws if isinstance(roots, int) else Draws
        for leaf in self._leaves:
            transform = leaf.step.transform
            draws = draws_type.for_domain(roots, leaf.param_domain)  # type: ignore[arg-type]
            params = transform.sample(draws, sample_shape(transform, shapes[leaf.position]))
            results.append(Sampled(fired[leaf.position], checked_params(transform, params, n)))
        working = _WorkingImages(images, owned)
        fused: list[FusedWarp | None] = []
        for segment in self._chain.segments:
            if segment.geometric:
                fused.append(self._warp_run(working, segment, results, shapes, threads))
            else:
                first = segment.leaves[0]
                self._apply_pixel(working, self._leaves[first], results[first])
                fused.append(None)
        canvases = [
            list(after[:2]) if after[:2] != before[:2] else None
            for before, after in itertools.pairwise(shapes)
        ]
        return working.writable(), results, fused, canvases

    def output_shape(self, shape: ImageShape) -> ImageShape:
        """The shape of every output made from an input of ``shape`` (canvas steps change it).

        Raises:
            CanvasError: a step cannot make its canvas from this shape (a crop larger than
                the image) or would exceed ``augcore.warp.MAX_OUTPUT_PIXELS``.

        Example:
            >>> import augcore
            >>> from augcore.plugins.canvas import Resize
            >>> augcore.Pipeline([Resize(longest=100)]).output_shape((300, 200, 3))
            (100, 67, 3)
        """
        return self._leaf_shapes(tuple(shape))[-1]

    def _leaf_shapes(self, shape: ImageShape) -> list[ImageShape]:
        """Each leaf's input shape, then the output's: canvases depend on shapes alone, so
        they are worked out once per input shape (one-image calls repeat the same shape)."""
        known = self._shapes.get(shape)
        if known is not None:
            return known
        shapes = [shape]
        for leaf in self._leaves:
            transform = leaf.step.transform
            if isinstance(transform, GeometricTransform):
                shape = checked_canvas(transform, transform.canvas(shape), shape)
            shapes.append(shape)
        self._shapes[shapes[0]] = shapes
        return shapes

    def _warp_run(
        self,
        batch: _WorkingImages,
        segment: Segment,
        results: Sequence[Sampled],
        shapes: Sequence[ImageShape],
        threads: int,
    ) -> FusedWarp:
        """Warp the outputs the run changes (all of them when it changes the canvas)."""
        n = batch.array.shape[0]
        per_leaf = []
        for index in segment.leaves:
            transform, result = self._leaves[index].step.transform, results[index]
            shape, canvas = shapes[index], shapes[index + 1]
            matrices = checked_matrices(transform, transform.matrices(n, result.params, shape), n)
            if not result.fired.all():  # outputs the step did not fire on: identity or resize
                unfired = plain_resize(1, shape, canvas)
                matrices = np.where(result.fired[:, None, None], matrices, unfired)
            per_leaf.append(matrices)
        first, last = shapes[segment.leaves[0]][:2], shapes[segment.leaves[-1] + 1][:2]
        canvases = [shapes[index + 1][:2] for index in segment.leaves]
        warp = fuse(per_leaf, last, resized=first != last)
        changed = np.logical_or.reduce([results[index].fired for index in segment.leaves])
        if warp.shape is not None or changed.all():
            batch.replace(self._warp_outputs(batch.array, warp, per_leaf, canvases, threads))
        elif changed.any() and not batch.owned and not warp.staged.any():
            options = {**self._warp_options(), "executor": self._pool(threads)}
            batch.replace(warp_changed(batch.array, warp, changed, options, threads))
        elif changed.any():
            which = np.flatnonzero(changed)
            subset = FusedWarp(warp.matrices[which], None, warp.reduce[which], warp.staged[which])
            per_output = [matrices[which] for matrices in per_leaf]
            warped = self._warp_outputs(batch.array[which], subset, per_output, canvases, threads)
            batch.writable()[which] = warped
        return warp

    def _warp_outputs(
        self,
        images: np.ndarray,
        warp: FusedWarp,
        per_leaf: Sequence[np.ndarray],
        canvases: Sequence[tuple[int, int]],
        threads: int,
    ) -> np.ndarray:
        options = {**self._warp_options(), "executor": self._pool(threads)}
        return warp_run(images, warp, per_leaf, canvases, options, threads)

    def _pool(self, threads: int) -> ThreadPoolExecutor | None:
        """This pipeline's thread pool for the kernel, made on first need and then reused
        (issue 16: a pool per call made two threads slower than one on small images)."""
        if threads <= 1:
            return None
        with self._executor_lock:
            pool = self._executor
            if pool is None or pool._max_workers < threads - 1:
                self._executor = ThreadPoolExecutor(threads - 1, thread_name_prefix="augcore")
                if pool is not None:
                    pool.shutdown(wait=False)
            return self._executor

    def _warp_options(self) -> dict[str, Any]:
        return {"order": self.warp.order, "fill_mode": self.warp.fill_mode, "cval": self.warp.cval}

    def _apply_pixel(self, batch: _WorkingImages, leaf: Leaf, result: Sampled) -> None:
        which = np.flatnonzero(result.fired)
        if which.size == 0:
            return
        everywhere = which.size == batch.array.shape[0]
        subset = batch.array if everywhere else batch.array[which]
        params = result.params if everywhere else {k: v[which] for k, v in result.params.items()}
        changed = apply_pixels(cast(PixelTransform, leaf.step.transform), subset, params)
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
        (``augcore.reapply`` does the work.)
        """
        from augcore.reapply import apply_record

        return apply_record(self, image, record)


__getattr__ = renamed_attributes(__name__, {"Records": ("RecordSequence", RecordSequence)})
