"""curate filter."""

from __future__ import annotations

import click

from ..stages.quality import QualityRules
from .common import format_option, input_argument, on_error_option, output_option, run_stage_command
from .options import model_options, set_options


@click.command(name="filter")
@input_argument
@output_option
@model_options(QualityRules.Options)
@format_option
@on_error_option
def filter_(input_path, out, fmt, on_error, **values):
    """Score records with quality rules and drop those that fail (each under its own reason)."""
    options = set_options(QualityRules.Options, values)
    stage = {"use": QualityRules.id, "with": options}
    run_stage_command("filter", input_path, out, [stage], fmt=fmt, on_error=on_error)


COMMANDS = (filter_,)
