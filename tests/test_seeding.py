"""Counter-based randomness: pure functions of (seed, key, k, stream, draw)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import augcore
from augcore.seeding import (
    Draws,
    check_seed,
    key_hash,
    key_hashes,
    mix64,
    mix64_int,
    output_roots,
    standard_normal_field,
)


def _roots(seed: int, keys: list[str], ks: list[int]) -> np.ndarray:
    return output_roots(seed, key_hashes(keys), np.asarray(ks, dtype=np.uint64))


def test_mix64_matches_the_reference_splitmix64_on_python_ints() -> None:
    values = [0, 1, 2**63, 2**64 - 1, 0x0123456789ABCDEF]
    array = mix64(np.array(values, dtype=np.uint64))
    assert [int(v) for v in array] == [mix64_int(v) for v in values]
    # Published first output of splitmix64 seeded with 0 (Vigna's reference implementation).
    assert mix64_int(0) == 0xE220A8397B1DCDAF


def _reference_key_hash(key: str) -> int:
    """The documented definition, one key at a time, in Python ints."""
    points = [ord(char) for char in key] + [0] * (len(key) % 2)
    value = mix64_int(len(key) ^ 0x6B6579)
    for a, b in zip(points[::2], points[1::2], strict=True):
        value = mix64_int(value ^ (a << 32 | b))
    return value


def test_key_hashes_follow_their_definition_for_any_text() -> None:
    keys = ["", "x", "cats/ü.png", "a\0", "a", "日本/猫.jpg", "🐱" * 5, "dir/" * 40 + "long.png"]
    hashes = key_hashes(keys)
    assert [int(h) for h in hashes] == [_reference_key_hash(key) for key in keys]
    assert len(set(hashes.tolist())) == len(keys)  # "a" and "a\0" included
    assert key_hash("cats/ü.png") == _reference_key_hash("cats/ü.png")
    assert [key_hash(key) for key in keys] == hashes.tolist()  # alone == beside longer keys


def test_key_hashes_refuse_non_strings() -> None:
    with pytest.raises(TypeError, match="source keys must be str"):
        key_hashes(["a", 3])  # type: ignore[list-item]


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True, "1"])
def test_bad_seeds_are_refused(seed: object) -> None:
    with pytest.raises((TypeError, ValueError), match="seed"):
        check_seed(seed)  # type: ignore[arg-type]


def test_uniform_range_and_distribution() -> None:
    roots = _roots(0, [f"k{i}" for i in range(20000)], [0] * 20000)
    u = Draws.for_domain(roots, 0).uniform(0)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    # Different draws and different steps are different streams.
    assert not np.array_equal(u, Draws.for_domain(roots, 0).uniform(1))
    assert not np.array_equal(u, Draws.for_domain(roots, 1).uniform(0))


def test_probabilities_are_exact_at_zero_and_one() -> None:
    draws = Draws.for_domain(_roots(7, [f"k{i}" for i in range(5000)], [0] * 5000), 3)
    assert not draws.bernoulli(0, 0.0).any()
    assert draws.bernoulli(0, 1.0).all()
    assert abs(draws.bernoulli(0, 0.25).mean() - 0.25) < 0.03


def test_integers_cover_the_inclusive_range_uniformly() -> None:
    draws = Draws.for_domain(_roots(1, [f"k{i}" for i in range(6000)], [0] * 6000), 0)
    values = draws.integers(0, 2, 4)
    assert set(np.unique(values)) == {2, 3, 4}
    assert np.all(np.abs(np.bincount(values)[2:] / 6000 - 1 / 3) < 0.03)


def test_normal_field_is_standard_and_a_function_of_its_seed() -> None:
    seeds = np.array([11, 12], dtype=np.int64)
    field = standard_normal_field(seeds, 50000)
    assert field.dtype == np.float32
    assert abs(field.mean()) < 0.02 and abs(field.std() - 1) < 0.02
    np.testing.assert_array_equal(standard_normal_field(seeds[1:], 50000)[0], field[1])


def test_the_global_numpy_rng_is_never_touched() -> None:
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    pipeline = augcore.Pipeline.default()
    pipeline.augment_batch(np.zeros((3, 8, 9), np.uint8), seed=1, per_image=2)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


identities = st.lists(
    st.tuples(st.text(max_size=12), st.integers(0, 7)), min_size=1, max_size=12, unique=True
)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**64 - 1),
    batch=identities,
    order=st.randoms(use_true_random=False),
)
def test_an_outputs_draws_do_not_depend_on_its_batch(seed, batch, order) -> None:
    keys, ks = [key for key, _ in batch], [k for _, k in batch]
    together = Draws.for_domain(_roots(seed, keys, ks), 5)
    shuffled = list(range(len(batch)))
    order.shuffle(shuffled)
    in_other_order = Draws.for_domain(
        _roots(seed, [keys[i] for i in shuffled], [ks[i] for i in shuffled]), 5
    )
    for draw in (0, 1):
        values = together.uniform(draw)
        alone = [Draws.for_domain(_roots(seed, [key], [k]), 5).uniform(draw)[0] for key, k in batch]
        assert list(values) == alone
        assert list(in_other_order.uniform(draw)) == [values[i] for i in shuffled]
