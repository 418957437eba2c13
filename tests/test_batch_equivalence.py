"""The batch path is the per-image path: ``augment_batch`` == ``augment`` for every (seed, key, k).

Each chain below is chosen to exercise one way a vectorised batch can drift from the one-image
path: steps that fire on some outputs only (p < 1), weighted ``one_of`` and ``some_of`` groups,
pixel transforms between geometric runs (several fused warps per output), bilinear and constant
fill, grayscale/float images, and more than one thread.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from augcore.manager import PluginManager
from augcore.pipeline import Pipeline, Record

SEED = 20260
VARIANTS = 3
KEYS = ["cats/x.png", "dogs/x.png", "a", "b/c/d.jpg", "ünïcode.png", "", "0"]

CHAINS = {
    "seed_default": None,
    "p_below_one": {
        "steps": [
            {"transform": "rotate", "degrees": 30, "p": 0.5},
            {"transform": "shift", "x": 3, "y": [-2, 4], "unit": "pixels", "p": 0.3},
            {"transform": "zoom", "factor": [0.7, 1.3], "p": 0.6},
            {"transform": "flip_vertical", "p": 0.5},
        ]
    },
    "groups": {
        "steps": [
            {
                "one_of": [
                    {"transform": "rotate", "degrees": 90},
                    {"transform": "flip_horizontal"},
                    {"transform": "shear", "degrees": 20},
                ],
                "weights": [3, 1, 2],
                "p": 0.8,
            },
            {
                "some_of": [
                    {"transform": "brightness"},
                    {"transform": "contrast"},
                    {"transform": "channel_shift", "intensity": 30},
                    {"transform": "gaussian_noise"},
                ],
                "n": [0, 2],
            },
        ]
    },
    "several_geometric_runs": {
        "order": 1,
        "fill_mode": "constant",
        "cval": 17,
        "steps": [
            {"transform": "rotate", "degrees": 25},
            {"transform": "zoom", "factor": 0.2, "per_axis": True},
            {"transform": "brightness", "p": 0.7},
            {"transform": "shear", "degrees": 15, "p": 0.5},
            {"transform": "flip_horizontal", "p": 0.5},
            {"transform": "gaussian_noise", "p": 0.5},
            {"transform": "shift", "x": 0.1, "y": 0.1},
        ],
    },
}


def make_pipeline(name: str) -> Pipeline:
    config = CHAINS[name]
    if config is None:
        return Pipeline.default(PluginManager(autoload=False))
    return Pipeline.from_config(config, PluginManager(autoload=False))


def make_images(kind: str, count: int = len(KEYS)) -> np.ndarray:
    """Non-square images with structure in every channel, so a wrong warp shows."""
    rng = np.random.default_rng(7)
    if kind == "rgb_uint8":
        return rng.integers(0, 256, (count, 13, 19, 3), dtype=np.uint8)
    if kind == "gray_uint8":
        return rng.integers(0, 256, (count, 17, 11), dtype=np.uint8)
    return rng.uniform(0, 1, (count, 12, 9, 4)).astype(np.float32)


def per_image(pipeline: Pipeline, images: np.ndarray, keys: list[str], variants: int):
    pairs = [
        pipeline.augment(image, seed=SEED, key=key, k=k)
        for image, key in zip(images, keys, strict=True)
        for k in range(variants)
    ]
    return np.stack([out for out, _ in pairs]), [record.to_dict() for _, record in pairs]


@pytest.mark.parametrize("kind", ["rgb_uint8", "gray_uint8", "float32_rgba"])
@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_batch_equals_per_image_augment(chain: str, kind: str) -> None:
    pipeline = make_pipeline(chain)
    images = make_images(kind)
    outs, records = pipeline.augment_batch(images, seed=SEED, keys=KEYS, per_image=VARIANTS)
    expected_outs, expected_records = per_image(pipeline, images, KEYS, VARIANTS)

    assert outs.shape == (len(KEYS) * VARIANTS, *images.shape[1:])
    assert outs.dtype == images.dtype
    np.testing.assert_array_equal(outs, expected_outs)
    assert [record.to_dict() for record in records] == expected_records
    assert [(r["key"], r["k"], r["seed"]) for r in expected_records] == [
        (key, k, SEED) for key in KEYS for k in range(VARIANTS)
    ]


@pytest.mark.parametrize("chain", sorted(set(CHAINS) - {"seed_default"}))
def test_chains_really_vary_what_fires(chain: str) -> None:
    """Guards the equivalence test: with p < 1 and groups, outputs must differ in which steps
    fired, or a batch path that ignored the masks could still pass it."""
    pipeline = make_pipeline(chain)
    images = make_images("rgb_uint8", 64)
    _, records = pipeline.augment_batch(images, seed=SEED, per_image=2)
    fired = {tuple(step["name"] for step in record.steps) for record in records}
    assert len(fired) >= 4


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_two_threads_equal_one_bitwise(chain: str) -> None:
    pipeline = make_pipeline(chain)
    images = make_images("rgb_uint8", 48)
    keys = [f"img/{i}.png" for i in range(len(images))]
    one, one_records = pipeline.augment_batch(images, seed=SEED, keys=keys, per_image=2, threads=1)
    two, two_records = pipeline.augment_batch(images, seed=SEED, keys=keys, per_image=2, threads=2)
    assert one.tobytes() == two.tobytes()
    assert [r.to_dict() for r in one_records] == [r.to_dict() for r in two_records]


def test_uneven_thread_chunks_of_large_images_stay_bitwise_equal() -> None:
    """Three outputs over two threads: chunks of unequal size, each a large image."""
    pipeline = make_pipeline("several_geometric_runs")
    images = np.random.default_rng(3).integers(0, 256, (3, 301, 257, 3), dtype=np.uint8)
    one, _ = pipeline.augment_batch(images, seed=SEED, threads=1)
    two, _ = pipeline.augment_batch(images, seed=SEED, threads=2)
    assert one.tobytes() == two.tobytes()


def test_output_does_not_depend_on_batch_company_or_position() -> None:
    pipeline = make_pipeline("groups")
    images = make_images("rgb_uint8")
    whole, _ = pipeline.augment_batch(images, seed=SEED, keys=KEYS, per_image=VARIANTS)
    reverse = list(range(len(KEYS)))[::-1]
    reversed_outs, _ = pipeline.augment_batch(
        images[reverse], seed=SEED, keys=[KEYS[i] for i in reverse], per_image=VARIANTS
    )
    alone, _ = pipeline.augment_batch(images[2:3], seed=SEED, keys=[KEYS[2]], per_image=VARIANTS)
    per_source = whole.reshape(len(KEYS), VARIANTS, *images.shape[1:])
    np.testing.assert_array_equal(reversed_outs.reshape(per_source.shape), per_source[reverse])
    np.testing.assert_array_equal(alone, per_source[2])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(0, len(KEYS) - 1), min_size=1, max_size=12, unique=True),
    variants=st.integers(1, 3),
    threads=st.integers(1, 3),
    chain=st.sampled_from(sorted(CHAINS)),
)
def test_any_batch_composition_gives_each_identity_its_own_output(
    picks: list[int], variants: int, threads: int, chain: str
) -> None:
    """Whatever subset and order of images a batch holds, and however many threads run it,
    each (key, k) gets the output that key gets when augmented alone."""
    pipeline = make_pipeline(chain)
    images = make_images("rgb_uint8")
    keys = [KEYS[i] for i in picks]
    outs, records = pipeline.augment_batch(
        images[picks], seed=SEED, keys=keys, per_image=variants, threads=threads
    )
    expected_outs, expected_records = per_image(pipeline, images[picks], keys, variants)
    np.testing.assert_array_equal(outs, expected_outs)
    assert [record.to_dict() for record in records] == expected_records


def test_list_of_images_equals_stacked_array() -> None:
    pipeline = make_pipeline("p_below_one")
    images = make_images("gray_uint8")
    from_array, _ = pipeline.augment_batch(images, seed=SEED, keys=KEYS, per_image=2)
    from_list, _ = pipeline.augment_batch(list(images), seed=SEED, keys=KEYS, per_image=2)
    np.testing.assert_array_equal(from_list, from_array)


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_records_replay_to_the_same_pixels(chain: str) -> None:
    """A record round-tripped through its JSON form rebuilds its output exactly."""
    pipeline = make_pipeline(chain)
    images = make_images("rgb_uint8")
    outs, records = pipeline.augment_batch(images, seed=SEED, keys=KEYS, per_image=VARIANTS)
    for index, record in enumerate(records):
        replayed = pipeline.apply_record(
            images[index // VARIANTS], Record.from_dict(record.to_dict())
        )
        np.testing.assert_array_equal(replayed, outs[index])


def test_geometric_batch_matches_scipy_with_the_recorded_matrix() -> None:
    """Independent oracle: each output of a purely geometric chain is scipy's nearest-neighbour
    warp of its source by the fused matrix its record reports."""
    pipeline = make_pipeline("seed_default")
    images = make_images("rgb_uint8")
    outs, records = pipeline.augment_batch(images, seed=SEED, keys=KEYS, per_image=VARIANTS)
    for index, record in enumerate(records):
        (run,) = record.fused
        matrix = np.asarray(run["matrix"], dtype=np.float64)
        source = images[index // VARIANTS]
        expected = np.stack(
            [
                ndimage.affine_transform(source[..., channel], matrix, order=0, mode="nearest")
                for channel in range(source.shape[-1])
            ],
            axis=-1,
        )
        np.testing.assert_array_equal(outs[index], expected)


def test_a_partly_fired_warp_on_the_callers_batch_warps_slices_and_copies_the_rest() -> None:
    """Geometric steps with p < 1 on the caller's own batch (per_image 1, nothing copied
    first): runs of warped outputs, some box-reduced (zoom 0.2 shrinks by 5), and runs of
    untouched ones copied. Each output equals ``augment``, and the caller's array is unchanged."""
    steps = [
        {"transform": "flip_horizontal", "p": 0.5},
        {"transform": "zoom", "factor": [0.2, 0.25], "p": 0.4},
    ]
    pipeline = Pipeline.from_config({"steps": steps})
    images = np.random.default_rng(SEED).integers(0, 256, (16, 30, 41, 3), dtype=np.uint8)
    before = images.copy()
    outs, records = pipeline.augment_batch(images, seed=SEED)
    np.testing.assert_array_equal(images, before)
    for i, out in enumerate(outs):
        expected, _ = pipeline.augment(images[i], seed=SEED, key=str(i))
        np.testing.assert_array_equal(out, expected)
    fired = [{step["name"] for step in record.steps} for record in records]
    assert set() in fired and {"flip_horizontal"} in fired and any("zoom" in f for f in fired)
    untouched = [i for i, names in enumerate(fired) if not names]
    np.testing.assert_array_equal(outs[untouched], images[untouched])
