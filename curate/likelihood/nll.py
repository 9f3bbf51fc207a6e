"""The mean negative log-likelihood of target tokens after context tokens, batched.

    mean_nll(lm, [(context_ids, target_ids), ...], batch_size=16) -> np.ndarray

Each item is one sequence ``context + target``; only the target's tokens are scored (the
first target token given the context, and so on). Identical items are scored once; the others
in batches of similar length (sorted by length, right-padded, at most ``batch_size`` sequences
and ``batch_tokens`` padded tokens each), so that little is spent on padding. The vocabulary
projection runs only on the positions that predict a target token (a prompt's positions need
none), in chunks, with the log-sum-exp in float32.

A sequence's score does not depend on its batch beyond floating-point rounding: the causal
mask keeps a row's real tokens from seeing its padding, and rows never see each other
(``tests/likelihood/test_nll.py`` checks alone against batched: perplexities within
1e-5 relative).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, Sequence

import numpy as np

Item = tuple[Sequence[int], Sequence[int]]


def mean_nll(lm, items: Sequence[Item], *, batch_size: int = 16, batch_tokens: int = 4096,
             progress: Callable[[int], None] | None = None, workers: int = 1) -> np.ndarray:
    """Mean NLL (nats per target token) of each item's target after its context; NaN for an
    item with no target token or no context token (the first token of a sequence has nothing
    to be predicted from). ``lm`` is a :class:`curate.likelihood.model.LanguageModel`."""
    per_token = token_nll(lm, items, batch_size=batch_size, batch_tokens=batch_tokens,
                          progress=progress, workers=workers)
    return np.array([np.nan if t is None else float(t.mean()) for t in per_token])


def token_nll(lm, items: Sequence[Item], *, batch_size: int = 16, batch_tokens: int = 4096,
              progress: Callable[[int], None] | None = None,
              workers: int = 1) -> list[np.ndarray | None]:
    """The NLL of each target token of each item (None where :func:`mean_nll` gives NaN).

    ``workers`` > 1 runs that many batches at once, each on one torch thread (torch's thread
    count is 1 for the call and restored after it). On a CPU this is as fast as one pass on
    that many threads when the cores are idle (a single batch runs on one thread), and far
    faster when other processes share them: torch's threads wait for each other at every
    operation, and a thread the system has paused holds up the rest (benchmarks/README.md:
    9x on 2 busy cores)."""
    out: list[np.ndarray | None] = [None] * len(items)
    unique: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = {}
    for i, (context, target) in enumerate(items):
        if len(context) and len(target):
            unique.setdefault((tuple(context), tuple(target)), []).append(i)
    keys = sorted(unique, key=lambda k: (len(k[0]) + len(k[1]), k))
    batches = _batches(keys, batch_size, batch_tokens)
    for batch, values in _run(lm, batches, workers):
        for key, value in zip(batch, values):
            for i in unique[key]:
                out[i] = value
        if progress is not None:
            progress(sum(len(unique[k]) for k in batch))
    return out


def _run(lm, batches: list[list], workers: int) -> Iterator[tuple[list, list[np.ndarray]]]:
    """``(batch, its per-token NLLs)`` in order, from ``workers`` single-threaded workers."""
    if workers <= 1 or not batches:
        for batch in batches:
            yield batch, lm.batch_token_nll(batch)
        return
    import torch

    from ..interrupts import quiet_thread  # startup

    lm.model()  # loaded once, before the workers share it
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(min(workers, len(batches)), initializer=quiet_thread) as pool:
            yield from zip(batches, pool.map(lm.batch_token_nll, batches))
    finally:
        torch.set_num_threads(threads)


def _batches(keys: list, batch_size: int, batch_tokens: int) -> list[list]:
    """Consecutive runs of the length-sorted ``keys``, each within both limits (a sequence
    longer than ``batch_tokens`` goes alone)."""
    out: list[list] = []
    for key in keys:
        n = len(key[0]) + len(key[1])
        last = out[-1] if out else None
        if last and len(last) < batch_size and n * (len(last) + 1) <= batch_tokens:
            last.append(key)
        else:
            out.append([key])
    return out
