"""Work run in this process, item after item or a few items at once on threads, or in a few
worker processes started for the call.

The ``map`` primitive of the local engine (:class:`curate.engines.local.LocalEngine` is built
on :class:`InProcess`), and what convert, export and a reference's index use when their caller
gives no engine: they need only ``map``, so they take it from here rather than from the engine
layer above them.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from .errors import CurateError
from .progress import bar

SIGN_THREADS = min(4, os.cpu_count() or 1)  # pieces signed at once by keyed work (GIL released)
# Python-bound work (rendering, row-by-row conversion) on large data runs in up to
# CURATE_PROCESSES worker processes. Spawned workers import the program's main module again,
# which only a program written for it survives (the curate command is, and sets the variable
# for its own run); a library caller opts in by setting it. Below PROCESS_MIN_ROWS rows
# (PROCESS_MIN_BYTES of input), starting the workers (each imports polars and the libraries
# the work needs, about two seconds) costs more than it saves.
PROCESSES_ENV = "CURATE_PROCESSES"
PROCESS_MIN_ROWS = 200_000
PROCESS_MIN_BYTES = 64 << 20
T = TypeVar("T")
R = TypeVar("R")


def default_processes() -> int:
    """What the curate command allows: one worker per core, at most four."""
    return min(4, os.cpu_count() or 1)


def processes_for(rows: int = 0, *, size: int = 0) -> int:
    """How many worker processes Python-bound work over ``rows`` rows (or ``size`` bytes of
    input files) should use: ``CURATE_PROCESSES`` (1 where unset) on large enough work."""
    value = os.environ.get(PROCESSES_ENV, "").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise CurateError(f"{PROCESSES_ENV} must be a whole number >= 1, not {value!r}")
    large = rows >= PROCESS_MIN_ROWS or size >= PROCESS_MIN_BYTES
    return int(value) if large else 1


class InProcess:
    """An engine's ``map`` in this process (see :class:`curate.engines.protocol.Engine`)."""

    name = "local"

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, desc: str,
            sizes: Sequence[int] | None = None, threads: int = 1,
            processes: int = 1) -> list[R]:
        """``fn`` of every item in order, with progress by ``sizes``; ``threads`` > 1 runs a
        few at once (for work that releases the GIL: polars, numpy, the MinHash code);
        ``processes`` > 1 runs them in that many worker processes (for Python-bound work;
        ``fn`` and the items must pickle, as for the Ray engine)."""
        sizes = list(sizes) if sizes is not None else [1] * len(items)
        out: list[R] = []
        with bar(total=sum(sizes), desc=desc) as progress:
            if len(items) <= 1 or (threads <= 1 and processes <= 1):
                for item, n in zip(items, sizes):
                    out.append(fn(item))
                    progress.update(n)
                return out
            pool = _pool(min(processes, len(items))) if processes > 1 else ThreadPoolExecutor(
                threads)
            try:
                for result, n in zip(pool.map(fn, items), sizes):
                    out.append(result)
                    progress.update(n)
            except BaseException:  # Ctrl-C or an error: the items not started are not run
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
        return out


def _pool(workers: int) -> Executor:
    import multiprocessing  # startup
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: this process may hold polars' and torch's threads, which fork does not
    # copy safely
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_quiet_worker)


def _quiet_worker() -> None:
    """Workers draw no progress bars of their own: the caller's bar counts their items."""
    os.environ["CURATE_PROGRESS"] = "0"
