"""Execution engines: where a recipe's stages run.

``local`` runs each stage in this process (``stage.apply``); ``ray`` runs the row-wise work
as Ray Data ``map_batches`` over Arrow blocks, model scoring and embeddings in actor pools, the
dedup stages as shuffles (key hash, band bucket, k-means cluster) and k-center on row shards
held by actors, on a local Ray or a cluster (see :mod:`curate.engines.ray`). Both
return the same :class:`curate.stages.base.StageResult`, so the runner's accounting,
checkpoints, rejected rows and manifest are the same whichever engine ran.

Examples:
    ```python
    from curate.engines import get_engine

    engine = get_engine("ray", {"address": None})   # a local Ray with all the cores
    result = engine.apply(stage, df, ctx)
    ```
"""

from __future__ import annotations

from typing import Any

from ..errors import CurateError
from .local import LocalEngine

ENGINES = ("local", "ray")


def get_engine(name: str, ray_config: Any = None):
    """The engine called ``name`` (``local`` or ``ray``); ``ray_config`` is the recipe's
    ``ray:`` block (a :class:`curate.recipe.RayConfig`, a dict or None)."""
    if name == "local":
        return LocalEngine()
    if name == "ray":
        from .ray import RayEngine

        if hasattr(ray_config, "model_dump"):
            ray_config = ray_config.model_dump()
        return RayEngine(**(ray_config or {}))
    raise CurateError(f"engine {name!r}: expected one of {', '.join(ENGINES)}")
