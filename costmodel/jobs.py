"""The fits of one model as jobs, run in order here or on worker processes (one per core).

Each fit is seeded on its own, so a fit gives the same result wherever it runs. A job may take the
form of an earlier job's fit (energy reuses latency's form; generation extends the encoder's): it
starts once that fit is made, and takes None where that fit failed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context

from threadpoolctl import threadpool_limits

from costmodel.errors import FitError

# A fit's matrix products are small (rows by a dozen coefficients): one BLAS thread runs them. On a
# 2-core machine that other jobs share, OpenBLAS's threads wait on each other: a 50 x 150 by 150 x 81
# product took 15 ms with its default threads and 43 us with one.
BLAS_THREADS = 1
PARALLEL_ROWS = 300  # below this many rows, starting worker processes costs more than it saves


@dataclass(frozen=True)
class Job:
    """fn(rows, **kwargs, **{keyword: the form of job `needs[keyword]`'s fit, or None})."""

    fn: Callable
    rows: list[dict]
    kwargs: dict
    needs: dict[str, int] = field(default_factory=dict)


def run(jobs: list[Job], workers: int | None = None) -> list:
    """Each job's fit, or the FitError that stopped it, in the jobs' order. `workers`: processes to
    run them on (default: one per core this process may use, where the rows number PARALLEL_ROWS)."""
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        workers = cores if max((len(j.rows) for j in jobs), default=0) >= PARALLEL_ROWS else 1
    workers = min(workers, len(jobs))
    done: dict[int, object] = {}
    if workers <= 1:
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            for i, job in enumerate(jobs):
                done[i] = _call(job.fn, job.rows, _kwargs(job, done))
        return [done[i] for i in range(len(jobs))]
    pending: dict[Future, int] = {}
    waiting = list(range(len(jobs)))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_one_blas_thread) as pool:
        while waiting or pending:
            for i in [i for i in waiting if all(n in done for n in jobs[i].needs.values())]:
                waiting.remove(i)
                pending[pool.submit(_call, jobs[i].fn, jobs[i].rows, _kwargs(jobs[i], done))] = i
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                done[pending.pop(future)] = future.result()
    return [done[i] for i in range(len(jobs))]


def _kwargs(job: Job, done: dict[int, object]) -> dict:
    return {**job.kwargs, **{k: getattr(done[i], "form", None) for k, i in job.needs.items()}}


def _call(fn: Callable, rows: list[dict], kwargs: dict):
    try:
        return fn(rows, **kwargs)
    except FitError as e:
        return e


def _one_blas_thread() -> None:
    """Limit a worker's BLAS libraries, loading them first: a limit reaches only those loaded."""
    import costmodel.fit  # noqa: F401  (numpy and scipy, with their BLAS)

    threadpool_limits(limits=BLAS_THREADS, user_api="blas")
