"""Running a generator in a background thread a bounded number of items ahead of its consumer.

Used by ``AugmentStream`` so the next batch is augmented while the training step runs (the warp
kernel releases the GIL). Memory is bounded: at most ``depth`` finished items wait in the queue
while one more is being made; the producer blocks until the consumer takes one. An exception
in the producer is re-raised in the consumer; closing the consumer stops and joins the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.05


class _ProducerFailed(NamedTuple):
    error: BaseException


_END = object()


def prefetched(produce: Callable[[], Iterator[T]], depth: int) -> Iterator[T]:
    """Runs ``produce`` in a thread at most ``depth`` items ahead of the consumer.

    The kernel releases the GIL, so the next batch is augmented while the training step runs.
    Closing the returned generator (or dropping it) stops and joins the thread.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not offer(item):
                    return
        except BaseException as error:
            offer(_ProducerFailed(error))
            return
        offer(_END)

    producer = threading.Thread(target=run, name="augcore-stream-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _ProducerFailed):
                raise item.error
            yield item
    finally:
        stop.set()
        producer.join()
