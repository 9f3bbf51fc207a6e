"""What the stage commands share: the dataset argument, -o, and running a one-stage recipe."""

from __future__ import annotations

from typing import Any

import click

from ..errors import CurateError, RecipeError
from ..recipe import Recipe, parse_recipe
from ..recipe_files import check_recipe_columns, check_recipe_files
from .usage import usage_error


class InputPath(click.Path):
    """A dataset argument: an existing local path, or an fsspec URL (checked when read)."""

    def convert(self, value, param, ctx):
        from ..io.remote import is_url  # startup

        if is_url(value):
            return value
        return super().convert(value, param, ctx)


class DatasetArgument(InputPath):
    """A dataset argument of a command that takes several: PATH, or NAME=PATH (a named input;
    its records get ``dataset`` = NAME). A path that exists as typed is a path, ``=`` or not."""

    def convert(self, value, param, ctx):
        import os

        from ..convert.dataset import INPUT_NAME  # startup

        name, sep, path = value.partition("=")
        if sep and path and INPUT_NAME.match(name) and not os.path.exists(value):
            super().convert(path, param, ctx)  # PATH must exist
            return value
        return super().convert(value, param, ctx)


input_argument = click.argument("input_path", metavar="INPUT", type=InputPath(exists=True))
# INPUT, or several named inputs: NAME=PATH ...
inputs_argument = click.argument("input_path", metavar="INPUT...", nargs=-1, required=True,
                                 type=DatasetArgument(exists=True))
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
    from ..runner import run_recipe  # startup

    spec, paths = input_spec(input_path, {"format": fmt, "kind": kind, **read_settings()})
    recipe = stage_recipe(name, spec, stages, seed=seed, on_error=on_error)
    prepare_output(out, inputs=paths)
    with writing(out):
        manifest = run_recipe(recipe, out, limit=limit, echo=click.echo)
    click.echo(f"wrote {out}/data.parquet: {manifest['rows_out']} of {manifest['rows_in']} rows kept")
    if name != "convert":
        for file, mapping in manifest["stages"][0].get("stats", {}).get("columns", {}).items():
            click.echo(f"  {file}: columns {mapping}")
    return manifest


def input_spec(given: str | tuple[str, ...], settings: dict[str, Any]
               ) -> tuple[dict[str, Any] | list[dict[str, Any]], list[str]]:
    """The recipe's ``input`` (one plain PATH) or ``inputs`` (NAME=PATH arguments, each read
    with the same ``settings``), and the paths given."""
    from ..convert.inputs import parse_named  # startup

    values = (given,) if isinstance(given, str) else tuple(given)
    try:
        named = parse_named(values)
    except CurateError as exc:
        raise click.UsageError(f"INPUT: {exc}") from None
    if len(named) == 1 and named[0][0] is None:
        return {"path": named[0][1], **settings}, [named[0][1]]
    return [{"name": n, "path": p, **settings} for n, p in named], [p for _, p in named]


def stage_recipe(name: str, spec: dict[str, Any] | list[dict[str, Any]],
                 stages: list[dict[str, Any]], *, seed: int = 0,
                 on_error: str = "raise") -> Recipe:
    """The recipe a command runs (``spec``: its input, or a list of named inputs), checked
    before anything is read or written: what the check refuses (an option's value, a file
    that is not there) is a usage error naming the flag."""
    from ..io.remote import is_url  # startup

    key = "inputs" if isinstance(spec, list) else "input"
    try:
        recipe = parse_recipe({"name": name, key: spec, "seed": seed, "on_error": on_error,
                               "stages": stages})
        check_recipe_files(recipe)
        if not any(is_url(s.path) for _, s in recipe.sources()):
            check_recipe_columns(recipe)
    except RecipeError as exc:
        raise usage_error(exc, stages) from None
    return recipe


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
