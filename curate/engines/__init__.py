"""Execution engines: where a recipe's stages run.

Both implement :class:`curate.engines.protocol.Engine`: a stage hands them pieces of work and
gets back small results. ``local`` runs the pieces in this process; ``ray`` runs them as Ray
tasks (row stages, the keyed and global stages' passes) or on an actor pool (model stages, one
model per actor), on a local Ray or a cluster, the workers reading and writing the run folder
(see :mod:`curate.engines.ray`). Both write the same part files, so the runner's accounting,
checkpoints, rejected rows and manifest are the same whichever engine ran.

Examples:
    ```python
    from curate.engines import get_engine

    engine = get_engine("ray", {"address": None})   # a local Ray with all the cores
    output = engine.run_stage(stage, data, ctx)     # StageData in, part folders out
    result = engine.apply(stage, df, ctx)           # the frame API
    ```
"""

from __future__ import annotations

from typing import Any

from ..errors import CurateError
from .local import LocalEngine
from .protocol import Engine

ENGINES = ("local", "ray")


def get_engine(name: str, ray_config: Any = None) -> Engine:
    """The engine called ``name`` (``local`` or ``ray``); ``ray_config`` is the recipe's
    ``ray:`` block (a :class:`curate.recipe.RayConfig`, a dict or None)."""
    if name == "local":
        return LocalEngine()
    if name == "ray":
        from .ray import RayEngine  # startup

        if hasattr(ray_config, "model_dump"):
            ray_config = ray_config.model_dump()
        return RayEngine(**(ray_config or {}))
    raise CurateError(f"engine {name!r}: expected one of {', '.join(ENGINES)}")
