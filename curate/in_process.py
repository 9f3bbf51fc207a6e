"""Work run in this process, item after item or a few items at once on threads.

The ``map`` primitive of the local engine (:class:`curate.engines.local.LocalEngine` is built
on :class:`InProcess`), and what convert, export and a reference's index use when their caller
gives no engine: they need only ``map``, so they take it from here rather than from the engine
layer above them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from .progress import bar

SIGN_THREADS = min(4, os.cpu_count() or 1)  # pieces signed at once by keyed work (GIL released)
T = TypeVar("T")
R = TypeVar("R")


class InProcess:
    """An engine's ``map`` in this process (see :class:`curate.engines.protocol.Engine`)."""

    name = "local"

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, desc: str,
            sizes: Sequence[int] | None = None, threads: int = 1) -> list[R]:
        """``fn`` of every item in order, with progress by ``sizes``; ``threads`` > 1 runs a
        few at once (for work that releases the GIL: polars, numpy, the MinHash code)."""
        sizes = list(sizes) if sizes is not None else [1] * len(items)
        out: list[R] = []
        with bar(total=sum(sizes), desc=desc) as progress:
            if threads <= 1 or len(items) <= 1:
                for item, n in zip(items, sizes):
                    out.append(fn(item))
                    progress.update(n)
                return out
            pool = ThreadPoolExecutor(threads)
            try:
                for result, n in zip(pool.map(fn, items), sizes):
                    out.append(result)
                    progress.update(n)
            except BaseException:  # Ctrl-C or an error: the items not started are not run
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
        return out
