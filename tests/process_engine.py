"""An engine whose ``map`` runs the items in other processes and finishes them in any order:
what a Ray engine does with picklable tasks on workers. The tests of streaming steps use it
to check that their tasks pickle and that the results do not depend on where they ran."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


class ProcessEngine:
    name = "processes"

    def map(self, fn, items, *, desc, sizes=None, threads=1, processes=1):  # in-process only
        # spawned, not forked: a fork of a process running polars' threads may hang
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(fn, item) for item in reversed(list(items))]
            return [f.result() for f in reversed(futures)]
