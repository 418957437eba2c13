"""Re-applying a record: its output from its recorded parameters, nothing drawn.

Records come from files, so everything in one is checked against the chain that is asked to
replay it: each applied step is matched by its transform position and name, its params by the
names, dtypes and shapes its transform's ``sample`` gives, and each fused run is rebuilt from
the chain's geometric runs exactly as ``Pipeline`` made it (canvas, box reduce as recorded,
two stages where the matrices need them; ``augcore.fusion``). Anything that does not fit is a
``ManifestError`` naming the step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from augcore.chain import Leaf, Segment
from augcore.contract import checked_matrices
from augcore.errors import ManifestError
from augcore.fusion import NO_REDUCE, FusedWarp, fuse, plain_resize
from augcore.pipeline import _WorkingImages
from augcore.pixels import sample_shape
from augcore.record import FusedRun, Record, Sampled, decode_params
from augcore.transform import GeometricTransform, ImageShape, Params
from augcore.validation import check_image

if TYPE_CHECKING:
    from augcore.pipeline import Pipeline


def apply_record(
    pipeline: Pipeline, image: np.ndarray, record: Record | Mapping[str, Any]
) -> np.ndarray:
    """``pipeline.apply_record(image, record)``: the record's output, nothing drawn."""
    if not isinstance(record, Record):
        record = Record.from_dict(record)
    image = check_image(image, "image")
    shapes = pipeline._leaf_shapes(image.shape)
    leaves = [_leaf_for(pipeline._leaves, entry) for entry in record.steps]
    params = {
        leaf.position: decode_params(
            leaf,
            entry["params"],
            sample_shape(leaf.step.transform, shapes[leaf.position]),
            f"record step {i} ({entry['name']!r})",
        )
        for i, (leaf, entry) in enumerate(zip(leaves, record.steps, strict=True))
    }
    _check_fused_membership(record, leaves)
    if [leaf.position for leaf in leaves] != sorted(params):
        raise ManifestError(
            "record steps are not in the chain's order (or one appears twice); replay "
            "with the pipeline that made the record"
        )
    applied = {leaf.position: index for index, leaf in enumerate(leaves)}
    runs = iter(record.fused)
    working = _WorkingImages(image[None], owned=False)
    for segment in pipeline._chain.segments:
        if segment.geometric:
            _replay_run(pipeline, working, segment, applied, params, shapes, runs)
        elif segment.leaves[0] in params:
            fired = Sampled(np.ones(1, dtype=bool), params[segment.leaves[0]])
            pipeline._apply_pixel(working, pipeline._leaves[segment.leaves[0]], fired)
    if next(runs, None) is not None:
        raise ManifestError("the record has more fused runs than its chain makes warps")
    return working.writable()[0]

def _replay_run(
    pipeline: Pipeline,
    working: _WorkingImages,
    segment: Segment,
    applied_index: Mapping[int, int],
    params: Mapping[int, Params],
    shapes: Sequence[ImageShape],
    runs: Iterator[FusedRun],
) -> None:
    """Redo one geometric run as ``_warp_run`` did, from the record's params and factors;
    ``applied_index`` maps a transform position to its index in the record's steps."""
    applied = [applied_index[p] for p in segment.leaves if p in applied_index]
    first, last = shapes[segment.leaves[0]][:2], shapes[segment.leaves[-1] + 1][:2]
    if not applied and first == last:
        return
    run = next(runs, None)
    shape = list(last) if first != last else None
    if run is None or run["steps"] != applied or run.get("shape") != shape:
        raise ManifestError(
            f"the record's warps do not match its chain: expected one fusing steps {applied}"
            + (f" onto a {shape[0]}x{shape[1]} canvas" if shape else "")
            + "; replay with the pipeline that made the record"
        )
    per_leaf = []
    for position in segment.leaves:
        transform, shape_in = pipeline._leaves[position].step.transform, shapes[position]
        if position in params:
            matrices = transform.matrices(1, params[position], shape_in)
            per_leaf.append(checked_matrices(transform, matrices, 1))
        else:
            per_leaf.append(plain_resize(1, shape_in, shapes[position + 1]))
    warp = fuse(per_leaf, last, resized=shape is not None)
    if bool(warp.staged[0]) != (run.get("stages", 1) == 2):
        raise ManifestError(
            f"the record's warp of steps {applied} says {run.get('stages', 1)} stage(s), but "
            "its matrices need the other; replay with the pipeline that made the record"
        )
    # Replay follows the record's box reduce (a record written before it existed has none).
    reduced = np.array([run.get("reduce", NO_REDUCE)], dtype=np.int64)
    warp = FusedWarp(warp.matrices, warp.shape, reduced, warp.staged)
    canvases = [shapes[position + 1][:2] for position in segment.leaves]
    working.replace(pipeline._warp_outputs(working.array, warp, per_leaf, canvases, threads=1))

def _leaf_for(leaves: Sequence[Leaf], entry: Mapping[str, Any]) -> Leaf:
    """The leaf an applied step names: on disk its "step" key is the transform position."""
    position = entry["step"]
    if not 0 <= position < len(leaves):
        raise ManifestError(
            f"record step {entry['name']!r} refers to transform #{position}, but this "
            f"pipeline has {len(leaves)}; replay with the pipeline that made it"
        )
    leaf = leaves[position]
    if leaf.step.transform.name != entry["name"]:
        raise ManifestError(
            f"record step #{position} is {entry['name']!r} but this pipeline has "
            f"{leaf.step.transform.name!r} there; replay with the pipeline that made the record"
        )
    return leaf


def _check_fused_membership(record: Record, leaves: Sequence[Leaf]) -> None:
    """Every applied geometric step sits in a fused run, and no pixel step does."""
    in_runs = {index for run in record.fused for index in run["steps"]}
    for index, (leaf, entry) in enumerate(zip(leaves, record.steps, strict=True)):
        geometric = isinstance(leaf.step.transform, GeometricTransform)
        if geometric != (index in in_runs):
            problem = "geometric but in no" if geometric else "a pixel step but in a"
            raise ManifestError(f"record step {index} ({entry['name']!r}) is {problem} fused run")
