"""curate convert."""

from __future__ import annotations

import click

from .common import inputs_argument, input_options, on_error_option, output_option, run_stage_command


@click.command()
@inputs_argument
@output_option
@input_options
@click.option("--kind", type=click.Choice(["sft", "preference"]),
              help="Convert every record to this kind (preference -> sft keeps the chosen reply).")
@click.option("--limit", type=click.IntRange(min=1), help="Read only the first N input rows.")
@on_error_option
def convert(input_path, out, fmt, kind, limit, on_error):
    """Convert a dataset into curate records (OUT/data.parquet).

    Formats: alpaca, sharegpt, openai, dolly, hh-rlhf, alpaca-eval (model outputs or pairwise
    annotations), records (curate's own), docs (documents whose headings are questions) and
    passages (documents cut into passages for generate --task questions). Documents: .txt,
    .md, .rst, and with the docs extra HTML, PDF, DOCX, EPUB, ODT and WARC web archives.
    Other rows are read through a column map: detected for the common shapes (question/answer,
    prompt/response, query/response, problem/solution, input/target, text alone), or given
    with --columns prompt=question,response=answer. Each file's format (and map) is printed.
    """
    from ..convert import FORMATS  # startup

    if fmt not in FORMATS:
        raise click.BadParameter(f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint="--format")
    manifest = run_stage_command("convert", input_path, out, [], fmt=fmt, kind=kind,
                                 on_error=on_error, limit=limit)
    stats = manifest["stages"][0].get("stats", {})
    maps = stats.get("columns", {})
    for file, name in stats.get("formats", {}).items():
        click.echo(f"  {file}: {name}" + (f" {maps[file]}" if file in maps else ""))


COMMANDS = (convert,)
