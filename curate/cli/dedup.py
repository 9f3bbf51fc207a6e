"""curate dedup: one of the stages that declare ``command = "dedup"``, chosen by ``--method``
(its ``flag``), with the flags of their options models (see :mod:`curate.cli.options`)."""

from __future__ import annotations

import click

from ..stages.registry import stages_of
from .common import (inputs_argument, input_options, on_error_option, output_option,
                     run_stage_command)
from .options import options_of, stage_flags
from .usage import options_for

STAGES = {cls.cli_name: cls for cls in stages_of("dedup")}
FLAGS = stage_flags(list(STAGES.values()))


@click.command()
@inputs_argument
@output_option
@click.option("--method", type=click.Choice(list(STAGES)), default="exact", show_default=True,
              help="; ".join(f"{flag}: {cls.summary}" for flag, cls in STAGES.items()))
@options_of(list(STAGES.values()), label=True)
@click.option("--prefer", metavar="INPUT,...", default=None,
              help="Keep the copy from these inputs first (the dataset column, most preferred "
                   "first), then by --keep among copies of one input.")
@input_options
@on_error_option
def dedup(input_path, out, method, fmt, on_error, prefer, **values):
    """Remove duplicate records: one record of each group of duplicates is kept.

    --against NAME=PATH (repeatable) also removes records that duplicate a record of an
    earlier release or another dataset (reason duplicate_of_reference, column
    duplicate_of = NAME:<id>); the reference's index is cached in the user's cache."""
    cls = STAGES[method]
    options = options_for(cls, FLAGS, values, f"--method {method}")
    if prefer is not None:
        names = [n.strip() for n in prefer.split(",") if n.strip()]
        if not names:
            raise click.UsageError("--prefer: expected input names, e.g. --prefer ours,public")
        options["keep"] = {"prefer": names, "then": options.get("keep", "first")}
    stage = {"use": cls.id, "with": options}
    run_stage_command(f"dedup-{method}", input_path, out, [stage], fmt=fmt, on_error=on_error)


COMMANDS = (dedup,)
