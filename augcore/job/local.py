"""The local executor: a pool of worker processes on this machine (``--jobs J``).

Each process builds its worker once (pool initializer) from the run's ``JobSpec`` and ends when
the process that started it ends. Processes are forked where that is safe, else started from a
forkserver that preloads augcore and the modules the chain unpickles from. A process that dies
(the OOM killer, a signal) breaks the pool: its batches end with WorkerLostError, which the run
turns into a message saying how far it got.
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.connection
import os
import pickle
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from augcore.errors import WorkerLostError
from augcore.job.execute import JobSpec, Task, TaskResult, run_batch, worker_for
from augcore.safefile import become_worker


def start_worker(spec: JobSpec) -> None:
    """Pool initializer: build this process's worker, and end the process with its parent.

    Pool workers block on their task queue forever if the parent is killed (SIGKILL gives it
    no chance to shut the pool down), so a watcher thread exits when the parent's sentinel
    closes. A worker killed mid-write leaves only a hidden temporary file, swept on resume.
    """
    become_worker()
    worker_for(spec)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_with, args=(parent.sentinel,), name="augcore-parent-watch", daemon=True
        ).start()


def _exit_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])  # returns when the parent is gone
    os._exit(1)  # no cleanup to run: finished files are in place, unfinished ones are temporary


def fork_is_safe() -> bool:
    """True when this process has no thread a fork could leave holding a lock.

    Forking copies only the calling thread; a lock another thread held stays locked in the
    child. Safe means: no Python thread but this one (a tqdm monitor, a user's thread) and no
    more OS threads than numpy's BLAS pool can account for (BLAS re-creates its pool after a
    fork; a library with its own native threads, such as jax, shows up as more).
    """
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() != 1:
        return False
    try:
        os_threads = len(os.listdir("/proc/self/task"))
    except OSError:
        return False
    return os_threads <= (os.cpu_count() or 1)


class _ModuleRecorder(pickle.Unpickler):
    """Unpickles while noting the module of every class or function the pickle names."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module)
        return super().find_class(module, name)


def modules_of(pickled: bytes) -> list[str]:
    """The modules unpickling ``pickled`` needs (the chain's transforms, the pipeline...)."""
    recorder = _ModuleRecorder(pickled)
    recorder.load()
    return sorted(recorder.modules)


class LocalPool:
    """``processes`` worker processes for one run (none for ``--jobs 1``), started on entry.

    Each process builds its pipeline once from ``spec``. Where fork is safe the processes are
    forked at once (milliseconds). Otherwise a forkserver starts them, which first imports
    augcore (about half a second), so that happens in a helper thread and ``ready()`` tells
    when batches can go to the pool; the parent augments meanwhile.
    """

    parent_works = True

    def __init__(self, spec: JobSpec, processes: int) -> None:
        self.spec = spec
        self.processes = processes
        self._ready = threading.Event()
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        if not self.processes:
            return self
        fork = fork_is_safe()
        if fork:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
            if context.get_start_method() == "forkserver":
                # The server imports augcore and the chain's modules once (if it is not running
                # yet); workers forked from it then start without importing them again.
                context.set_forkserver_preload([__name__, *modules_of(self.spec.pipeline)])
        self._executor = ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=start_worker, initargs=(self.spec,)
        )
        if fork:
            self._start()  # before this process has any other thread
        else:
            threading.Thread(target=self._start, name="augcore-pool-start", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> None:
        assert self._executor is not None
        try:
            self._executor.submit(int)  # any task: the first submit starts the processes
        finally:
            self._ready.set()

    def ready(self) -> bool:
        return self._ready.is_set()

    def submit(self, batch: Sequence[Task]) -> _Batch:
        assert self._executor is not None
        try:
            return _Batch(self._executor.submit(run_batch, self.spec, batch))
        except BrokenProcessPool:
            raise WorkerLostError("a worker process of the pool died") from None


class _Batch:
    """A pool future as ``run_in_order`` uses it, with a broken pool turned into
    WorkerLostError."""

    def __init__(self, future: Future[list[TaskResult]]) -> None:
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def cancel(self) -> bool:
        return self.future.cancel()

    def cancelled(self) -> bool:
        return self.future.cancelled()

    def result(self) -> list[TaskResult]:
        try:
            return self.future.result()
        except BrokenProcessPool:
            raise WorkerLostError("a worker process of the pool died") from None
