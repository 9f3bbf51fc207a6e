"""The one place that loads and runs the sentence-transformers model.

Embeddings are L2-normalised float32 rows. Each text's embedding is cached by content hash
(per model) under the run's cache folder (:mod:`curate.embed_cache`), so semantic dedup and
diversity sampling in one run embed a text once. A dataset is embedded piece by piece into a
vector file on disk by :func:`curate.embed_store.embed_source`.

Speed: texts are encoded in batches of similar length, under bfloat16 autocast where the CPU
computes bfloat16 natively (AVX512-BF16 / AMX): about 3.8x the float32 path for
all-MiniLM-L6-v2 on such a machine, with every embedding within cosine 0.9999 of float32
(``tests/test_embed.py`` checks >= 0.999; ``benchmarks/dedup.py --embed`` measures both).
``CURATE_EMBED_PRECISION=fp32|bf16|auto`` (default ``auto``) forces a path. The path taken is
part of the embedding cache's key and of the fingerprint of every stage that embeds (and in its
manifest stats), so that a run resumed on a machine with the other path embeds again instead of
mixing vectors of both.

    embed_texts(texts, model=DEFAULT_MODEL, cache_dir=None) -> np.ndarray (n, dim)
    embed_frame(df, on="conversation", model=..., cache_dir=None) -> np.ndarray
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from .embed_cache import add as add_to_cache
from .embed_cache import cache_folder, lookup, text_key
from .embed_model import DEFAULT_MODEL, TEXT_FORM, precision, resolve_model
from .errors import CurateError
from .progress import bar
from .messages import MESSAGE_PARTS, message_text

@lru_cache(maxsize=2)
def load_model(name: str = DEFAULT_MODEL, device: str | None = None):
    """The SentenceTransformer for ``name`` (loaded once per process)."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - a dependency of curate
        raise CurateError(f"sentence-transformers is not installed: {exc}") from None
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar on every load
    try:
        return SentenceTransformer(resolve_model(name), device=device or "cpu")
    except (OSError, ValueError) as exc:
        raise CurateError(f"cannot load embedding model {name!r}: {exc}") from None
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


def dimension(st) -> int:
    """The embedding size of a loaded model (under either name sentence-transformers used)."""
    get = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    return int(get())


def _autocast(path: str | None = None):
    if (path or precision()) != "bf16":
        return nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)


def encode_texts(texts: list[str], *, model: str = DEFAULT_MODEL, batch_size: int = 64,
                 desc: str = "embed", device: str | None = None,
                 path: str | None = None) -> np.ndarray:
    """Embeddings of ``texts`` by the model, without the cache (length-sorted batches), on the
    precision ``path`` (``fp32``/``bf16``; default: :func:`precision` of this process)."""
    st = load_model(model, device)
    order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths per batch
    out = np.empty((len(texts), dimension(st)), dtype=np.float32)
    with bar(total=len(texts), desc=desc, unit="texts") as progress, _autocast(path):
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            out[idx] = st.encode([texts[i] for i in idx], batch_size=batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)
            progress.update(len(idx))
    # Re-normalise in float32: bfloat16 pooling leaves norms a little off 1.
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def embed_texts(texts: list[str], *, model: str = DEFAULT_MODEL, batch_size: int = 64,
                cache_dir: Path | None = None, desc: str = "embed",
                encode: Callable[[list[str]], np.ndarray] | None = None) -> np.ndarray:
    """L2-normalised float32 embeddings of a list of texts (benchmark prompts, a notebook's
    texts); cached by content when ``cache_dir`` (see :mod:`curate.embed_cache`). A dataset's
    texts go through :func:`curate.embed_store.embed_source` instead, piece by piece.

    ``encode`` embeds the texts that are not in the cache (default: this process's model,
    see :func:`encode_texts`); the Ray engine passes its actor pool here.
    """
    if not texts:
        return np.zeros((0, dimension(load_model(model))), np.float32)
    keys = [text_key(t) for t in texts]
    folder = cache_folder(cache_dir, model) if cache_dir is not None else None
    cached = lookup(folder, keys) if folder is not None else {}
    todo = sorted({k: i for i, k in enumerate(keys) if k not in cached}.values())
    if todo:
        todo_texts = [texts[i] for i in todo]
        fresh = (encode(todo_texts) if encode is not None
                 else encode_texts(todo_texts, model=model, batch_size=batch_size, desc=desc))
        cached.update({keys[i]: v for i, v in zip(todo, fresh)})
        if folder is not None:
            add_to_cache(folder, [keys[i] for i in todo], fresh)
    return np.stack([cached[k] for k in keys]).astype(np.float32, copy=False)


def part_text(on: str = "conversation") -> pl.Expr:
    """The text of a record's ``on`` part as the user means it: a single turn is its content
    alone (a shared ``user: `` prefix would pull every prompt towards one direction: more false
    semantic duplicates, a worse spread); several turns are ``role: content`` lines. Content
    with the turn's tool calls (:func:`curate.records.message_text`); "" when the part is
    missing (see :data:`TEXT_FORM`)."""
    part = MESSAGE_PARTS[on]()
    joined = part.list.eval(pl.element().struct.field("role") + ": "
                            + message_text(pl.element())).list.join("\n")
    alone = part.list.eval(message_text(pl.element())).list.first()
    return pl.when(part.list.len() == 1).then(alone).otherwise(joined).fill_null("")


def frame_texts(df: pl.DataFrame, on: str = "conversation") -> list[str]:
    """:func:`part_text` of each record of ``df``."""
    return df.select(part_text(on).alias("t"))["t"].to_list()


def embed_frame(df: pl.DataFrame, *, on: str = "conversation", model: str = DEFAULT_MODEL,
                batch_size: int = 64, cache_dir: Path | None = None,
                encode: Callable[[list[str]], np.ndarray] | None = None) -> np.ndarray:
    """Embeddings of each record's ``on`` part (see :data:`curate.records.MESSAGE_PARTS`)."""
    return embed_texts(frame_texts(df, on), model=model, batch_size=batch_size,
                       cache_dir=cache_dir, desc=f"embed {on}", encode=encode)
