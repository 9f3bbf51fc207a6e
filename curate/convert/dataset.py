"""The ``dataset`` column: the name of the named input (``inputs:``) a record came from.

With named inputs the id of a record that has none hashes the input's name with its source
and content (:func:`id_source`), so the same content in two inputs (the same file given twice,
a shared public set) makes two records with two ids, each counted in its own input.
"""

from __future__ import annotations

from ..errors import CurateError

import re

DATASET = "dataset"
INPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # a plain name


def id_source(source: str, dataset: str | None) -> str:
    """What a record's hash id is made from besides its content."""
    return source if dataset is None else f"{dataset}\x1f{source}"


def named_error(exc: CurateError, name: str) -> CurateError:
    """``exc`` with the input's name in front of its message (once)."""
    head = f"input {name}: "
    if exc.args and isinstance(exc.args[0], str) and not exc.args[0].startswith(head):
        exc.args = (head + exc.args[0], *exc.args[1:])
    return exc
