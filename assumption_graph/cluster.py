"""Work sent to a Dask distributed cluster: chunks of samples, and whole jobs.

:func:`connect` opens a :class:`Cluster` (``local:N`` starts a
``distributed.LocalCluster`` of N worker processes on this machine). A run
given a cluster sends each chunk of samples, the same chunks it runs locally,
to a worker as one task: the compiled program (plain arrays, small), the seed,
the chunk's first sample and count, and the chunk's ``given`` matrix when the
run loads inputs (made here, in order, exactly as a local run makes it). The
worker runs the kernel, loaded from its cache once per worker process, on one
thread and sends back the chunk's samples of the kept outputs, which go into
the run's array at the chunk's columns. Every sample is a function of the seed
and its index alone, so the numbers are bit-identical to a local run, whichever
worker ran which chunk, and when a worker dies and Dask runs its chunks again.

The samples come back whole because the summaries need them: percentiles and
rank correlations are taken over every sample of a kept output, and partial
summaries would not combine into the same numbers. :meth:`Cluster.map` runs
whole jobs instead (a portfolio's cases), yielding their results in order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from typing import Any

import numpy as np

from ._version import __version__
from .compile import Program, kernel
from .errors import RunError, shown
from .streams import seed_key

__all__ = ["ENV", "INSTALL", "Cluster", "connect", "address_from"]

ENV = "ASSUMPTION_GRAPH_DASK"  # the cluster's address when --dask is not given
INSTALL = "pip install 'assumption-graph[dask]'"
LOCAL = "local:"  # local:N starts N worker processes on this machine
CONNECT_SECONDS = 10.0  # how long to try to reach a scheduler, and to wait for a worker
_IN_FLIGHT_PER_THREAD = 3  # tasks submitted ahead per worker thread: keeps them busy,
# bounds the given matrices and results held at once
# Dask settings of the worker processes local:N starts. By default each worker samples its
# own stacks every 10 ms (for a dashboard local:N does not open) and each process checks its
# event loop every 20 ms and its memory every 100 ms: on a machine whose cores the workers
# share with this process that costs about a tenth of a core, idle or not, and the workers
# about 15 % more CPU per portfolio case than this process spends on it.
_LOCAL_SETTINGS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
}

Piece = tuple[int, int, np.ndarray | None]  # first sample, count, given matrix
_Task = tuple[Callable[..., Any], tuple[Any, ...], int]  # function, arguments, size


def address_from(option: str | None) -> str | None:
    """The cluster asked for: the ``--dask`` option, else ``ASSUMPTION_GRAPH_DASK``, else None."""
    return option or os.environ.get(ENV, "").strip() or None


def connect(address: str) -> Cluster:
    """A :class:`Cluster` at ``address`` (``tcp://host:8786``), or ``local:N`` worker processes.

    Missing dask, a bad address, a scheduler that cannot be reached, a cluster
    without workers, and workers running another version of assumption_graph are
    each a one-line :class:`RunError`, before anything runs.
    """
    try:
        import dask
        import distributed
    except ImportError:
        raise RunError("running on Dask needs dask and distributed", hint=INSTALL) from None
    local = None
    try:
        if address.startswith(LOCAL):
            with dask.config.set(_LOCAL_SETTINGS):  # kept by the nannies for every restart
                local = distributed.LocalCluster(
                    n_workers=_worker_count(address),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            client = distributed.Client(local)
        else:
            client = distributed.Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        if local is not None:
            local.close()
        raise RunError(
            f"cannot reach the Dask scheduler at {shown(address)}: {_first_line(error)}",
            hint="start one with 'dask scheduler' and workers with 'dask worker ADDRESS'",
        ) from None
    cluster = Cluster(client, local)
    try:
        cluster.check_workers()
    except BaseException:
        cluster.close()
        raise
    return cluster


def _worker_count(address: str) -> int:
    count = address.removeprefix(LOCAL)
    if not count.isdigit() or int(count) < 1:
        raise RunError(
            f"local Dask cluster needs a number of worker processes, got {shown(address)}",
            hint="e.g. --dask local:2",
        )
    return int(count)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _version() -> str:
    """This package's version where it runs: on a worker, what the worker has installed."""
    return __version__


class Cluster:
    """A Dask client the runs send their work to; closes the local cluster it started.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, client: Any, local: Any = None) -> None:
        self.client = client
        self._local = local

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client, and the local cluster if this one started it."""
        self.client.close()
        if self._local is not None:
            self._local.close()

    def threads(self) -> int:
        """How many tasks the workers run at once."""
        return max(1, sum(self.client.nthreads().values()))

    def check_workers(self) -> None:
        """Wait for a worker; refuse workers that run another version of this package."""
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            raise RunError(
                "the Dask cluster has no workers",
                hint="start some with 'dask worker ADDRESS'",
            ) from None
        try:
            versions = self.client.run(_version)
        except Exception as error:  # a worker that cannot import this package fails the call
            raise RunError(
                f"a Dask worker cannot run assumption_graph: {_first_line(error)}",
                hint="install assumption_graph (this version) on every worker",
            ) from None
        for worker, version in versions.items():
            if version != __version__:
                raise RunError(
                    f"Dask worker {worker} runs assumption_graph {version}, "
                    f"this machine {__version__}",
                    hint="install the same version on every worker",
                )

    def fill(
        self,
        program: Program,
        seed: int,
        pieces: Iterable[Piece],
        out: np.ndarray,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Run each piece's samples on a worker into ``out[:, start:start+count]``.

        ``pieces`` are made as they are needed (a few per worker thread ahead),
        so their given matrices are never all held at once.
        """
        starts: list[int] = []

        def tasks() -> Iterator[_Task]:
            for start, count, given in pieces:
                starts.append(start)
                yield _chunk, (program, seed, start, count, given), count

        with closing(self._completed(tasks(), progress)) as blocks:
            for index, block in blocks:
                out[:, starts[index] : starts[index] + block.shape[1]] = block

    def map(
        self,
        function: Callable[..., Any],
        jobs: Sequence[tuple[Any, ...]],
        sizes: Sequence[int],
        progress: Callable[[int], None] | None = None,
    ) -> Generator[Any, None, None]:
        """``function(*job)`` of each job on a worker, yielded in the order of ``jobs``.

        ``progress`` gets a job's size as it finishes, in whatever order they do.
        Close the iterator (``contextlib.closing``) to cancel the jobs not yet done.
        """
        tasks = ((function, job, size) for job, size in zip(jobs, sizes, strict=True))
        done: dict[int, Any] = {}
        following = 0
        with closing(self._completed(tasks, progress)) as results:
            for index, result in results:
                done[index] = result
                while following in done:
                    yield done.pop(following)
                    following += 1

    def _completed(
        self, tasks: Iterable[_Task], progress: Callable[[int], None] | None
    ) -> Generator[tuple[int, Any], None, None]:
        """(index, result) of each task as it finishes, a few per worker thread in flight.

        A failed task raises its error here; on any exception (Ctrl-C too) the
        tasks still pending are cancelled. A task whose worker dies is run again
        elsewhere by Dask's scheduler.
        """
        from distributed import as_completed

        pending = as_completed()
        running: dict[str, tuple[int, int, Any]] = {}  # key: index, size, future
        queue = enumerate(tasks)

        def submit() -> None:
            entry = next(queue, None)
            if entry is not None:
                index, (function, args, size) = entry
                future = self.client.submit(function, *args, pure=False)
                running[future.key] = (index, size, future)
                pending.add(future)

        try:
            for _ in range(_IN_FLIGHT_PER_THREAD * self.threads()):
                submit()
            for future in pending:
                index, size, _ = running.pop(future.key)
                result = future.result()
                future.release()
                if progress is not None:
                    progress(size)
                submit()
                yield index, result
        finally:
            if running:
                self.client.cancel([future for _, _, future in running.values()])


def _chunk(
    program: Program, seed: int, start: int, count: int, given: np.ndarray | None
) -> np.ndarray:
    """On a worker: samples ``start .. start+count-1`` of ``program``'s outputs (rows x count).

    The kernel is loaded from the worker's cache at its first chunk and kept for
    the rest (once per worker process); the chunk runs on one of its threads.
    """
    block = np.empty((len(program.outputs), count))
    kernel.execute(program, seed_key(seed), start, count, block, 1, given, column=0)
    return block
