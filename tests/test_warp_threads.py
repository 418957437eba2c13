"""Batch warps on a caller-owned executor: the same bytes as one thread, the pool reused."""

from __future__ import annotations

import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from warp_oracle import random_image, scipy_warp

import augcore


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that records the threads its jobs ran on."""

    def __init__(self, workers):
        super().__init__(max_workers=workers)
        self.threads = set()
        self.jobs = 0

    def submit(self, fn, /, *args, **kwargs):
        self.jobs += 1

        def recorded():
            self.threads.add(threading.get_ident())
            return fn(*args, **kwargs)

        return super().submit(recorded)


def batch_and_matrices(rng, count, side, projective):
    images = random_image(rng, (count, side, side + 3, 3), np.uint8)
    matrices = np.stack([np.eye(3)] * count)
    angles = rng.uniform(-np.pi, np.pi, size=count)
    matrices[:, 0, :2] = np.stack([np.cos(angles), -np.sin(angles)], axis=1) * 1.2
    matrices[:, 1, :2] = np.stack([np.sin(angles), np.cos(angles)], axis=1) * 1.2
    matrices[:, :2, 2] = rng.uniform(-3, side, size=(count, 2))
    if projective:
        matrices[:, 2, :2] = rng.uniform(-0.2, 0.2, size=(count, 2)) / side
    return images, matrices


@pytest.mark.parametrize("projective", [False, True], ids=["affine", "perspective"])
@pytest.mark.parametrize("order", [0, 1])
def test_an_owned_executor_gives_the_single_thread_bytes_and_stays_usable(order, projective):
    rng = np.random.default_rng(order)
    images, matrices = batch_and_matrices(rng, 11, 20, projective)
    warp = augcore.warp_perspective_batch if projective else augcore.warp_affine_batch
    options = dict(order=order, fill_mode="wrap", output_shape=(17, 25))
    expected = warp(images, matrices, **options)
    if order == 0 and not projective:
        oracle = scipy_warp(images[4], matrices[4], 0, "wrap", output_shape=(17, 25))
        np.testing.assert_array_equal(expected[4], oracle)
    with CountingExecutor(2) as pool:
        for threads in (2, 3, 7, 11, 40):  # more ranges than workers: they queue
            got = warp(images, matrices, threads=threads, executor=pool, **options)
            np.testing.assert_array_equal(got, expected)
        # Each call submits threads - 1 ranges (the caller warps the last), never a new pool.
        assert pool.jobs == 1 + 2 + 6 + 10 + 10
        assert threading.get_ident() not in pool.threads
        assert len(pool.threads) <= 2
        out = np.empty_like(expected)
        assert warp(images, matrices, threads=2, executor=pool, out=out, **options) is out
        np.testing.assert_array_equal(out, expected)


def test_threads_one_never_touches_the_executor():
    rng = np.random.default_rng(5)
    images, matrices = batch_and_matrices(rng, 4, 12, False)
    with CountingExecutor(1) as pool:
        augcore.warp_affine_batch(images, matrices, executor=pool)
        assert pool.jobs == 0


class NotAnExecutor:
    def submit(self, fn, *args):  # looks like one, but is not a concurrent.futures.Executor
        return fn(*args)


@pytest.mark.parametrize("executor", [NotAnExecutor(), "pool", 2], ids=["duck", "string", "number"])
def test_a_non_executor_is_refused(executor):
    with pytest.raises(augcore.WarpOptionError, match="executor"):
        augcore.warp_affine_batch(
            np.zeros((2, 4, 4), np.uint8), np.stack([np.eye(3)] * 2), threads=2, executor=executor
        )


def test_a_process_pool_is_refused_before_any_work():
    pool = ProcessPoolExecutor(max_workers=1)
    try:
        with pytest.raises(augcore.WarpOptionError, match="thread-based"):
            augcore.warp_perspective_batch(
                np.zeros((2, 4, 4), np.uint8), np.stack([np.eye(3)] * 2), executor=pool
            )
    finally:
        pool.shutdown()


def test_a_call_from_inside_the_executors_only_worker_cannot_deadlock():
    """The worker is busy running this very call: the caller takes its range back."""
    rng = np.random.default_rng(9)
    images, matrices = batch_and_matrices(rng, 6, 16, False)
    expected = augcore.warp_affine_batch(images, matrices)
    with ThreadPoolExecutor(max_workers=1) as pool:
        inner = pool.submit(
            lambda: augcore.warp_affine_batch(images, matrices, threads=2, executor=pool)
        )
        np.testing.assert_array_equal(inner.result(timeout=60), expected)


def test_a_failing_range_raises():
    class FailingExecutor(Executor):
        """Its jobs have already failed when submit returns."""

        def submit(self, fn, /, *args, **kwargs):
            future = Future()
            future.set_exception(RuntimeError("worker failed"))
            return future

    images, matrices = batch_and_matrices(np.random.default_rng(1), 4, 8, False)
    with pytest.raises(RuntimeError, match="worker failed"):
        augcore.warp_affine_batch(images, matrices, threads=2, executor=FailingExecutor())
