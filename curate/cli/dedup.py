"""curate dedup."""

from __future__ import annotations

import click

from .common import format_option, input_argument, on_error_option, output_option, run_stage_command

METHODS = {"exact": "dedup.exact"}


@click.command()
@input_argument
@output_option
@click.option("--method", type=click.Choice(sorted(METHODS)), default="exact", show_default=True)
@click.option("--on", "on", type=click.Choice(["prompt", "response", "conversation", "pair"]),
              default="conversation", show_default=True,
              help="Which part of a record must match for two records to be duplicates.")
@format_option
@on_error_option
def dedup(input_path, out, method, on, fmt, on_error):
    """Remove duplicate records; the first of each group is kept."""
    stage = {"use": METHODS[method], "with": {"on": on}}
    run_stage_command(f"dedup-{method}", input_path, out, [stage], fmt=fmt, on_error=on_error)


COMMANDS = (dedup,)
