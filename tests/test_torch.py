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


# --- PipelineTransform: a torchvision-v2-style transform ------------------------------------
from PIL import Image  # noqa: E402

from augcore.torch import PipelineTransform  # noqa: E402

CHW = torch.from_numpy(np.ascontiguousarray(np.moveaxis(IMAGES[0], -1, 0)))


def test_transform_augments_the_image_and_passes_the_label_through() -> None:
    transform = PipelineTransform(augcore.Pipeline.default(seed=2))
    out, label = transform(CHW, 7)
    record = transform.last_record
    expected, _ = transform.pipeline.augment(IMAGES[0], seed=2, key=record.key, k=record.k)
    assert label == 7 and out.dtype == torch.uint8 and out.shape == CHW.shape
    assert np.array_equal(out.permute(1, 2, 0).numpy(), expected)
    alone = transform(CHW)  # one input in, one output out
    assert isinstance(alone, torch.Tensor) and transform.last_record.k == record.k + 1


def test_v2_rules_pil_images_share_draws_and_plain_tensors_then_pass() -> None:
    flip = PipelineTransform(augcore.Pipeline([augcore.FlipHorizontal(p=0.5)], seed=0))
    image = Image.fromarray(IMAGES[1])
    mask = Image.fromarray(IMAGES[2, ..., 0])
    flips = set()
    for _ in range(20):
        sample = flip({"image": image, "mask": mask, "heat": CHW, "id": 3})
        assert sample["heat"] is CHW and sample["id"] == 3  # a PIL image is there: tensor passes
        flipped = np.array_equal(np.asarray(sample["image"]), np.flip(IMAGES[1], 1))
        mask_flipped = np.array_equal(np.asarray(sample["mask"]), np.flip(IMAGES[2, ..., 0], 1))
        assert flipped == mask_flipped  # one sample, one draw
        flips.add(flipped)
    assert flips == {True, False}


def _worker_outputs(seed: int) -> list[bytes]:
    class Faces(torch.utils.data.Dataset):
        def __init__(self) -> None:
            self.transform = PipelineTransform(augcore.Pipeline.default(seed=1))

        def __len__(self) -> int:
            return 8

        def __getitem__(self, index: int) -> torch.Tensor:
            return self.transform(CHW)  # the same image every time: only the draws differ

    torch.manual_seed(seed)
    loader = DataLoader(Faces(), batch_size=None, num_workers=2)
    return [out.numpy().tobytes() for out in loader]


def test_dataloader_workers_never_repeat_each_other_and_replay_with_torch_seed() -> None:
    outputs = _worker_outputs(seed=0)
    assert len(set(outputs)) == len(outputs) == 8
    assert _worker_outputs(seed=0) == outputs
    assert _worker_outputs(seed=1) != outputs


def test_inside_torchvision_v2_compose() -> None:
    pytest.importorskip("torchvision", reason="torchvision is optional and not installed")
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    pipeline = augcore.Pipeline.default(seed=5)
    compose = v2.Compose([PipelineTransform(pipeline), v2.ToDtype(torch.float32, scale=True)])
    image = tv_tensors.Image(CHW)
    out, label = compose(image, 4)
    assert isinstance(out, tv_tensors.Image) and out.dtype == torch.float32 and label == 4
    record = pipeline.last_record
    expected, _ = pipeline.augment(IMAGES[0], seed=5, key=record.key, k=record.k)
    as_bytes = (out.as_subclass(torch.Tensor) * 255).round().to(torch.uint8)  # ToDtype's scale
    assert torch.equal(as_bytes, torch.from_numpy(np.moveaxis(expected, -1, 0)))
    boxes = tv_tensors.BoundingBoxes([[0, 0, 4, 4]], format="XYXY", canvas_size=(12, 10))
    with pytest.raises(augcore.ImageShapeError, match="cannot move a BoundingBoxes"):
        compose(image, boxes)
