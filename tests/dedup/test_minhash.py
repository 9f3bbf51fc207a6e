import numpy as np
import polars as pl

from curate.dedup.minhash import minhash_bands, signatures
from curate.dedup.shingles import shingle_hashes

WORDS = [f"w{i}" for i in range(400)]


def _text(rng, n=120):
    return " ".join(rng.choice(WORDS, n))


def test_signature_agreement_estimates_jaccard():
    rng = np.random.default_rng(0)
    base = _text(rng).split()
    near = base[:]
    near[60] = "changed"                                  # 5 of 116 shingles differ
    texts = pl.Series([" ".join(base), " ".join(near), _text(rng)])
    hashes, off = shingle_hashes(texts, 5)
    sig = signatures(hashes, off, 256)
    assert sig.shape == (3, 256) and sig.dtype == np.uint32
    assert (sig[0] == sig[1]).mean() > 0.85
    assert (sig[0] == sig[2]).mean() < 0.05


def test_bands_in_chunks_equal_bands_at_once(monkeypatch):
    rng = np.random.default_rng(1)
    texts = pl.Series([_text(rng, 30) for _ in range(50)])
    hashes, off = shingle_hashes(texts, 3)
    whole = minhash_bands(hashes, off, bands=4, rows=8)
    monkeypatch.setattr("curate.dedup.minhash.CHUNK", 7)
    assert np.array_equal(minhash_bands(hashes, off, bands=4, rows=8), whole)
