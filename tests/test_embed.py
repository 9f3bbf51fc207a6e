from __future__ import annotations

import warnings

import numpy as np
import pytest

from curate import embed
from curate.errors import CurateError

from .conftest import FAQ_SAMPLE

TEXTS = [
    "Python is an interpreted, interactive, object-oriented programming language.",
    "Lists are mutable sequences; tuples cannot be changed after they are created.",
    "The global interpreter lock lets only one thread run Python bytecode at a time.",
    "Use a virtual environment so that each project has its own installed packages.",
    "A generator function yields values lazily instead of building a whole list.",
]


def test_fast_path_stays_within_cosine_0999_of_fp32(monkeypatch):
    faq = (FAQ_SAMPLE / "general.rst.txt").read_text(encoding="utf-8")
    texts = TEXTS + [p for p in faq.split("\n\n") if len(p) > 200][:20]
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "fp32")
    ref = embed.embed_texts(texts)
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "bf16")
    fast = embed.embed_texts(texts)
    assert fast.dtype == np.float32 and fast.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (ref * fast).sum(axis=1).min() >= 0.999


def test_precision_choice(monkeypatch):
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "FP32")
    assert embed.precision() == "fp32"
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "auto")
    assert embed.precision() in ("fp32", "bf16")
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "int4")
    with pytest.raises(CurateError, match="expected fp32, bf16 or auto"):
        embed.precision()


def test_load_is_quiet(capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warnings either
        st = embed.load_model.__wrapped__(embed.DEFAULT_MODEL)
        assert embed.dimension(st) == 384
    assert "Loading weights" not in capfd.readouterr().err


def test_cache_by_content(tmp_path):
    first = embed.embed_texts(TEXTS[:3], cache_dir=tmp_path)
    files = list((tmp_path / "embeddings").glob("*.parquet"))
    assert len(files) == 1
    again = embed.embed_texts([TEXTS[2], TEXTS[0], TEXTS[4]], cache_dir=tmp_path)
    assert np.array_equal(again[0], first[2]) and np.array_equal(again[1], first[0])
    import polars as pl

    assert pl.read_parquet(files[0]).height == 4
    assert embed.embed_texts([]).shape == (0, 384)
