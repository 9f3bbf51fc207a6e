"""Where a recipe's inputs are, and the checks of its files and columns before a run moves
any data (:func:`check_recipe_files`, :func:`check_recipe_columns`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import RecipeError
from .io.dispatch import record_input_columns
from .io.remote import is_url
from .stages.plan import check_columns, input_columns
from .stages.registry import stage_class

if TYPE_CHECKING:  # pragma: no cover
    from .recipe import InputSpec, Recipe


def resolve_input_path(recipe: Recipe, recipe_file: Path | None) -> Path | str:
    """The path of the single ``input:`` (the first of ``inputs:``); see :func:`resolve_path`."""
    return resolve_path(recipe.sources()[0][1].path, recipe_file)


def resolve_path(given: str, recipe_file: Path | None) -> Path | str:
    """A relative input path is taken from the working directory, or else from the recipe's
    folder; an fsspec URL (``s3://...``, ``memory://...``) is kept as it is."""
    if is_url(given):
        return given
    path = Path(given)
    if path.is_absolute() or path.exists() or recipe_file is None:
        return path
    beside = recipe_file.parent / path
    return beside if beside.exists() else path


def resolve_inputs(recipe: Recipe, recipe_file: Path | None) -> list[tuple[str | None, InputSpec,
                                                                            Path | str]]:
    """``(name, spec, path)`` of every input (name None for the single ``input:``)."""
    return [(name, spec, resolve_path(spec.path, recipe_file))
            for name, spec in recipe.sources()]


def check_recipe_files(recipe: Recipe, recipe_file: Path | None = None) -> None:
    """Check that the files a recipe names exist before any data moves: its inputs (local
    paths) and the files of its stages' options (the fields marked ``path``: a file, a folder,
    or the values of a NAME=PATH mapping, which ``required`` wants not empty). RecipeError
    naming the place, e.g.
    ``stages[1].with.benchmarks.mmlu: mmlu.jsonl: no such file or folder``."""
    file = str(recipe_file) if recipe_file is not None else None
    for i, (name, spec, path) in enumerate(resolve_inputs(recipe, recipe_file)):
        if not is_url(path) and not Path(path).exists():
            raise RecipeError(f"{spec.path}: no such file or folder",
                              path=f"{recipe.input_where(i)}.path", file=file)
    for i, spec in enumerate(recipe.stages):
        options = stage_class(spec.use).Options.model_validate(spec.with_)
        for name, info in type(options).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            value = getattr(options, name)
            if extra.get("path") == "values" and isinstance(value, dict):
                if not value and extra.get("required"):
                    raise RecipeError("at least one NAME=PATH is needed",
                                      path=f"stages[{i}].with.{name}", file=file)
                named = {f"{name}.{key}": v for key, v in value.items()}
            elif extra.get("path") in ("file", "dir") and isinstance(value, str):
                named = {name: value}
            else:
                continue
            for where, value in named.items():
                if not is_url(value) and not Path(value).exists():
                    raise RecipeError(f"{value}: no such file or folder",
                                      path=f"stages[{i}].with.{where}", file=file)


def check_recipe_columns(recipe: Recipe, *, recipe_file: Path | None = None,
                         columns: list[str] | None = None) -> None:
    """Check that every stage finds the columns it reads (see
    :func:`curate.stages.plan.check_columns`) in ``columns`` (default: the record columns,
    and the columns of the local record inputs, read from their schemas, and ``dataset`` with
    named inputs)."""
    if columns is None:
        columns = recipe_input_columns(recipe, recipe_file)
    stages = [(name, stage_class(spec.use)(spec.with_))
              for spec, name in zip(recipe.stages, recipe.stage_names())]
    check_columns(stages, input_columns(columns),
                  file=str(recipe_file) if recipe_file is not None else None)


def recipe_input_columns(recipe: Recipe, recipe_file: Path | None = None) -> list[str]:
    """The columns the inputs bring besides the record columns: those of record inputs (every
    one has them, read from its schema) and ``dataset`` with named inputs."""
    from .convert.inputs import DATASET  # startup

    found = [record_input_columns(path) or [] for _, _, path in
             resolve_inputs(recipe, recipe_file)]
    common = [c for c in found[0] if all(c in f for f in found[1:])]
    return common + ([DATASET] if recipe.inputs is not None and DATASET not in common else [])
