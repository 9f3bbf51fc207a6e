"""curate judge: ``judge.llm`` (then ``judge.pairs``) on a dataset, with a dry run, resume and a
budget."""

from __future__ import annotations

import click

from ..stages.judge_llm import JudgeOptions
from .common import (input_argument, input_options, llm_run_options, output_option,
                     read_settings, stage_recipe)
from .options import model_options, set_options

@click.command()
@input_argument
@output_option
@click.option("--judge", "judges", multiple=True, metavar="SPEC",
              help="A judge: local (the packaged SmolLM2-135M), local:PATH_OR_NAME or "
                   "openai:MODEL@BASE_URL (key in CURATE_LLM_API_KEY); repeat for several "
                   "judges. [default: local]")
@model_options(JudgeOptions, exclude=("judges", "llm", "model", "base_url"))
@click.option("--min-margin", type=float, default=None,
              help="judge.pairs: a pair needs a judge_score margin above this. [default: 0]")
@click.option("--pairs", type=click.Choice(["best-worst", "all"]), default=None,
              help="judge.pairs: the best vs. the worst candidate of each prompt, or every pair "
                   "above the margin. [default: best-worst]")
@click.option("--no-pairs", is_flag=True,
              help="Only judge: keep the judged rows with their judge columns, build no pairs.")
@llm_run_options("judge_failed")
@input_options
def judge(input_path, out, judges, min_margin, pairs, no_pairs, dry_run, resume, price_per_1k,
          fmt, on_error, **values):
    """Judge candidate replies with LLM judges and build preference pairs from the verdicts.

    Reads SFT records with `candidates` (e.g. from `curate generate --task responses --n 2`)
    or preference records. Pairwise (the default) sends every pair in both orders: a verdict
    that flips with the order is a tie (position_inconsistent) and makes no pair. Checklist
    asks yes/no questions about each reply alone (what the packaged 135M model can answer)."""
    from ..llm.run import dry_run as do_dry_run
    from ..llm.run import run_generation

    options = set_options(JudgeOptions, values)
    if judges:
        options["judges"] = list(judges)
    stages = [{"use": "judge.llm", "with": options}]
    if not no_pairs and not dry_run:
        pair_options = {}
        if min_margin is not None:
            pair_options["min_margin"] = min_margin
        if pairs is not None:
            pair_options["pairs"] = pairs.replace("-", "_")
        stages.append({"use": "judge.pairs", "with": pair_options})
    elif min_margin is not None or pairs is not None:
        raise click.UsageError("--min-margin and --pairs are options of the pairs step (not "
                               "with --no-pairs or --dry-run)")
    spec = {"path": input_path, "format": fmt, **read_settings()}
    stage_recipe("judge", spec, stages, on_error=on_error)  # usage errors before any work
    if dry_run:
        do_dry_run(spec, out, stages[0], on_error=on_error, price_per_1k=price_per_1k,
                   echo=click.echo)
        return
    manifest = run_generation(spec, out, stages, on_error=on_error, resume=resume,
                              price_per_1k=price_per_1k, echo=click.echo)
    stats = next(e for e in manifest["stages"] if e.get("name") == "judge.llm")["stats"]
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
