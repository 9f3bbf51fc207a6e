"""A run's exports: their folders checked before the run starts, the exports written at its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .checkpoints import remove
from .export import export_parts
from .export.folder import export_names
from .io.owned import check_export_output
from .io.parts import Parts
from .recipe import Recipe


def check_export_folders(recipe: Recipe, out_dir: Path, legacy: dict | None) -> None:
    """Files of the user's where the recipe's exports write stop the run before anything
    is removed or run; ``legacy``: the manifest of a run folder from before the marker,
    whose listed exports are curate's."""
    listed = {e.get("path") for e in (legacy or {}).get("exports") or []}
    for spec in recipe.export:
        if f"export/{spec.target}" not in listed:
            check_export_output(out_dir / "export" / spec.target,
                                export_names(spec.target), flag="export folder",
                                way="move {it} out of the run folder")


def export_run(recipe: Recipe, out_dir: Path, engine: Any, data: Parts, manifest: dict,
               echo: Callable[[str], None]) -> list[dict]:
    """Each export of the recipe, streamed from the run's data by the engine's workers;
    the rows a target does not take go to ``rejected/export_<target>.parquet``."""
    results = []
    for spec in recipe.export:
        target_dir = out_dir / "export" / spec.target
        rejected_dir = out_dir / "rejected" / f"export_{spec.target}.parquet"
        scratch = out_dir / "cache" / "tmp" / f"export_{spec.target}"
        remove(rejected_dir)
        res = export_parts(data, target_dir, target=spec.target, test_size=spec.test_size,
                           validation_size=spec.validation_size, seed=recipe.seed,
                           run_info={**manifest, "run_dir": str(out_dir)},
                           engine=engine, rejected_dir=rejected_dir, scratch=scratch,
                           **spec.with_)
        for empty in (scratch.parent, scratch.parent.parent):  # cache/tmp, cache
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()
        results.append({"target": spec.target, "path": f"export/{spec.target}",
                        "counts": res.counts, "skipped": res.skipped})
        counts = ", ".join(f"{k}: {v}" for k, v in res.counts.items())
        echo(f"export {spec.target:<17} {counts}")
        for note in res.notes:
            echo(f"  {note}")
    return results
