"""A dataset embedded piece by piece into a vector file, through the run's embedding cache
(the real all-MiniLM-L6-v2)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.embed import encode_texts, part_text
from curate.embed_cache import cache_folder
from curate.embed_store import TEXT, embed_source, read_columns
from curate.engines.local import LocalEngine
from curate.io.parts import write_parts

from .stages.conftest import Records
from .test_embed import TEXTS


def texts(batch: pl.DataFrame) -> pl.DataFrame:
    """The reply, null when blank, and its length."""
    text = part_text("response")
    return batch.select(pl.when(text.str.strip_chars().str.len_chars() > 0).then(text)
                        .alias(TEXT), text.str.len_chars().alias("chars"))


@pytest.fixture
def source(tmp_path):
    """11 rows in 3 part files: every text of TEXTS, two repeated (one across parts), two
    blank replies."""
    replies = [TEXTS[0], TEXTS[1], "  ", TEXTS[2], TEXTS[0], TEXTS[3], TEXTS[4], "",
               TEXTS[1], TEXTS[2], TEXTS[3]]
    rec = Records()
    df = rec.frame(*[rec.qa("Q?", r, id=f"r{i}") for i, r in enumerate(replies)])
    return write_parts(df, tmp_path / "in", rows=4), replies


def run(source, tmp_path, name: str, cache):
    return embed_source(LocalEngine(), source, texts, tmp_path / f"{name}.npy",
                        columns=read_columns(source.schema, part_text("response")),
                        model="all-MiniLM-L6-v2", cache_dir=cache, work=tmp_path / name,
                        rows=3)


def test_pieces_cache_and_copies(source, tmp_path, fp32_embeddings):
    parts, replies = source
    cache = tmp_path / "cache"
    first = run(parts, tmp_path, "a", cache)
    assert (first.texts, first.embedded, first.cached) == (9, 5, 0)  # each text once
    X = first.vectors.array()
    assert X.shape == (11, 384)
    assert not X[[2, 7]].any()  # blank replies: zero rows
    assert np.array_equal(X[4], X[0]) and np.array_equal(X[9], X[3])  # copies, bitwise
    alone = encode_texts(TEXTS)  # a single-turn reply is embedded as its content alone
    got = X[[0, 1, 3, 5, 6]]
    assert (got * alone).sum(axis=1).min() > 0.99999  # the same vectors, batched otherwise
    facts = first.facts.read()
    assert facts.columns == ["__row", "__key", "chars"]
    assert facts["__key"].null_count() == 2 and facts["chars"][7] == 0
    # pieces of 3 rows in parts of 4: rows 0-2, 3, 4-6, 7, 8-10; the first three embed
    assert len(list(cache_folder(cache, "all-MiniLM-L6-v2").iterdir())) == 3

    again = run(parts, tmp_path, "b", cache)  # a rerun embeds nothing
    assert (again.embedded, again.cached) == (0, 5)
    assert np.array_equal(again.vectors.array(), X)


def test_a_legacy_cache_file_is_read_and_extended(source, tmp_path, fp32_embeddings):
    parts, _ = source
    cache = tmp_path / "cache"
    folder = cache_folder(cache, "all-MiniLM-L6-v2")
    folder.parent.mkdir(parents=True)
    X = encode_texts([TEXTS[0]])
    from curate.embed_cache import text_key

    pl.DataFrame({"key": [text_key(TEXTS[0])], "vec": X}).write_parquet(folder)
    out = run(parts, tmp_path, "a", cache)
    assert (out.embedded, out.cached) == (4, 1)
    assert np.array_equal(out.vectors.array()[[0, 4]], np.repeat(X, 2, axis=0))
    assert folder.is_dir() and (folder / "part-legacy.parquet").is_file()
    assert pl.read_parquet(folder).height == 5
