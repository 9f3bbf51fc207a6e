"""The runner's input side: what the run's first fingerprint is made of, and the convert step
(one ``input:`` or several named ``inputs:``) with its stats."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .io.remote import is_url, redact


def chain(previous: str, part: Any) -> str:
    """A fingerprint of ``part`` after ``previous`` (the run's chain of checkpoints)."""
    blob = json.dumps([previous, part], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def input_fingerprint(recipe, inputs: list[dict], limit: int | None) -> str:
    """The convert step's fingerprint: the input files' hashes and how they are read (a named
    input's licence is not part of it: it changes no record)."""
    if recipe.inputs is not None:
        return chain("", {"inputs": [[i.get("dataset"), i["sha256"]] for i in inputs],
                          "specs": [s.model_dump(exclude={"license"}) for s in recipe.inputs],
                          "limit": limit, "on_error": recipe.on_error})
    spec = recipe.input
    return chain("", {"input": [i["sha256"] for i in inputs], "format": spec.format,
                      "kind": spec.kind, "limit": limit, "on_error": recipe.on_error,
                      **({"columns": spec.columns} if spec.columns else {}),
                      **({"encoding": spec.encoding} if spec.encoding != "utf-8" else {})})


def convert_step(recipe, recipe_file: Path | None, input_path, kept_dir: Path,
                 rejected_dir: Path, *, engine, limit: int | None, scratch: Path):
    """The run's inputs into part folders, each input file read by the engine's workers:
    ``(StageOutput, stats)``."""
    from .stages.base import StageOutput  # startup

    if recipe.inputs is not None:
        from .accounting import convert_named  # startup

        res = convert_named(recipe, recipe_file, kept_dir, rejected_dir, engine=engine,
                            limit=limit, scratch=scratch)
    else:
        from .convert import convert_parts  # startup

        spec = recipe.input
        res = convert_parts(input_path, kept_dir, rejected_dir, engine=engine,
                            format=spec.format, kind=spec.kind, on_error=recipe.on_error,
                            limit=limit, columns=spec.columns, encoding=spec.encoding,
                            scratch=scratch)
    out = StageOutput(res.kept, res.rejected, res.rows_in, res.rows_out, res.drops)
    return out, convert_stats(res)


def convert_stats(res) -> dict[str, Any]:
    """The convert step's stats: formats (and column maps) per file, documents read."""
    formats = {redact(f) if is_url(f) else f: name for f, name in res.formats.items()}
    stats: dict[str, Any] = {"formats": formats}
    if res.columns:
        stats["columns"] = {redact(f) if is_url(f) else f: m for f, m in res.columns.items()}
    if res.documents:
        stats["documents"] = res.documents
    return stats
