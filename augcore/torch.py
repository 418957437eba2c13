"""augcore in PyTorch: a torchvision-v2-style transform, and a dataset of augmented batches.

Needs the ``torch`` extra (``pip install "augcore[torch]"``); torch is imported only when one of
these is used, never by ``import augcore`` or ``import augcore.torch``. torchvision is optional.

- ``PipelineTransform(pipeline)``: a callable with torchvision v2's calling convention, for
  ``torchvision.transforms.v2.Compose`` or a ``Dataset.__getitem__``. It takes one sample, or
  several inputs (``transform(image, label)``), or any nesting of tuples, lists and dicts, and
  augments the images in it, as v2 chooses them: PIL images and ``tv_tensors.Image``; and, when
  there is neither, the first plain tensor. Everything else (labels, numpy arrays, strings)
  passes through unchanged. All images of one sample get the same draws (same identity).
  Randomness comes from the pipeline's own seeded identities, which are distinct in each
  DataLoader worker and epoch (``augcore.calls``), so ``num_workers > 0`` is safe.
  Targets that geometry must move (``tv_tensors.BoundingBoxes``, ``Mask``, ``KeyPoints``...) are
  refused rather than passed through unmoved.
- ``AugmentedBatches(stream, labels)``: the ``IterableDataset`` of docs/training-loops.md,
  yielding ``(images, labels)`` batches as NCHW tensors (uint8 sources as float32 in [0, 1])
  for ``DataLoader(dataset, batch_size=None)``. With ``num_workers=W`` worker w builds the
  batches ``w, w + W, ...`` of the epoch, which the DataLoader's round-robin puts back in the
  stream's order: each batch is made exactly once, whatever W.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from augcore.adapters import adapt
from augcore.errors import ImageShapeError

if TYPE_CHECKING:
    from augcore.pipeline import Pipeline, Record
    from augcore.stream import AugmentStream

# AugmentedBatches is built on first access (module __getattr__), so torch loads only then.
__all__ = ["AugmentedBatches", "PipelineTransform"]  # noqa: F822

_TV_TENSORS = "torchvision.tv_tensors"


def _require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "augcore.torch needs PyTorch: pip install 'augcore[torch]' (or any torch >= 2.1)"
        ) from exc
    return torch


class PipelineTransform:
    """Run an augcore pipeline as a torchvision v2 transform.

    Args:
        pipeline: an ``augcore.Pipeline`` (default: ``Pipeline.default()``).

    Example:
        >>> transform = PipelineTransform(augcore.Pipeline.default(seed=0))
        >>> image, label = transform(torch.zeros(3, 28, 28, dtype=torch.uint8), 7)
    """

    def __init__(self, pipeline: Pipeline | None = None) -> None:
        if pipeline is None:
            from augcore.pipeline import Pipeline

            pipeline = Pipeline.default()
        self.pipeline = pipeline

    def __call__(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        chosen = _images_in(sample)
        if not chosen:
            return sample
        record: list[Record] = []
        return _rebuild(sample, chosen, functools.partial(self._augment, record=record))

    def _augment(self, image: Any, record: list[Record]) -> Any:
        """The first image draws a fresh identity; later ones of the sample reuse it."""
        if not record:
            out = self.pipeline(image)
            record.append(self.pipeline.last_record)
            return out
        first = record[0]
        adapted = adapt(image)
        out, _ = self.pipeline.augment(adapted.array, seed=first.seed, key=first.key, k=first.k)
        return adapted.restore(out)

    @property
    def last_record(self) -> Record | None:
        """The record of the last image this transform's pipeline made (in this process)."""
        return self.pipeline.last_record

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.pipeline!r})"


def _kind(value: Any) -> str:
    """'pil', 'image' (tv_tensors.Image), 'target' (another tv_tensor), 'tensor' or 'other'."""
    bases = {(base.__module__, base.__qualname__) for base in type(value).__mro__}
    if ("PIL.Image", "Image") in bases:
        return "pil"
    if type(value).__module__.startswith(_TV_TENSORS):
        return "image" if type(value).__name__ == "Image" else "target"
    if ("torch", "Tensor") in bases:
        return "tensor"
    return "other"


def _leaves(sample: Any) -> Iterator[Any]:
    if isinstance(sample, Mapping):
        for value in sample.values():
            yield from _leaves(value)
    elif isinstance(sample, (tuple, list)):
        for value in sample:
            yield from _leaves(value)
    else:
        yield sample


def _images_in(sample: Any) -> set[int]:
    """ids of the leaves v2 would treat as images (see the module docstring)."""
    leaves = list(_leaves(sample))
    kinds = [_kind(leaf) for leaf in leaves]
    pairs = list(zip(leaves, kinds, strict=True))
    for leaf, kind in pairs:
        if kind == "target":
            raise ImageShapeError(
                f"augcore.torch cannot move a {type(leaf).__name__} yet (only images); "
                "augment images here and handle targets with their own transform"
            )
    images = [id(leaf) for leaf, kind in pairs if kind in ("pil", "image")]
    if images:
        return set(images)
    tensors = [id(leaf) for leaf, kind in pairs if kind == "tensor"]
    return set(tensors[:1])


def _rebuild(sample: Any, chosen: set[int], augment: Any) -> Any:
    if isinstance(sample, Mapping):
        return type(sample)({k: _rebuild(v, chosen, augment) for k, v in sample.items()})
    if isinstance(sample, (tuple, list)):
        return type(sample)(_rebuild(v, chosen, augment) for v in sample)
    return augment(sample) if id(sample) in chosen else sample


# --- the dataset of augmented batches -------------------------------------------------------
def _dataset_class() -> type:
    """The real class, built on first use so that torch is imported only then."""
    torch = _require_torch()

    class AugmentedBatches(torch.utils.data.IterableDataset):
        __doc__ = _DATASET_DOC

        def __init__(
            self, stream: AugmentStream, labels: np.ndarray | Sequence[Any] | None = None
        ) -> None:
            self.stream, self.labels, self.epoch = stream, labels, 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

        def __len__(self) -> int:
            return self.stream.batches_per_epoch

        def __iter__(self) -> Iterator[Any]:
            info = torch.utils.data.get_worker_info()
            first, step = (0, 1) if info is None else (info.id, info.num_workers)
            if step == 1:
                batches: Iterator[Any] = iter(self.stream.iterate(epoch=self.epoch))
            else:
                batches = (
                    self.stream.batch(self.epoch, index)
                    for index in range(first, self.stream.batches_per_epoch, step)
                )
            for batch in batches:
                images = torch.from_numpy(np.ascontiguousarray(batch.images))
                if images.ndim == 3:
                    images = images.unsqueeze(-1)
                images = images.permute(0, 3, 1, 2)
                if images.dtype == torch.uint8:
                    images = images.float().div_(255)
                if self.labels is None:
                    yield images
                else:
                    yield images, torch.as_tensor(np.asarray(self.labels)[batch.indices])

    AugmentedBatches.__module__ = __name__
    AugmentedBatches.__qualname__ = "AugmentedBatches"
    return AugmentedBatches


_DATASET_DOC = """Augmented (images, labels) batches of an ``AugmentStream`` as NCHW tensors.

    One epoch per iteration; call ``set_epoch(e)`` before each, as with ``DistributedSampler``.
    Use ``DataLoader(dataset, batch_size=None, num_workers=W)``: the stream already batches.
    Images: float32 in [0, 1] from uint8 sources, float32 unchanged otherwise; labels:
    ``torch.as_tensor(labels[batch.indices])``, or no labels (images only) when ``labels`` is None.
    """


def __getattr__(name: str) -> Any:
    if name == "AugmentedBatches":
        cls = _dataset_class()
        globals()[name] = cls  # later lookups (and pickle) find this same class
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
