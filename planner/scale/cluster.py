"""Where mission-scale work runs: in this process, on a local Dask cluster, or on a mission's scheduler.

``run_chunks`` maps one function over chunks of work and hands the results back in the chunks' order,
whatever order the workers finish in, so the number of workers never changes a result.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from planner.errors import InputError

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int], None]  # (chunks done, chunks in all)


@dataclass(frozen=True)
class Cluster:
    """How to run: ``workers=0`` in this process; otherwise ``scheduler`` (an address) or a local cluster."""

    scheduler: str | None = None
    workers: int | None = None  # a local cluster's worker processes; default: one per core

    @property
    def in_process(self) -> bool:
        return self.scheduler is None and self.workers == 0


@contextmanager
def dask_client(cluster: Cluster) -> Iterator[Client | None]:
    """A client for ``cluster`` (None: in this process), closed on the way out, with the local cluster it
    started. Only loopback addresses are used for a local cluster: nothing listens beyond this machine."""
    if cluster.in_process:
        yield None
        return
    from distributed import Client, LocalCluster  # noqa: PLC0415 (only mission-scale work pays for Dask)

    if cluster.scheduler is not None:
        try:
            _answers(cluster.scheduler)  # a refused connection is said at once, not after the client's retries
            client = Client(cluster.scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError.single(
                "--scheduler",
                cluster.scheduler,
                f"no Dask scheduler answers there ({exc})",
                "start one with `dask scheduler` and its workers with `dask worker ADDRESS`, or leave out "
                "--scheduler to use a local cluster",
            ) from None
        with client:
            yield client
        return
    workers = cluster.workers or os.cpu_count() or 1
    local = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,  # the estimate is Python-heavy: processes, not threads, make it parallel
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    with local, Client(local) as client:
        yield client


def _answers(address: str) -> None:
    """Raise OSError when nothing listens at a ``tcp://host:port`` address (other protocols: the client says)."""
    from distributed.comm import parse_address, parse_host_port  # noqa: PLC0415

    protocol, location = parse_address(address)
    if protocol == "tcp":
        with socket.create_connection(parse_host_port(location), timeout=10):
            pass


def dashboard_link(client: Client | None) -> str | None:
    """Where Dask's own dashboard shows the work, when the cluster serves one."""
    if client is None:
        return None
    try:
        return str(client.dashboard_link)
    except (KeyError, AttributeError):  # a scheduler started without its dashboard
        return None


def each_chunk(
    func: Callable[..., R],
    chunks: Sequence[T],
    *,
    client: Client | None,
    progress: Progress | None = None,
    **shared: Any,
) -> Iterator[tuple[int, R]]:
    """``(i, func(chunks[i], **shared))`` for every chunk, as each is done: in order in this process, in the
    order the workers finish on a cluster. ``shared`` is sent to each worker once, not with every chunk, and
    each result is handed over and let go before the next, so the caller can write results as they come."""
    total = len(chunks)
    if progress is not None:
        progress(0, total)
    if client is None:
        for i, chunk in enumerate(chunks):
            yield i, func(chunk, **shared)
            if progress is not None:
                progress(i + 1, total)
        return
    from distributed import as_completed  # noqa: PLC0415

    sent = {key: client.scatter(value, broadcast=True) for key, value in shared.items()}
    # A few chunks ahead per worker thread, not all at once: results wait in the workers' memory until this
    # process takes them, so a slow writer would otherwise let every chunk's result pile up there
    ahead = max(4, 2 * sum(client.nthreads().values()))
    position: dict[Any, int] = {}
    finished = as_completed()
    for i in range(min(ahead, total)):
        future = client.submit(func, chunks[i], **sent, pure=False)
        position[future.key] = i
        finished.add(future)
    following = min(ahead, total)
    for done, future in enumerate(finished, start=1):
        result = future.result()
        index = position.pop(future.key)
        del future  # its result leaves the worker's memory
        if following < total:
            upcoming = client.submit(func, chunks[following], **sent, pure=False)
            position[upcoming.key] = following
            finished.add(upcoming)
            following += 1
        yield index, result
        if progress is not None:
            progress(done, total)


def run_chunks(
    func: Callable[..., R],
    chunks: Sequence[T],
    *,
    client: Client | None,
    progress: Progress | None = None,
    **shared: Any,
) -> list[R]:
    """``[func(chunk, **shared) for chunk in chunks]``, on the client's workers when there is one."""
    results: list[R | None] = [None] * len(chunks)
    for i, result in each_chunk(func, chunks, client=client, progress=progress, **shared):
        results[i] = result
    return results  # type: ignore[return-value]
