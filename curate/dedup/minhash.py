"""MinHash signatures of shingle buffers (rensa, in Rust) and their LSH band hashes."""

from __future__ import annotations

import itertools

import numpy as np

from .lsh import band_hashes

CHUNK = 16_384  # documents per signature batch: bounds the Python lists rensa hands back


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, *,
               seed: int = 42) -> np.ndarray:
    """MinHash signatures (n, num_perm) uint32 of the shingle rows ``hashes[offsets[i]:offsets[i+1]]``.

    rensa's ``RMinHash`` computes the whole batch from the flat buffer in one call; the
    signature values come back as row lists, flattened straight into one numpy array.
    """
    from rensa import RMinHash

    n = offsets.shape[0] - 1
    if n == 0:
        return np.zeros((0, num_perm), np.uint32)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(
        np.ascontiguousarray(hashes, np.uint64), offsets.astype(np.uint64), num_perm, seed)
    flat = np.fromiter(itertools.chain.from_iterable(matrix.to_rows()), np.uint32,
                       count=n * num_perm)
    return flat.reshape(n, num_perm)


def minhash_bands(hashes: np.ndarray, offsets: np.ndarray, *, bands: int, rows: int,
                  seed: int = 42, salt: np.ndarray | None = None) -> np.ndarray:
    """Band hashes (n, bands) uint64 of each shingle row, computed in batches of
    :data:`CHUNK` rows so that only one batch of signatures is in memory at a time."""
    n = offsets.shape[0] - 1
    out = np.empty((n, bands), np.uint64)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        off = offsets[start:stop + 1]
        sig = signatures(hashes[off[0]:off[-1]], off - off[0], bands * rows, seed=seed)
        out[start:stop] = band_hashes(sig, bands, rows,
                                      None if salt is None else salt[start:stop])
    return out
