"""Shared pieces of the adversarial suite (issue 12): each file tries one CLASS of attack.

The helpers of the main suite (tests/test_job.py) are reused, so tests/ is importable here.
``no_hang`` turns a call that would block forever (a FIFO opened for reading) into a failure.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Hung(Exception):
    """The call under test blocked for longer than the guard allows."""


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail (instead of blocking the suite) if the test runs longer than 20 s."""

    def interrupt(signum: int, frame: object) -> None:
        raise Hung("blocked for 20 s: something opened a FIFO or waited forever")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 20)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
