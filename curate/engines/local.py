"""The local engine: every stage in this process; the reference the Ray engine is compared with.

It implements the primitives a stage's shape calls (see :mod:`curate.stages.base`) and the
services of the global stages, with the library's own functions.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

import numpy as np
import polars as pl

from ..embed import encode_texts, precision
from ..in_process import InProcess
from ..io.frame_parts import FrameParts, FrameStore
from ..io.parts import write_parts
from ..records import conform
from ..stages.context import Shape, StageContext
from ..stages.results import StageData, StageOutput, StageResult
from ..vectors import Vectors, view

if TYPE_CHECKING:  # pragma: no cover
    from ..stages.base import Stage

T = TypeVar("T")
R = TypeVar("R")


class LocalEngine(InProcess):
    """Runs stages in this process, piece after piece (see
    :class:`curate.engines.protocol.Engine` for the interface)."""

    name = "local"

    def run_stage(self, stage: Stage, data: StageData, ctx: StageContext) -> StageOutput:
        check_shape(stage)
        return stage.run(data, ctx, self)

    def apply(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return apply_frame(self, stage, df, ctx, memory=True)

    def manifest(self) -> dict[str, Any]:
        """What the run's manifest records about the engine."""
        return {"engine": self.name}

    # -- the primitives (map: InProcess) ----------------------------------------------
    def map_rows(self, stage: Stage, fn: Callable[[Any, T], R], items: Sequence[T], *,
                 desc: str, sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(stage, item)`` with the stage itself (here, one process holds it)."""
        return self.map(lambda item: fn(stage, item), items, desc=desc, sizes=sizes)

    def map_model(self, stage: Stage, fn: Callable[[Any, T], R], items: Sequence[T], *,
                  desc: str, sizes: Sequence[int] | None = None) -> list[R]:
        """A model stage's pieces: here the stage itself holds the one model."""
        return self.map_rows(stage, fn, items, desc=desc, sizes=sizes)

    # -- services of the global stages ----------------------------------------------------
    def encoder(self, *, model: str, batch_size: int = 64,
                desc: str = "embed") -> Callable[[list[str]], np.ndarray]:
        """A function that embeds a short list of texts with the sentence-transformers
        ``model`` (a dataset goes through :meth:`embed_pieces`)."""
        def encode(texts: list[str]) -> np.ndarray:
            return encode_texts(texts, model=model, batch_size=batch_size, desc=desc)
        return encode

    def embed_pieces(self, fn: Callable[[Callable[[list[str]], np.ndarray], T], R],
                     items: Sequence[T], *, model: str, batch_size: int = 64,
                     desc: str = "embed", sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(encode, item)`` of every item, ``encode`` embedding texts with ``model`` (here
        this process's one copy of it)."""
        encode = partial(encode_texts, model=model, batch_size=batch_size, desc=desc,
                         path=precision())
        return self.map(lambda item: fn(encode, item), items, desc=desc, sizes=sizes)

    def cosine_pairs(self, emb, threshold: float) -> np.ndarray:
        from ..dedup.cosine import cosine_pairs  # startup

        return cosine_pairs(view(emb), threshold)

    def clustered_cosine_pairs(self, emb, threshold: float, clusters: int, *,
                               seed: int = 0) -> np.ndarray:
        from ..dedup.cosine import clustered_cosine_pairs  # startup

        return clustered_cosine_pairs(view(emb), threshold, clusters, seed=seed)

    def kcenter(self, X, k: int, **options):
        from ..select.kcenter import kcenter_greedy  # startup

        return kcenter_greedy(view(X) if isinstance(X, Vectors) else X, k, **options)


def apply_frame(engine, stage: Stage, df: pl.DataFrame, ctx: StageContext, *,
                memory: bool = False) -> StageResult:
    """``stage`` on the frame ``df`` through ``engine``: ``df`` is written to a temporary
    folder as parts and the stage's outputs are read back; with ``memory`` (an engine that
    runs the stage in this process), the stage reads slices of ``df`` and writes its outputs
    and scratch parts as frames instead (see :mod:`curate.io.frame_parts`), the scratch
    folder holding only what a stage keeps in files of its own (spilled keys, embeddings)."""
    # a failed stage may leave a worker writing here: its error, not the clean-up's, is raised
    with tempfile.TemporaryDirectory(prefix="curate-apply-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        if memory:
            data = StageData(FrameParts.of(conform(df)), root / "kept", root / "rejected",
                             root / "scratch", memory=FrameStore())
        else:  # temporary parts: not compressed, which writes several times faster
            data = StageData(write_parts(conform(df), root / "in", compression="uncompressed"),
                             root / "kept", root / "rejected", root / "scratch",
                             compression="uncompressed")
        return engine.run_stage(stage, data, ctx).result()


def check_shape(stage: Stage) -> None:
    """A stage must declare one of the shapes engines know."""
    if not isinstance(stage.shape, Shape):
        raise TypeError(f"{type(stage).__name__}.shape is {stage.shape!r}, expected a "
                        f"curate.stages.base.Shape")
