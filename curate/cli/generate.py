"""curate generate: one ``generate.*`` stage on a dataset, with a dry run, resume and a budget."""

from __future__ import annotations

import click

from ..stages.generate_responses import ResponsesOptions
from .common import (input_argument, input_options, llm_run_options, output_option,
                     read_settings, stage_recipe)
from .options import model_options, set_options

TASKS = ("questions", "responses", "evolve")


def _format_for(task: str, fmt: str, n: int | None) -> str:
    """The input format a task reads by default: passages for questions, prompts for
    responses without --n, and with --n any known format or prompts (rows without a reply);
    otherwise as given (auto)."""
    if fmt != "auto":
        return fmt
    if task == "questions":
        return "passages"
    if task == "responses":
        return "prompts" if n is None else "auto+prompts"
    return "auto"


@click.command()
@input_argument
@output_option
@click.option("--task", type=click.Choice(TASKS), required=True,
              help="questions: documents -> SFT (questions a passage answers, grounded answers);"
                   " responses: replies of prompts, or --n candidates; evolve: Evol-Instruct.")
@model_options(ResponsesOptions)
@click.option("--how", type=click.Choice(["deepen", "broaden", "mixed"]), default=None,
              help="evolve: deepen (harder), broaden (related topic) or mixed. [default: deepen]")
@llm_run_options("generation_failed")
@input_options
def generate(input_path, out, task, how, dry_run, resume, price_per_1k, fmt, on_error,
             **values):
    """Generate with an LLM: questions and answers from raw documents, replies or candidate
    replies of prompts, or evolved prompts. The local backend (SmolLM2-135M, offline) is the
    default; --llm openai --base-url URL --model NAME uses any OpenAI-compatible server (key in
    CURATE_LLM_API_KEY)."""
    from ..llm.run import dry_run as do_dry_run
    from ..llm.run import run_generation

    options = set_options(ResponsesOptions, values)
    if task != "responses" and options.get("n") is None:
        options.pop("n", None)
    if how is not None:
        if task != "evolve":
            raise click.UsageError("--how is an option of --task evolve")
        options["how"] = how
    fmt = _format_for(task, fmt, options.get("n"))
    stage = {"use": f"generate.{task}", "with": options}
    spec = {"path": input_path, "format": fmt, **read_settings()}
    stage_recipe("generate", spec, [stage], on_error=on_error)  # usage errors before any work
    if dry_run:
        do_dry_run(spec, out, stage, on_error=on_error, price_per_1k=price_per_1k,
                   echo=click.echo)
    else:
        run_generation(spec, out, stage, on_error=on_error, resume=resume,
                       price_per_1k=price_per_1k, echo=click.echo)


COMMANDS = (generate,)
