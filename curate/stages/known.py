"""The stages defined so far, by id: a :class:`~curate.stages.base.Stage` subclass with an id
registers here when its class is defined (see :mod:`curate.stages.registry` for lookups)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import RecipeError

if TYPE_CHECKING:  # pragma: no cover
    from .base import Stage

STAGES: dict[str, type[Stage]] = {}


def register(cls: type[Stage]) -> type[Stage]:
    """Make a Stage subclass usable in recipes under its ``id`` (done on class definition;
    usable as a decorator)."""
    if not cls.id:
        raise ValueError(f"{cls.__name__} has no id")
    old = STAGES.get(cls.id)
    ours = __package__ + "."
    if old is not None and old.__module__.startswith(ours) != cls.__module__.startswith(ours):
        mine, other = (old, cls) if old.__module__.startswith(ours) else (cls, old)
        raise RecipeError(f"stage id {cls.id!r} of {other.__module__}.{other.__name__} is "
                          f"curate's own ({mine.__module__}); a plugin's stage needs another id")
    STAGES[cls.id] = cls
    return cls
