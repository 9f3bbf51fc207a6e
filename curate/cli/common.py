"""What the stage commands share: the dataset argument, -o, and running a one-stage recipe."""

from __future__ import annotations

from typing import Any

import click

from ..errors import RecipeError
from ..recipe import parse_recipe


class InputPath(click.Path):
    """A dataset argument: an existing local path, or an fsspec URL (checked when read)."""

    def convert(self, value, param, ctx):
        from ..io.remote import is_url

        if is_url(value):
            return value
        return super().convert(value, param, ctx)


input_argument = click.argument("input_path", metavar="INPUT", type=InputPath(exists=True))
output_option = click.option("-o", "--output", "out", required=True, type=click.Path(),
                             help="Run folder to write (data.parquet, manifest.json, rejected/); "
                                  "a folder or an fsspec URL (s3://..., gs://...).")
on_error_option = click.option(
    "--on-error", type=click.Choice(["raise", "skip"]), default="raise", show_default=True,
    help="Bad input rows: stop with file/line/field, or keep them in rejected/ with a reason.")
format_option = click.option(
    "--format", "fmt", default="auto", show_default=True,
    help="Input format (auto detects it per file; see `curate convert --help`).")


def run_stage_command(name: str, input_path: str, out: str, stages: list[dict[str, Any]], *,
                      fmt: str = "auto", kind: str | None = None, on_error: str = "raise",
                      limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Run ``stages`` on a dataset as a recipe and print what happened."""
    from ..runner import run_recipe

    try:
        recipe = parse_recipe({"name": name, "input": {"path": input_path, "format": fmt,
                                                       "kind": kind},
                               "seed": seed, "on_error": on_error, "stages": stages})
    except RecipeError as exc:
        raise _as_usage_error(exc, stages) from None
    manifest = run_recipe(recipe, out, limit=limit, echo=click.echo)
    click.echo(f"wrote {out}/data.parquet: {manifest['rows_out']} of {manifest['rows_in']} rows kept")
    return manifest


def _as_usage_error(exc: RecipeError, stages: list[dict[str, Any]]) -> click.ClickException:
    """A stage option the recipe check refused, said as the flag the user typed."""
    import re

    from ..stages.registry import stage_class
    from .options import flag_name

    found = re.fullmatch(r"stages\[(\d+)\]\.with\.(\w+)(.*)", exc.path or "")
    if not found:
        return click.ClickException(str(exc))
    cls = stage_class(stages[int(found[1])]["use"])
    return click.UsageError(f"{flag_name(cls, found[2])}{found[3]}: {exc.detail}")
