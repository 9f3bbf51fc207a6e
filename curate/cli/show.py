"""curate show."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("run", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.option("-n", "--n", "n", type=click.IntRange(min=0), default=3, show_default=True,
              help="Sample rows to print.")
@click.option("--rejected", "stage", metavar="STAGE",
              help="Sample the rows this stage removed (name, id, NN_name or index) instead of "
                   "the data.")
@click.option("--reason", metavar="R", help="Only rows removed for this reason (with --rejected: "
                                            "by that stage; alone: by any stage).")
@click.option("--width", type=click.IntRange(min=0), default=100, show_default=True,
              help="Cut texts at this many characters (0: whole texts).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON, for scripts.")
def show(run, n, stage, reason, width, seed, as_json):
    """Print a run's funnel (rows per stage, drop reasons), its exports and a few rows of its
    data, or of the rows a stage removed (--rejected STAGE, --reason R)."""
    from ..show import render, show_run  # startup

    summary = show_run(run, n=n, rejected=stage, reason=reason, seed=seed)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(render(summary, width=width), nl=False)


COMMANDS = (show,)
