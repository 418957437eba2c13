"""augcore.torch: the dataset of augmented batches and the torchvision-v2-style transform.

Runs on the torch extra's CPU wheel (CI installs it); torchvision, when installed, is used for
the Compose compatibility test only.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import augcore

torch = pytest.importorskip("torch", reason="the torch extra is not installed")
from torch.utils.data import DataLoader  # noqa: E402

from augcore.torch import AugmentedBatches  # noqa: E402

IMAGES = np.random.default_rng(3).integers(0, 256, (40, 12, 10, 3), dtype=np.uint8)
LABELS = np.arange(40) * 7


def _stream(**options: object) -> augcore.AugmentStream:
    return augcore.AugmentStream(IMAGES, seed=4, batch_size=6, **options)


def test_import_does_not_load_torch() -> None:
    code = "import sys, augcore, augcore.torch; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_batches_are_the_streams_as_nchw_tensors() -> None:
    stream = _stream()
    dataset = AugmentedBatches(stream, LABELS)
    dataset.set_epoch(2)
    got = list(DataLoader(dataset, batch_size=None))
    expected = list(stream.iterate(epoch=2))
    assert len(got) == len(dataset) == len(expected) == 7
    for (x, y), batch in zip(got, expected, strict=True):
        assert x.dtype == torch.float32 and x.shape == (len(batch.indices), 3, 12, 10)
        oracle = torch.from_numpy(batch.images.astype(np.float32) / 255).permute(0, 3, 1, 2)
        assert torch.allclose(x, oracle, rtol=0, atol=1e-7)
        assert y.tolist() == LABELS[batch.indices].tolist()


def test_workers_make_each_batch_once_in_the_streams_order() -> None:
    dataset = AugmentedBatches(_stream(), LABELS)
    alone = list(DataLoader(dataset, batch_size=None, num_workers=0))
    shared = list(DataLoader(dataset, batch_size=None, num_workers=2))
    assert len(shared) == len(alone)
    for (x0, y0), (x1, y1) in zip(alone, shared, strict=True):
        assert torch.equal(x0, x1) and torch.equal(y0, y1)


def test_without_labels_float_images_and_grey_images() -> None:
    grey = IMAGES[..., 0].astype(np.float32)
    stream = augcore.AugmentStream(grey, seed=1, batch_size=16)
    batches = list(AugmentedBatches(stream))
    assert [tuple(x.shape) for x in batches] == [(16, 1, 12, 10), (16, 1, 12, 10), (8, 1, 12, 10)]
    first = next(iter(stream.iterate(epoch=0)))
    assert torch.equal(batches[0][:, 0], torch.from_numpy(first.images))
