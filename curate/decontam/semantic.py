"""Paraphrased benchmark items: each record prompt's nearest benchmark prompt by cosine.

    nearest(records, bench) -> (best cosine per record, index of its benchmark prompt)

Embeddings are L2-normalised, so the cosine is a dot product; records are compared with every
benchmark prompt in blocks of rows (memory: ``BLOCK`` x benchmark prompts floats).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..messages import prompt_messages

BLOCK = 4096


def nearest(records: np.ndarray, bench: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each record row, the largest cosine with a benchmark row and that row's index
    (-1 and -inf when there is no benchmark row)."""
    n = records.shape[0]
    best = np.full(n, -np.inf, np.float32)
    which = np.full(n, -1, np.int64)
    if bench.shape[0] == 0:
        return best, which
    for start in range(0, n, BLOCK):
        sims = records[start:start + BLOCK] @ bench.T
        which[start:start + BLOCK] = sims.argmax(axis=1)
        best[start:start + BLOCK] = sims[np.arange(sims.shape[0]), which[start:start + BLOCK]]
    return best, which


def user_text() -> pl.Expr:
    """A record's prompt as the text of its user turns (system turns left out: a shared
    system prompt would make every record look alike); "" when it has none."""
    return prompt_messages().list.eval(
        pl.element().filter(pl.element().struct.field("role") == "user")
        .struct.field("content")).list.join("\n").fill_null("")


def user_prompts(df: pl.DataFrame) -> list[str]:
    """:func:`user_text` of each record of ``df``."""
    return df.select(user_text().alias("t"))["t"].to_list()
