"""curate sample."""

from __future__ import annotations

import click

from ..stages.select_diverse import SelectDiverse
from .common import inputs_argument, input_options, on_error_option, output_option, run_stage_command
from .options import model_options, set_options


class _Budget(click.ParamType):
    """A count (``1000``) or a fraction (``0.1``)."""

    name = "N|F"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            self.fail(f"{value!r} is not a count (1000) or a fraction (0.1)", param, ctx)


@click.command()
@inputs_argument
@output_option
@click.option("-n", "--n", "n", required=True, type=_Budget(),
              help="How many rows to select: a count (1000) or a fraction of the rows (0.1).")
@model_options(SelectDiverse.Options, exclude=("n", "seed"))
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@input_options
@on_error_option
def sample(input_path, out, n, seed, fmt, on_error, **values):
    """Select a diverse subset by sentence embeddings; the others go to rejected/.

    Selected rows get select_rank (pick order) and cluster; the manifest and report.html show
    the sample's coverage next to a random sample of the same size (--compare: next to every
    method), and a 2-D map of the embeddings with the picks marked. The default method,
    facility, picks representative rows (facility location), then covers the outliers (a
    set cover of the rows left far), then swaps picks that serve the rows better.
    """
    options = {"n": n, **set_options(SelectDiverse.Options, values)}
    stage = {"use": SelectDiverse.id, "with": options}
    run_stage_command("sample", input_path, out, [stage], fmt=fmt, on_error=on_error, seed=seed)


COMMANDS = (sample,)
