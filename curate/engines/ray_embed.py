"""Sentence embeddings on Ray: actors that load the model once each.

- :func:`embed_pieces` (the engine's ``embed_pieces``, how a dataset is embedded, see
  :mod:`curate.embed_store`): an actor pool runs ``fn(encode, piece)`` for each piece, where
  ``encode`` is the actor's model; ``fn`` reads the piece and writes its vectors into the run's
  vector file and embedding cache on shared storage, and returns a count. No vector reaches
  the driver.
- :func:`ray_encoder` (the engine's ``encoder``, for a short list of texts such as benchmark
  prompts): the texts the run's cache lacks go to the pool in blocks and their vectors come
  back in input order.

Each actor encodes exactly as the local engine does (length-sorted batches of the same texts,
and the precision path resolved on the driver, which the cache key and the stage's
fingerprint name), so a text gets the same vector on either engine.

Examples:
    ```python
    from curate.engines import get_engine

    X = get_engine("ray").encoder(model="all-MiniLM-L6-v2")(["a text", "another"])
    ```
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pyarrow as pa

from ..embed import DEFAULT_MODEL, dimension, encode_texts, load_model, precision
from ..progress import bar
from ..stages.base import ROW

TEXT, VECTOR = "__text", "__vec"
BLOCK_TEXTS = 4096  # texts per block sent to an actor


class EmbedActor:
    """An actor of the embedding pool: loads ``model`` once, embeds the blocks it is given."""

    def __init__(self, model: str, batch_size: int, device: str | None = None,
                 path: str | None = None):
        self.model, self.batch_size, self.device, self.path = model, batch_size, device, path
        encode_texts(["warm up"], model=model, batch_size=1, device=device, path=path)

    def __call__(self, table: pa.Table) -> pa.Table:
        texts = table.column(TEXT).to_pylist()
        vectors = encode_texts(texts, model=self.model, batch_size=self.batch_size,
                               desc="embed", device=self.device, path=self.path)
        flat = pa.array(vectors.reshape(-1), pa.float32())
        return pa.table({ROW: table.column(ROW),
                         VECTOR: pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])})


class EmbedWorker:
    """An actor of :func:`embed_pieces`: the model, loaded once, and the pieces it is given."""

    def __init__(self, model: str, batch_size: int, device: str | None, path: str):
        self.model, self.batch_size, self.device, self.path = model, batch_size, device, path
        encode_texts(["warm up"], model=model, batch_size=1, device=device, path=path)

    def encode(self, texts: list[str]) -> np.ndarray:
        return encode_texts(texts, model=self.model, batch_size=self.batch_size, desc="embed",
                            device=self.device, path=self.path)

    def run(self, fn, item):
        return fn(self.encode, item)


def embed_pieces(engine, fn, items, *, model: str = DEFAULT_MODEL, batch_size: int = 64,
                 desc: str = "embed", sizes=None) -> list:
    """``fn(encode, item)`` of every item on a pool of :class:`EmbedWorker` actors (a GPU each
    where the cluster has GPUs, else one per CPU), each actor given one item at a time;
    the results in item order."""
    from ray.util import ActorPool  # optional

    items = list(items)
    if not items:
        return []
    ray = engine._ray()
    gpus = engine.gpus()
    actor = ray.remote(EmbedWorker).options(num_gpus=1 if gpus else 0, num_cpus=1)
    size = min(gpus or engine.parallelism(), len(items))
    actors = [actor.remote(model, batch_size, "cuda" if gpus else None, precision())
              for _ in range(size)]
    sizes = list(sizes) if sizes is not None else [1] * len(items)
    out = []
    try:
        with bar(total=sum(sizes), desc=desc, unit="texts") as progress:
            results = ActorPool(actors).map(lambda a, item: a.run.remote(fn, item), items)
            for result, n in zip(results, sizes):
                out.append(result)
                progress.update(n)
    finally:
        for a in actors:
            ray.kill(a)
    return out


def ray_encoder(engine, *, model: str = DEFAULT_MODEL,
                batch_size: int = 64) -> Callable[[list[str]], np.ndarray]:
    """A function that embeds a list of texts on ``engine``'s actor pool (one model per
    actor: a GPU each where the cluster has GPUs, else one actor per CPU)."""

    def encode(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, dimension(load_model(model))), np.float32)
        gpus = engine.gpus()
        actors = gpus or engine.parallelism()
        import ray  # optional
        import ray.data

        # Blocks cut the length-sorted order at whole batches, so every actor's batches are
        # the very batches the local engine encodes (same padding, so the same vectors).
        order = np.argsort([-len(t) for t in texts], kind="stable")
        # Several blocks per actor, each actor given one at a time, so that an actor that
        # starts first does not queue the blocks of the others.
        blocks = max(actors * 4, math.ceil(len(texts) / BLOCK_TEXTS))
        size = math.ceil(len(texts) / blocks / batch_size) * batch_size
        tables = [pa.table({ROW: pa.array(idx, pa.int64()),
                            TEXT: pa.array([texts[i] for i in idx], pa.string())})
                  for idx in (order[s:s + size] for s in range(0, len(texts), size))]
        out = ray.data.from_arrow(tables).map_batches(
            EmbedActor, batch_format="pyarrow", batch_size=None,
            compute=ray.data.ActorPoolStrategy(size=min(actors, len(tables)),
                                               max_tasks_in_flight_per_actor=1),
            num_gpus=1 if gpus else 0,
            fn_constructor_kwargs={"model": model, "batch_size": batch_size,
                                   "device": "cuda" if gpus else None, "path": precision()})
        table = pa.concat_tables([t for t in ray.get(out.to_arrow_refs()) if t.num_rows])
        order = np.argsort(table.column(ROW).to_numpy())
        vec = table.column(VECTOR).combine_chunks()
        dim = vec.type.list_size
        X = vec.values.to_numpy(zero_copy_only=False).reshape(-1, dim)[order]
        return np.ascontiguousarray(X, dtype=np.float32)

    return encode
