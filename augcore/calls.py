"""Where ``pipeline(image)`` gets each call's identity: fresh randomness without repeats.

Every augcore output is a pure function of its identity (seed, key, k) (``augcore.seeding``).
``augment`` takes the identity from the caller; ``pipeline(image)`` takes the next one from the
pipeline's own ``CallIdentities``:

    seed = the pipeline's seed (given, or 64 random bits drawn when the pipeline is made)
    key  = "call"                       in the process that made the pipeline
           "call/torch-worker-{S}"      in a PyTorch DataLoader worker whose seed is S
           "call/process-{PID}"         in any other process the pipeline was copied into
    k    = 0, 1, 2, ... counting this pipeline's calls under that key

so ``pipeline(image)`` equals ``pipeline.augment(image, seed=seed, key=key, k=k)`` and the
record of each call says which identity it used.

Rules this keeps:
- Same seed, same sequence of calls, same outputs (in one process; and in DataLoader workers
  too when the run seeds torch, e.g. ``torch.manual_seed``, since worker seeds derive from it).
- Copies never repeat each other. A DataLoader copies the dataset (and its pipeline) into each
  worker, and, unless ``persistent_workers=True``, again every epoch: counters copied with it
  would replay the same draws in every worker and every epoch (the classic worker-seeding
  bug). torch gives each worker of each epoch its own seed (``get_worker_info().seed``: the
  epoch's base seed + the worker id), so the worker's key changes and its count restarts at 0.
  A copy in any other process (multiprocessing, spawn or fork) gets a key with its process id:
  never repeated, but not reproducible; give such workers pipelines of their own seeds (or use
  the keyed ``augment``) when they must be.
- torch is never imported here: only a process that has already imported it can be a
  DataLoader worker, so it is looked up in ``sys.modules``.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from typing import NamedTuple

from augcore.seeding import check_seed

CALL_KEY = "call"


class Identity(NamedTuple):
    """The (seed, key, k) an output is made from; see ``augcore.seeding``."""

    seed: int
    key: str
    k: int


class CallIdentities:
    """The identities of successive calls: ``next()`` gives (seed, key, k) with k counting up.

    Thread-safe: concurrent calls get distinct k (the counter is advanced under a lock).
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = secrets.randbits(64) if seed is None else check_seed(seed)
        self._pid = os.getpid()
        self._key = CALL_KEY
        self._count = 0
        self._lock = threading.Lock()

    def next(self) -> Identity:
        key = self._context_key()
        with self._lock:
            if key != self._key:  # a new worker or process: its own count from 0
                self._key, self._count = key, 0
            k = self._count
            self._count += 1
        return Identity(self.seed, key, k)

    def _context_key(self) -> str:
        torch = sys.modules.get("torch")
        if torch is not None:
            data = getattr(getattr(torch, "utils", None), "data", None)
            info = data.get_worker_info() if data is not None else None
            if info is not None:
                return f"{CALL_KEY}/torch-worker-{info.seed}"
        pid = os.getpid()
        return CALL_KEY if pid == self._pid else f"{CALL_KEY}/process-{pid}"

    # A lock cannot be pickled; DataLoader workers and process pools pickle pipelines.
    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
