"""Synthetic unit embeddings with planted topics (fast and exact)."""

from __future__ import annotations

import numpy as np
import pytest

from curate.select.distance import as_unit_rows

# Topics of very unequal sizes: the five smallest hold 0.6% of the rows together.
TOPIC_SIZES = (2000, 1000, 500, 250, 120, 8, 6, 5, 4, 3)


def topics(sizes=TOPIC_SIZES, *, dim: int = 48, noise: float = 0.25, seed: int = 0):
    """Rows around one random centre per topic; returns (X, topic of each row)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    topic = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(topic)
    X = centres[topic] + noise * rng.standard_normal((len(topic), dim))
    return as_unit_rows(X.astype(np.float32)), topic


@pytest.fixture(scope="session")
def planted():
    return topics()
