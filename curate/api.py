"""The Python API: run a recipe and read a run folder, what ``curate run`` and ``curate show``
do, for notebooks and scripts. ``import curate`` loads it on first use (``curate.run``,
``curate.read_run``), so the command's start-up does not pay for it.

A run's data stays on disk: :class:`Run` gives its manifest and its data and rejected rows as
:class:`~curate.io.parts.Parts` (``.scan()`` is a lazy polars frame, ``.iter_batches()``
streams, ``.read()`` loads all), so a run larger than memory reads as well as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import CurateError
from .io.output import prepare_output, writing
from .io.parts import Parts
from .io.remote import is_url
from .manifest import read_manifest
from .recipe import Recipe, load_recipe, parse_recipe
from .recipe_files import resolve_input_path
from .runner import run_recipe


@dataclass
class Run:
    """A finished (or stopped) run folder: ``manifest`` (the parsed manifest.json), ``data``
    (the final records), ``rejected`` (the rows each stage removed, by stage name in run
    order, each with its ``drop_reason``) and ``exports`` (the export folders by target)."""

    path: Path
    manifest: dict[str, Any]
    data: Parts | None
    rejected: dict[str, Parts] = field(default_factory=dict)
    exports: dict[str, Path] = field(default_factory=dict)

    @property
    def status(self) -> str | None:
        return self.manifest.get("status")


def read_run(path: str | Path) -> Run:
    """The run folder ``path`` (``curate run``'s or a command's ``-o``) as a :class:`Run`.

    Examples:
        >>> import json, tempfile, curate
        >>> tmp = tempfile.TemporaryDirectory()
        >>> rows = [{"instruction": "Say hi.", "output": "Hi!"}] * 2
        >>> with open(f"{tmp.name}/in.jsonl", "w") as f:
        ...     f.writelines(json.dumps(r) + "\\n" for r in rows)
        >>> _ = curate.run({"name": "hi", "input": {"path": f"{tmp.name}/in.jsonl"},
        ...                 "stages": [{"use": "dedup.exact"}]}, f"{tmp.name}/out")
        >>> run = curate.read_run(f"{tmp.name}/out")
        >>> run.status, run.data.height, list(run.rejected)
        ('done', 1, ['convert', 'dedup.exact'])
        >>> run.rejected["dedup.exact"].scan().select("drop_reason").collect().item()
        'duplicate_exact'
        >>> tmp.cleanup()
    """
    folder = Path(path)
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        raise CurateError(f"{path}: not a run folder (no readable manifest.json)")
    rejected = {}
    for entry in manifest.get("stages", []):
        name, rel = entry.get("name"), entry.get("rejected")
        if name and rel and (folder / rel).exists():
            rejected[name] = Parts(folder / rel)
    exports = {e["target"]: folder / e["path"] for e in manifest.get("exports") or []
               if e.get("target") and e.get("path")}
    for target in exports:  # the rows an export's target could not take
        if (folder / "rejected" / f"export_{target}.parquet").exists():
            rejected[f"export_{target}"] = Parts(folder / "rejected" / f"export_{target}.parquet")
    data = folder / "data.parquet"
    return Run(folder, manifest, Parts(data) if data.exists() else None, rejected, exports)


def run(recipe: Recipe | dict | str | Path, out: str | Path, *, engine: str | None = None,
        limit: int | None = None, from_stage: str | None = None, until: str | None = None,
        resume: bool = False, report: bool = True,
        echo: Callable[[str], Any] | None = None) -> Run:
    """Run ``recipe`` (a :class:`~curate.recipe.Recipe`, its mapping as in the YAML, or the
    path of a YAML file) into the folder or fsspec URL ``out``, as ``curate run`` does (the
    same checks first, the same manifest, checkpoints and rejected rows); the run as
    :func:`read_run` gives it (``out`` a local folder) or None (a URL). ``engine`` overrides
    the recipe's; ``echo`` gets the progress lines ``curate run`` prints.

    Examples:
        >>> import json, tempfile, curate
        >>> tmp = tempfile.TemporaryDirectory()
        >>> with open(f"{tmp.name}/in.jsonl", "w") as f:
        ...     for text in ("Hi!", "Hi!", "Hello!"):
        ...         _ = f.write(json.dumps({"instruction": "Greet me.", "output": text}) + "\\n")
        >>> recipe = {"name": "greetings", "input": {"path": f"{tmp.name}/in.jsonl"},
        ...           "stages": [{"use": "dedup.exact"}]}
        >>> run = curate.run(recipe, f"{tmp.name}/out", report=False)
        >>> run.manifest["rows_in"], run.manifest["rows_out"]
        (3, 2)
        >>> run.data.read()["messages"].list.last().struct.field("content").to_list()
        ['Hi!', 'Hello!']
        >>> tmp.cleanup()
    """
    recipe_file = None
    if isinstance(recipe, (str, Path)):
        recipe_file = Path(recipe)
        recipe = load_recipe(recipe_file)
    elif not isinstance(recipe, Recipe):
        recipe = parse_recipe(recipe)
    if engine:
        recipe = recipe.model_copy(update={"engine": engine})
    out = str(out)
    prepare_output(out, inputs=[resolve_input_path(recipe, recipe_file)])
    with writing(out):
        run_recipe(recipe, out, recipe_file=recipe_file, from_stage=from_stage, until=until,
                   limit=limit, resume=resume, report=report, echo=echo)
    return None if is_url(out) else read_run(out)
