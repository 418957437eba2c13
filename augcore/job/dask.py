"""The Dask executor: the job's batches as tasks on a Dask distributed cluster.

``--executor dask [--scheduler ADDRESS]`` (``run(executor="dask", scheduler=...)``). The
cluster is the scheduler at ADDRESS, a ``distributed.Client`` the caller gives, or by default
a ``LocalCluster`` of ``--jobs`` single-threaded worker processes on this machine (loopback
only). ``distributed`` is imported only here, inside functions: it is the optional extra
``augcore[dask]``.

Rules (besides those of augcore.job.execute):

- a task is one batch of inputs, run by ``run_batch`` in a worker process, which rebuilds the
  pipeline once per process from the pickled ``JobSpec``: every worker needs augcore and the
  chain's plugins installed, and must see the sources and the output folder (a shared file
  system or an object store);
- a worker lost mid-task has its task rerun elsewhere by the scheduler: the rerun writes the
  same bytes under the same names (a rename or a put over an identical file), and the client,
  which alone appends manifest lines, records each output once;
- the client does not augment: it may be far from the data; so a task syncs the files it
  wrote to disk (augcore.safefile.sync_files) before returning, and the client appends their
  lines only then: a recorded output is complete after a power loss here too (an object
  store's put is durable when it returns);
- a batch that kept killing its workers ends the run with ExecutorError, after what finished
  is recorded.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import secrets
import time
from collections.abc import Iterator, Sequence
from typing import Any

from augcore.errors import ExecutorError, SchedulerUnreachableError
from augcore.job.execute import JobSpec, Task, TaskResult, run_batch
from augcore.safefile import sync_files
from augcore.storage import is_url

INSTALL_HINT = 'pip install "augcore[dask]"'
RECOUNT_SECONDS = 2.0


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(
            f"--executor dask needs Dask distributed, which is not installed; {INSTALL_HINT}"
        ) from None
    return distributed


def local_cluster(workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes (a batch
    keeps one core busy, as with ``--jobs``), on 127.0.0.1 only, without a dashboard."""
    return _distributed().LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # The scheduler's HTTP server (health, metrics) starts even without a dashboard, on
        # port 8787 unless told otherwise: any free loopback port, so two clusters never clash.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )


@contextlib.contextmanager
def dask_client(scheduler: Any, workers: int) -> Iterator[Any]:
    """A client of the cluster the run uses, for the length of the run.

    ``scheduler``: None (a new LocalCluster of ``workers`` processes, closed on exit), an
    address such as ``tcp://10.0.0.5:8786`` (connected within Dask's
    ``distributed.comm.timeouts.connect``), or a ``distributed.Client`` (left open on exit).

    Raises:
        ExecutorError: distributed is not installed, or the cluster has no workers.
        SchedulerUnreachableError: nothing answers at the address.
    """
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(local_cluster(workers))
            client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
        else:
            try:
                client = distributed.Client(str(scheduler), set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise SchedulerUnreachableError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one "
                    "(dask scheduler) or check the address; nothing was written"
                ) from None
            stack.enter_context(client)
        yield client


def run_durable_batch(spec: JobSpec, batch: Sequence[Task]) -> list[TaskResult]:
    """A cluster's task: ``run_batch``, then the files it wrote synced to disk, so the results
    the client records only name durable files."""
    results = run_batch(spec, batch)
    written = [rel for result in results for rel, _ in result.written]
    if written and not is_url(spec.out):
        sync_files(spec.out, written)
    return results


class _Batch:
    """A Dask future as ``run_in_order`` uses it, with a lost batch turned into ExecutorError."""

    def __init__(self, future: Any, distributed: Any) -> None:
        self.future = future
        self.killed = distributed.KilledWorker

    def done(self) -> bool:
        return bool(self.future.done())

    def cancel(self) -> bool:
        self.future.cancel()
        return True

    def cancelled(self) -> bool:
        return bool(self.future.cancelled())

    def result(self) -> list[TaskResult]:
        try:
            return self.future.result()
        except self.killed as exc:
            raise ExecutorError(
                f"a batch of inputs killed every Dask worker that ran it ({exc}); the outputs "
                "written so far are recorded; look at the workers' logs (memory limit?) and "
                "rerun to resume"
            ) from None


class DaskExecutor:
    """Runs the job's batches on the cluster behind ``client`` (augcore.job.execute.Executor).

    ``processes`` is the cluster's thread count, asked of the scheduler at most every
    RECOUNT_SECONDS, so an adaptive cluster that grows gets more batches in flight.
    """

    parent_works = False

    def __init__(self, client: Any, spec: JobSpec) -> None:
        self.client = client
        self.spec = spec
        self._distributed = _distributed()
        self._run = secrets.token_hex(4)  # task keys unique per run, readable on a dashboard
        self._numbers = itertools.count()
        self._threads = 1
        self._counted_at = -math.inf

    @property
    def processes(self) -> int:
        now = time.monotonic()
        if now - self._counted_at >= RECOUNT_SECONDS:  # asking the scheduler is a round trip
            self._threads = max(1, sum(self.client.nthreads().values()))
            self._counted_at = now
        return self._threads

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing to close: the client belongs to ``dask_client``; unfinished batches were
        cancelled by ``run_in_order``."""

    def ready(self) -> bool:
        return True

    def submit(self, batch: Sequence[Task]) -> _Batch:
        key = f"augcore-batch-{self._run}-{next(self._numbers)}"
        future = self.client.submit(run_durable_batch, self.spec, tuple(batch), key=key, pure=False)
        return _Batch(future, self._distributed)


def default_workers(jobs: int | None) -> int:
    """Worker processes of the default LocalCluster: ``--jobs``, else the CPU count."""
    return jobs or os.cpu_count() or 1
