"""Independent per-factor fits on threads (``n_jobs`` of DCI and explicitness).

The classifiers of a metric's factors are independent, and numpy, scipy.sparse and sklearn's
solvers spend most of their time outside the GIL, so fitting them on threads uses the cores the
user allows without changing any value: each fit gets the inputs and seed it would get alone, and
results come back in the factors' order.  ``n_jobs=None`` means as many threads as torch uses
(``torch.get_num_threads()``, which follows ``OMP_NUM_THREADS``: a study trial given one CPU
fits one factor at a time); ``-1`` means every CPU of the process.  During the fits the BLAS
pools are held to one thread: these problems are too small to gain from BLAS threads, and
spinning BLAS threads slow the fits down on a loaded machine (``docs/metrics.rst``, "Speed
without changing a value").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def resolve_jobs(n_jobs: int | None) -> int:
    """Number of threads for ``n_jobs`` (module docstring): None, -1 or a positive int."""
    if n_jobs is None:
        import torch

        return max(1, torch.get_num_threads())
    if n_jobs == -1:
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be None, -1 or a positive int, got {n_jobs!r}")
    return n_jobs


def single_blas_thread() -> Any:
    """Context manager holding the BLAS pools to one thread (module docstring)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def map_threads(
    fn: Callable[[Any], T],
    items: Sequence[Any],
    n_jobs: int | None = None,
    cost: Sequence[float] | None = None,
) -> list[T]:
    """``[fn(item) for item in items]`` on up to ``n_jobs`` threads, in the items' order.

    ``cost`` (one number per item) starts the costliest items first, which shortens the wall time
    when items differ in size (a 40-class factor next to a 3-class one).
    """
    jobs = min(resolve_jobs(n_jobs), len(items))
    if jobs <= 1:
        with single_blas_thread():
            return [fn(item) for item in items]
    order = sorted(range(len(items)), key=lambda i: -cost[i]) if cost is not None else None
    with single_blas_thread(), ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {i: pool.submit(fn, items[i]) for i in (order or range(len(items)))}
        return [futures[i].result() for i in range(len(items))]
