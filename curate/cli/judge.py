"""curate judge: the stages that declare ``command = "judge"``, in their declared order: the
first is the LLM judge (``judge.llm``), each later one (``judge.pairs``) runs after it unless
``--no-<cli_name>``; every flag comes from their options models (see
:mod:`curate.cli.options`). A dry run, resume and a budget as for ``curate generate``."""

from __future__ import annotations

import click

from ..stages.registry import stages_of
from .common import (input_argument, input_options, llm_run_options, output_option,
                     read_settings, stage_recipe)
from .options import fields_given, options_of, stage_flags

STAGES = stages_of("judge")
JUDGE, AFTER = STAGES[0], STAGES[1:]
FLAGS = {cls: stage_flags([cls]) for cls in STAGES}


def _stage_options(fn):
    for cls in reversed(STAGES):
        fn = options_of([cls])(fn)
    return fn


def _skips(fn):
    """``--no-<cli_name>`` for each stage after the judge."""
    for cls in reversed(AFTER):
        fn = click.option(f"--no-{cls.cli_name}", f"no_{cls.cli_name}", is_flag=True,
                          help=f"Leave out {cls.id}: keep the rows as {JUDGE.id} leaves "
                               "them.")(fn)
    return fn


@click.command()
@input_argument
@output_option
@_stage_options
@_skips
@llm_run_options(JUDGE.failed_reason)
@input_options
def judge(input_path, out, dry_run, resume, price_per_1k, fmt, on_error, **values):
    """Judge candidate replies with LLM judges and build preference pairs from the verdicts.

    Reads SFT records with `candidates` (e.g. from `curate generate --task responses --n 2`)
    or preference records. Pairwise (the default) sends every pair in both orders: a verdict
    that flips with the order is a tie (position_inconsistent) and makes no pair. Checklist
    asks yes/no questions about each reply alone (what the packaged 135M model can answer)."""
    from .llm_run import dry_run as do_dry_run  # startup: the runner, convert
    from .llm_run import run_generation  # startup

    stages = [{"use": JUDGE.id, "with": fields_given(FLAGS[JUDGE], values, JUDGE)}]
    for cls in AFTER:
        options = fields_given(FLAGS[cls], values, cls)
        if not values[f"no_{cls.cli_name}"] and not dry_run:
            stages.append({"use": cls.id, "with": options})
        elif options:
            flags = " and ".join(f.name for f in FLAGS[cls] if f.param in values
                                 and any(name in options for _, name in f.members))
            raise click.UsageError(f"{flags}: options of {cls.id} (not with "
                                   f"--no-{cls.cli_name} or --dry-run)")
    spec = {"path": input_path, "format": fmt, **read_settings()}
    stage_recipe("judge", spec, stages, on_error=on_error)  # usage errors before any work
    if dry_run:
        do_dry_run(spec, out, stages[0], on_error=on_error, price_per_1k=price_per_1k,
                   echo=click.echo)
        return
    manifest = run_generation(spec, out, stages, on_error=on_error, resume=resume,
                              price_per_1k=price_per_1k, echo=click.echo)
    stats = next(e for e in manifest["stages"] if e.get("name") == JUDGE.id)["stats"]
    click.echo(_reliability(stats))


def _reliability(stats: dict) -> str:
    def pct(value):
        return "n/a" if value is None else f"{100 * value:.0f}%"

    parts = [f"{stats.get('mode')} judging"]
    if stats.get("mode") == "pairwise":
        parts.append(f"position bias {pct(stats.get('position_bias_rate'))} "
                     f"({stats.get('inconsistent')} of {stats.get('comparisons')} "
                     "comparisons flipped with the order)")
    agreement = stats.get("agreement")
    if agreement:
        alpha = agreement.get("alpha")
        parts.append("judge-judge alpha " + ("n/a" if alpha is None else f"{alpha:.2f}"))
    unreadable = sum(j.get("unparseable", 0) for j in stats.get("judges", []))
    parts.append(f"{unreadable} unreadable replies")
    return "; ".join(parts)


COMMANDS = (judge,)
