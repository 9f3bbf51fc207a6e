"""curate generate: one of the stages that declare ``command = "generate"``, chosen by ``--task``
(its ``cli_name``), with the flags of their options models (see :mod:`curate.cli.options`), a
dry run, resume and a budget. A new ``generate.*`` stage is a new ``--task``."""

from __future__ import annotations

import click

from ..stages.llm_base import GenerateStage
from ..stages.registry import stages_of
from .common import (input_argument, input_options, llm_run_options, output_option,
                     read_settings, stage_recipe)
from .options import options_of, stage_flags
from .usage import options_for

STAGES = {cls.cli_name: cls for cls in stages_of("generate")}
FLAGS = stage_flags(list(STAGES.values()))


@click.command()
@input_argument
@output_option
@click.option("--task", type=click.Choice(list(STAGES)), required=True,
              help="; ".join(f"{name}: {cls.summary.rstrip('.')}"
                                for name, cls in STAGES.items()))
@options_of(list(STAGES.values()), label=True)
@llm_run_options(GenerateStage.failed_reason)
@input_options
def generate(input_path, out, task, dry_run, resume, price_per_1k, fmt, on_error, **values):
    """Generate with an LLM: questions and answers from raw documents, replies or candidate
    replies of prompts, or evolved prompts. The local backend (SmolLM2-135M, offline) is the
    default; --llm openai --base-url URL --model NAME uses any OpenAI-compatible server (key in
    CURATE_LLM_API_KEY)."""
    from .llm_run import dry_run as do_dry_run  # startup: the runner, convert
    from .llm_run import run_generation  # startup

    cls = STAGES[task]
    options = options_for(cls, FLAGS, values, f"--task {task}")
    if fmt == "auto":
        fmt = cls.input_format(options)
    stage = {"use": cls.id, "with": options}
    spec = {"path": input_path, "format": fmt, **read_settings()}
    stage_recipe("generate", spec, [stage], on_error=on_error)  # usage errors before any work
    if dry_run:
        do_dry_run(spec, out, stage, on_error=on_error, price_per_1k=price_per_1k,
                   echo=click.echo)
    else:
        run_generation(spec, out, stage, on_error=on_error, resume=resume,
                       price_per_1k=price_per_1k, echo=click.echo)


COMMANDS = (generate,)
