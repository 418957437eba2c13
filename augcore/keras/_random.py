"""Where augcore.keras's random draws come from: Keras's global RNG, made local and per thread.

Keras draws every random value from the global numpy RNG, and a seeded iterator calls
``np.random.seed(seed + total_batches_seen)`` before each batch, so everything drawn while that
batch is built (the shuffle, each image's parameters, draws in a user's overridden
``get_random_transform`` or in ``random_rotation``...) comes from that reseeded stream.

Here the stream is a ``np.random.RandomState`` made for the batch, installed for the current
thread while the batch is built (``drawing_from``). Unseeded code reads ``current_rng``: the
batch's stream inside a batch, otherwise the caller's own default. The same seeds give Keras's
numbers, the global numpy RNG is never read or reseeded, and batches built in parallel threads
do not share a stream.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np


class BatchDraw(NamedTuple):
    """One batch's random stream, and which batch of its iterator's life it is."""

    rng: np.random.RandomState
    batch_number: int | None


_local = threading.local()
#: Draws made outside any batch by callers that own no stream (the legacy ``random_*``).
_module_rng = np.random.RandomState()


def current_draw() -> BatchDraw | None:
    """The batch being built in this thread, if any."""
    return getattr(_local, "draw", None)


def current_rng(default: np.random.RandomState | None = None) -> np.random.RandomState:
    """The stream to draw from now: the current batch's, else ``default``, else a module one."""
    draw = current_draw()
    if draw is not None:
        return draw.rng
    return _module_rng if default is None else default


def rng_for(
    seed: int | None, default: np.random.RandomState | None = None
) -> np.random.RandomState:
    """Keras's ``if seed is not None: np.random.seed(seed)``, as a stream of its own."""
    return current_rng(default) if seed is None else np.random.RandomState(seed)


@contextmanager
def drawing_from(rng: np.random.RandomState, batch_number: int | None = None) -> Iterator[None]:
    """Make ``rng`` this thread's stream while the block runs (nests, restores on exit)."""
    previous = current_draw()
    _local.draw = BatchDraw(rng, batch_number)
    try:
        yield
    finally:
        _local.draw = previous
