"""What the stage commands share: the dataset argument, -o, and running a one-stage recipe."""

from __future__ import annotations

import re
from typing import Any

import click

from ..errors import CurateError, RecipeError
from ..recipe import Recipe, check_recipe_columns, check_recipe_files, parse_recipe


class InputPath(click.Path):
    """A dataset argument: an existing local path, or an fsspec URL (checked when read)."""

    def convert(self, value, param, ctx):
        from ..io.remote import is_url  # startup

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


def _column_map(ctx, param, value):
    if value is not None:
        from ..convert.columns import ColumnMap  # startup

        try:
            value = ColumnMap.parse(value, where="").mapping
        except CurateError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    ctx.meta["curate.columns"] = value
    return value


def _encoding(ctx, param, value):
    from ..io.encoding import check_encoding  # startup

    try:
        check_encoding(value)
    except CurateError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    ctx.meta["curate.encoding"] = value
    return value


# --columns and --encoding are kept in ctx.meta (not passed to the command's function), so
# that every command that reads input takes them by adding @input_options: run_stage_command
# and read_settings() pick them up.
columns_option = click.option(
    "--columns", metavar="TARGET=FIELD,...", callback=_column_map, expose_value=False,
    help="Which input field is which, e.g. prompt=question,response=answer (nested: "
         "conversation.0.text). Targets: prompt, response, system, history, messages, chosen, "
         "rejected, text, id, chosen_score, rejected_score, meta.NAME. Default: detected per "
         "file for the common shapes (printed).")
encoding_option = click.option(
    "--encoding", default="utf-8", show_default=True, callback=_encoding, expose_value=False,
    help="Encoding of text input files (jsonl, json, csv, documents), e.g. latin-1, cp1252.")


def input_options(fn):
    """--format, --columns and --encoding: how a command reads its INPUT."""
    for opt in (encoding_option, columns_option, format_option):
        fn = opt(fn)
    return fn


def read_settings() -> dict[str, Any]:
    """The --columns and --encoding of the command running (see input_options)."""
    meta = click.get_current_context().meta
    return {"columns": meta.get("curate.columns"),
            "encoding": meta.get("curate.encoding", "utf-8")}


def run_stage_command(name: str, input_path: str, out: str, stages: list[dict[str, Any]], *,
                      fmt: str = "auto", kind: str | None = None, on_error: str = "raise",
                      limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Run ``stages`` on a dataset as a recipe and print what happened, with the column map
    each file was read through."""
    from ..io.output import prepare_output, writing  # startup
    from ..runner import run_recipe

    spec = {"path": input_path, "format": fmt, "kind": kind, **read_settings()}
    recipe = stage_recipe(name, spec, stages, seed=seed, on_error=on_error)
    prepare_output(out, inputs=[input_path])
    with writing(out):
        manifest = run_recipe(recipe, out, limit=limit, echo=click.echo)
    click.echo(f"wrote {out}/data.parquet: {manifest['rows_out']} of {manifest['rows_in']} rows kept")
    if name != "convert":
        for file, mapping in manifest["stages"][0].get("stats", {}).get("columns", {}).items():
            click.echo(f"  {file}: columns {mapping}")
    return manifest


def stage_recipe(name: str, spec: dict[str, Any], stages: list[dict[str, Any]], *,
                 seed: int = 0, on_error: str = "raise") -> Recipe:
    """The recipe a command runs, checked before anything is read or written: what the check
    refuses (an option's value, a file that is not there) is a usage error naming the flag."""
    from ..io.remote import is_url  # startup

    try:
        recipe = parse_recipe({"name": name, "input": spec, "seed": seed, "on_error": on_error,
                               "stages": stages})
        check_recipe_files(recipe)
        if not is_url(recipe.input.path):
            check_recipe_columns(recipe)
    except RecipeError as exc:
        raise _as_usage_error(exc, stages) from None
    return recipe


def _as_usage_error(exc: RecipeError, stages: list[dict[str, Any]]) -> click.ClickException:
    """A stage option (or an input setting) the recipe check refused, said as the flag the
    user typed."""
    from ..stages.registry import stage_class  # startup
    from .options import flag_name

    found = re.fullmatch(r"input\.(\w+)", exc.path or "")
    if found:
        flag = "INPUT" if found[1] == "path" else f"--{found[1]}"
        return click.UsageError(f"{flag}: {exc.detail}")
    found = re.fullmatch(r"stages\[(\d+)\]\.with\.(\w+)(.*)", exc.path or "")
    if not found:  # not a flag's value (a column the data lacks): an error, said without the
        return click.ClickException(exc.detail)  # recipe place the user never wrote
    cls = stage_class(stages[int(found[1])]["use"])
    return click.UsageError(f"{flag_name(cls, found[2])}{found[3]}: {exc.detail}")


def llm_run_options(failed_reason: str):
    """The flags of a command that runs an LLM stage: --dry-run, --resume, --price-per-1k and
    --on-error (``failed_reason``: the reason a failed request's row is rejected with)."""
    flags = [
        click.option("--dry-run", is_flag=True,
                     help="Print the requests and the estimated prompt/completion tokens (and "
                          "cost with --price-per-1k); send nothing."),
        click.option("--resume", is_flag=True,
                     help="Continue a run into the same -o: answered requests come from its "
                          "cache; requests that failed on the server or the connection and a "
                          "stage stopped by --max-tokens-total go on."),
        click.option("--price-per-1k", type=float, default=None,
                     help="Price of 1000 tokens (prompt and completion), for the cost "
                          "estimate."),
        click.option("--on-error", type=click.Choice(["raise", "skip"]), default="skip",
                     show_default=True,
                     help="A failed request (after retries): stop the run, or reject its row "
                          f"as {failed_reason} with the error. Also how bad input rows are "
                          "handled."),
    ]

    def decorate(fn):
        for flag in reversed(flags):
            fn = flag(fn)
        return fn
    return decorate
