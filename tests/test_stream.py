"""AugmentStream: what a training loop relies on.

Every batch must be exactly what ``Pipeline.augment`` gives for the identities its records
name; epochs must cover every image once per variant in a seeded order; the producer thread
must stay a bounded number of batches ahead and never outlive its iterator.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import augcore
from augcore import AugmentStream, ImageShapeError, StreamOptionError
from augcore.manager import PluginManager

SEED = 11
PREFETCH_THREAD = "augcore-stream-prefetch"


@pytest.fixture(scope="module")
def pipeline() -> augcore.Pipeline:
    return augcore.Pipeline.from_config(
        {
            "steps": [
                {"transform": "rotate", "degrees": 30},
                {"transform": "flip_horizontal", "p": 0.5},
                {"transform": "brightness", "p": 0.5},
            ]
        },
        PluginManager(autoload=False),
    )


def make_images(count: int, shape: tuple[int, ...] = (9, 14, 3)) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (count, *shape), dtype=np.uint8)


def prefetch_threads_alive() -> int:
    return sum(thread.name == PREFETCH_THREAD for thread in threading.enumerate())


class CountingImages:
    """A lazy source that counts reads, to see how far ahead the producer runs."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.reads = 0
        self.changed = threading.Condition()

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> np.ndarray:
        if index == self.fail_at:
            raise OSError(f"image {index} is unreadable")
        with self.changed:
            self.reads += 1
            self.changed.notify_all()
        return np.full((4, 5, 3), index % 256, dtype=np.uint8)

    def wait_for_reads(self, expected: int) -> None:
        with self.changed:
            reached = self.changed.wait_for(lambda: self.reads >= expected, timeout=30)
        assert reached, f"producer stopped at {self.reads} reads, expected {expected}"


def test_every_batch_is_what_augment_gives_for_its_records(pipeline: augcore.Pipeline) -> None:
    images = make_images(23)
    stream = AugmentStream(
        images, pipeline, seed=SEED, batch_size=5, epochs=2, per_image=2, prefetch=2
    )
    batches = list(stream)
    assert len(batches) == len(stream) == 2 * 5
    for batch in batches:
        assert len(batch.images) == len(batch.records) == len(batch.indices)
        for image, record, index in zip(batch.images, batch.records, batch.indices, strict=True):
            assert record.key == str(index)
            assert record.seed == stream.epoch_seed(batch.epoch)
            expected, expected_record = pipeline.augment(
                images[index], seed=record.seed, key=record.key, k=record.k
            )
            np.testing.assert_array_equal(image, expected)
            assert record.to_dict() == expected_record.to_dict()


def test_each_epoch_visits_every_image_once_per_variant(pipeline: augcore.Pipeline) -> None:
    stream = AugmentStream(
        make_images(23), pipeline, seed=SEED, batch_size=4, epochs=3, per_image=2
    )
    for epoch in range(3):
        batches = [batch for batch in stream if batch.epoch == epoch]
        assert [len(batch.images) for batch in batches] == [8] * 5 + [6]
        pairs = sorted(
            (int(index), record.k)
            for batch in batches
            for index, record in zip(batch.indices, batch.records, strict=True)
        )
        assert pairs == [(index, k) for index in range(23) for k in range(2)]


def test_epochs_get_their_own_order_and_fresh_augmentations(pipeline: augcore.Pipeline) -> None:
    images = make_images(40)
    stream = AugmentStream(images, pipeline, seed=SEED, batch_size=40, epochs=2, prefetch=0)
    first, second = list(stream)
    assert sorted(first.indices.tolist()) == sorted(second.indices.tolist()) == list(range(40))
    assert first.indices.tolist() != second.indices.tolist()
    assert first.records[0].seed == SEED != second.records[0].seed
    by_index = {int(i): image for i, image in zip(second.indices, second.images, strict=True)}
    changed = sum(
        not np.array_equal(image, by_index[int(i)])
        for i, image in zip(first.indices, first.images, strict=True)
    )
    assert changed >= 35


def test_epoch_zero_is_augment_batch_with_the_stream_seed(pipeline: augcore.Pipeline) -> None:
    images = make_images(12)
    (batch,) = AugmentStream(images, pipeline, seed=SEED, batch_size=12, shuffle=False)
    direct, _ = pipeline.augment_batch(images, seed=SEED, keys=[str(i) for i in range(12)])
    np.testing.assert_array_equal(batch.indices, np.arange(12))
    np.testing.assert_array_equal(batch.images, direct)


def test_same_options_give_bitwise_identical_streams(pipeline: augcore.Pipeline) -> None:
    images = make_images(30)

    def run(prefetch: int, threads: int) -> list[tuple[bytes, list[int], list[dict]]]:
        stream = AugmentStream(
            images,
            pipeline,
            seed=SEED,
            batch_size=7,
            epochs=2,
            prefetch=prefetch,
            threads=threads,
        )
        return [
            (b.images.tobytes(), b.indices.tolist(), [r.to_dict() for r in b.records])
            for b in stream
        ]

    reference = run(prefetch=0, threads=1)
    assert run(prefetch=0, threads=1) == reference
    assert run(prefetch=3, threads=1) == reference
    assert run(prefetch=1, threads=2) == reference


def test_shuffle_is_seeded_and_can_be_turned_off(pipeline: augcore.Pipeline) -> None:
    images = make_images(50)
    orders = {
        seed: AugmentStream(images, pipeline, seed=seed, batch_size=50).order(0).tolist()
        for seed in (1, 2)
    }
    assert orders[1] != orders[2]
    assert sorted(orders[1]) == list(range(50))
    again = AugmentStream(images, pipeline, seed=1, batch_size=50).order(0).tolist()
    assert again == orders[1]
    plain = AugmentStream(images, pipeline, seed=1, batch_size=50, shuffle=False)
    assert plain.order(0).tolist() == plain.order(3).tolist() == list(range(50))


def test_random_access_and_single_epoch_match_iteration(pipeline: augcore.Pipeline) -> None:
    stream = AugmentStream(make_images(17), pipeline, seed=SEED, batch_size=5, epochs=3)
    batches = list(stream)
    per_epoch = stream.batches_per_epoch
    assert per_epoch == 4
    picked = stream.batch(2, 1)
    expected = batches[2 * per_epoch + 1]
    np.testing.assert_array_equal(picked.images, expected.images)
    np.testing.assert_array_equal(picked.indices, expected.indices)
    epoch_one = list(stream.iterate(epoch=1))
    assert [b.indices.tolist() for b in epoch_one] == [
        b.indices.tolist() for b in batches[per_epoch : 2 * per_epoch]
    ]
    with pytest.raises(IndexError, match="an epoch has 4"):
        stream.batch(0, 4)


def test_drop_last_skips_the_short_batch(pipeline: augcore.Pipeline) -> None:
    stream = AugmentStream(make_images(23), pipeline, seed=SEED, batch_size=5, drop_last=True)
    sizes = [len(batch.images) for batch in stream]
    assert sizes == [5, 5, 5, 5]
    assert len(stream) == 4


def test_explicit_keys_are_the_identities(pipeline: augcore.Pipeline) -> None:
    images = make_images(6)
    keys = [f"train/{name}.png" for name in "abcdef"]
    (batch,) = AugmentStream(images, pipeline, seed=SEED, batch_size=6, keys=keys)
    assert [record.key for record in batch.records] == [keys[i] for i in batch.indices]
    expected, _ = pipeline.augment(images[batch.indices[0]], seed=SEED, key=keys[batch.indices[0]])
    np.testing.assert_array_equal(batch.images[0], expected)


def test_memmap_and_lazy_sequence_sources_equal_the_array(
    tmp_path, pipeline: augcore.Pipeline
) -> None:
    images = make_images(11)
    np.save(tmp_path / "images.npy", images)
    sources = {
        "array": images,
        "memmap": np.load(tmp_path / "images.npy", mmap_mode="r"),
        "list": list(images),
    }
    results = {
        name: [
            (batch.images.tobytes(), batch.indices.tolist())
            for batch in AugmentStream(source, pipeline, seed=SEED, batch_size=4, epochs=2)
        ]
        for name, source in sources.items()
    }
    assert results["memmap"] == results["array"] == results["list"]


def test_producer_stays_a_bounded_number_of_batches_ahead(pipeline: augcore.Pipeline) -> None:
    source = CountingImages(400)
    batch_size, prefetch = 4, 2
    batches = iter(
        AugmentStream(source, pipeline, seed=SEED, batch_size=batch_size, prefetch=prefetch)
    )
    next(batches)
    # One batch taken, `prefetch` waiting in the queue, one built and blocked on the full queue.
    bound = (1 + prefetch + 1) * batch_size
    source.wait_for_reads(bound)
    threading.Event().wait(0.3)  # room for an unbounded producer to overshoot, if it would
    assert source.reads == bound
    next(batches)
    source.wait_for_reads(bound + batch_size)
    batches.close()
    assert prefetch_threads_alive() == 0


def test_traced_memory_does_not_grow_with_the_number_of_batches(
    pipeline: augcore.Pipeline,
) -> None:
    """Ten times the batches (over more epochs of one source) must not raise the peak.

    Cyclic garbage is collected after every batch so that the peak measures what is still
    referenced, not when Python's cycle collector happens to run.
    """

    def peak_bytes(epochs: int) -> int:
        stream = AugmentStream(
            CountingImages(320), pipeline, seed=SEED, batch_size=32, epochs=epochs, prefetch=2
        )
        gc.freeze()  # collections then only walk objects made since, which keeps them cheap
        tracemalloc.start()
        try:
            for batch in stream:
                assert len(batch.records) == len(batch.images)
                gc.collect()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            gc.unfreeze()

    peak_bytes(1)  # one-off allocations (caches, first thread start) are not the footprint
    short, long = peak_bytes(2), peak_bytes(20)
    assert long <= short + 32 * 1024, (short, long)


def test_breaking_out_stops_the_producer(pipeline: augcore.Pipeline) -> None:
    stream = AugmentStream(make_images(200), pipeline, seed=SEED, batch_size=2, prefetch=3)
    batches = iter(stream)
    next(batches)
    assert prefetch_threads_alive() == 1
    batches.close()
    assert prefetch_threads_alive() == 0


def test_a_source_error_reaches_the_consumer(pipeline: augcore.Pipeline) -> None:
    stream = AugmentStream(
        CountingImages(20, fail_at=13), pipeline, seed=SEED, batch_size=4, shuffle=False
    )
    seen = []
    with pytest.raises(OSError, match="image 13 is unreadable"):
        for batch in stream:
            seen.extend(batch.indices.tolist())
    assert seen == list(range(12))
    assert prefetch_threads_alive() == 0


def save_png(path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_source_keys_by_relative_path_and_decodes_exactly(
    tmp_path, pipeline: augcore.Pipeline
) -> None:
    images = make_images(3, (10, 12, 3))
    save_png(tmp_path / "cats" / "x.png", images[0])
    save_png(tmp_path / "dogs" / "x.png", images[1])
    save_png(tmp_path / "top.png", images[2])
    (tmp_path / "notes.txt").write_text("not an image")
    stream = AugmentStream(tmp_path, pipeline, seed=SEED, batch_size=8, shuffle=False)
    assert [stream.key(i) for i in range(stream.num_images)] == [
        "cats/x.png",
        "dogs/x.png",
        "top.png",
    ]
    (batch,) = stream
    for position, record in enumerate(batch.records):
        expected, _ = pipeline.augment(images[position], seed=SEED, key=record.key, k=0)
        np.testing.assert_array_equal(batch.images[position], expected)


def test_folder_source_converts_modes_and_resizes(tmp_path, pipeline: augcore.Pipeline) -> None:
    save_png(tmp_path / "a.png", make_images(1, (10, 12, 3))[0])
    save_png(tmp_path / "b.png", make_images(1, (20, 7))[0])
    with pytest.raises(ImageShapeError, match=r"b\.png.*resize=\(height, width\)"):
        list(AugmentStream(tmp_path, pipeline, seed=SEED, shuffle=False))
    stream = AugmentStream(tmp_path, pipeline, seed=SEED, resize=(8, 6), shuffle=False)
    (batch,) = stream
    assert batch.images.shape == (2, 8, 6, 3)
    gray = AugmentStream(tmp_path, pipeline, seed=SEED, resize=(8, 6), mode="L")
    assert next(iter(gray)).images.shape == (2, 8, 6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"epochs": 1.5}, "epochs must be an integer >= 1"),
        ({"prefetch": -1}, "prefetch must be an integer >= 0"),
        ({"seed": -3}, "seed must be an integer >= 0"),
        ({"keys": ["a", "b"]}, "got 2 keys for 4 images"),
        ({"keys": ["a", "b", "a", "c"]}, "keys must be unique"),
        ({"resize": (4, 4)}, "resize= applies to folder sources only"),
        ({"drop_last": True, "batch_size": 5}, "would yield no batch"),
    ],
)
def test_bad_options_are_refused_up_front(
    options: dict, message: str, pipeline: augcore.Pipeline
) -> None:
    settings = {"seed": SEED, **options}
    with pytest.raises(StreamOptionError, match=message):
        AugmentStream(make_images(4), pipeline, **settings)


def test_bad_sources_are_refused_up_front(tmp_path, pipeline: augcore.Pipeline) -> None:
    with pytest.raises(StreamOptionError, match="is not an existing folder"):
        AugmentStream(tmp_path / "missing", pipeline, seed=SEED)
    with pytest.raises(StreamOptionError, match="holds no image files"):
        AugmentStream(tmp_path, pipeline, seed=SEED)
    with pytest.raises(ImageShapeError, match=r"got shape \(4, 5\)"):
        AugmentStream(np.zeros((4, 5), np.uint8), pipeline, seed=SEED)
    with pytest.raises(augcore.ImageDtypeError, match="must be uint8 or float32, not int64"):
        AugmentStream(np.zeros((4, 5, 5), np.int64), pipeline, seed=SEED)
    with pytest.raises(StreamOptionError, match="not int"):
        AugmentStream(7, pipeline, seed=SEED)
