"""curate filter: the stages that declare ``command = "filter"`` (quality rules on by default;
toxicity, bias and the others when switched on or given an option), their flags generated from
their options models (see :mod:`curate.cli.options`)."""

from __future__ import annotations

import click
from pydantic import ValidationError

from ..recipe import as_recipe_error
from ..stages.plan import provides
from ..stages.registry import stages_of
from .common import (_as_usage_error, input_argument, input_options, on_error_option,
                     output_option, run_stage_command)
from .options import fields_given, options_of, stage_flags

STAGES = stages_of("filter")
FLAGS = {cls: stage_flags([cls]) for cls in STAGES}


def _switches(fn):
    """``--<cli_name>`` per stage: on/off for a stage on by default, a flag for the others
    (unless the stage's ``cli_switch`` field is the switch, e.g. ``--pii ACTION``)."""
    for cls in reversed(STAGES):
        name, what = f"--{cls.cli_name}", f"{cls.summary.rstrip('.')} (stage {cls.id})"
        if cls.cli_default_on:
            fn = click.option(f"{name}/--no-{cls.cli_name}", cls.cli_name, default=True,
                              show_default=True, help=f"{what}.")(fn)
        elif cls.cli_switch is None:
            fn = click.option(name, cls.cli_name, is_flag=True,
                              help=f"{what}; implied by its options and by a stage that needs "
                                   "its columns.")(fn)
    return fn


def _options(fn):
    for cls in reversed(STAGES):
        fn = options_of([cls])(fn)
    return fn


def chosen_stages(values: dict) -> list[dict]:
    """The stages the user's flags ask for, with the options given, in the declared order; a
    stage that reads a column another filter stage writes brings that stage along."""
    options = {cls: fields_given(FLAGS[cls], values, cls) for cls in STAGES}
    wanted = {cls for cls in STAGES
              if values.get(cls.cli_name) or (options[cls] and not cls.cli_default_on)}
    for cls in sorted(wanted, key=lambda c: -c.cli_order):
        for column in _built(cls, options[cls]).columns_read():
            wanted |= {w for w in STAGES if w.cli_order < cls.cli_order
                       and provides(_built(w, options[w]).columns_written(), column)}
    return [{"use": cls.id, "with": options[cls]} for cls in STAGES if cls in wanted]


def _built(cls, options: dict):
    """The stage with the options given; a refused value is said as the flag typed."""
    try:
        return cls(options)
    except ValidationError as exc:
        error = as_recipe_error(exc, prefix="stages[0].with")
        raise _as_usage_error(error, [{"use": cls.id}]) from None


@click.command(name="filter")
@input_argument
@output_option
@_switches
@_options
@input_options
@on_error_option
def filter_(input_path, out, fmt, on_error, **values):
    """Score records and drop those that fail (each under its own reason): quality rules, and
    with their switches or options, toxicity, the bias audit and the other filter stages."""
    stages = chosen_stages(values)
    if not stages:
        switches = ", ".join(f"--{cls.cli_name}" for cls in STAGES)
        raise click.UsageError(f"nothing to do: no filter stage switched on ({switches})")
    run_stage_command("filter", input_path, out, stages, fmt=fmt, on_error=on_error)


COMMANDS = (filter_,)
