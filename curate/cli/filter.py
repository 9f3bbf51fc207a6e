"""curate filter: quality rules, and toxicity and bias filters when asked for."""

from __future__ import annotations

import click

from ..stages.quality import QualityRules
from .common import input_argument, input_options, on_error_option, output_option, run_stage_command
from .options import _Nullable, model_options, set_options

_MODELS = ("auto", "original", "unbiased", "multilingual", "original-small", "unbiased-small",
           "profanity-check")
_THRESHOLD = _Nullable(click.FloatRange(0, 1))


def _label_thresholds(ctx, param, values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for value in values:
        label, sep, number = value.partition("=")
        try:
            t = float(number)
        except ValueError:
            t = -1.0
        if not sep or not label or not 0 <= t <= 1:
            raise click.BadParameter(f"{value!r}: expected LABEL=THRESHOLD with a threshold "
                                     "in [0, 1], e.g. insult=0.3", ctx=ctx, param=param)
        out[label] = t
    return out


def _given(ctx: click.Context, *names: str) -> dict[str, object]:
    """The options among ``names`` that the user gave, by parameter name."""
    return {n: ctx.params[n] for n in names
            if ctx.get_parameter_source(n).name != "DEFAULT"}


def safety_stages(ctx: click.Context) -> list[dict]:
    """The safety.toxicity / safety.bias stages the user's options ask for (bias implies
    toxicity, whose scores it needs)."""
    p = ctx.params
    tox = _given(ctx, "toxicity_max", "toxicity_model", "toxicity_checkpoint", "toxicity_config",
                 "toxicity_on", "toxicity_batch_size")
    bias = _given(ctx, "identity_attack_max", "group_toxicity_max", "balance", "bias_on",
                  "lexicon")
    want_bias = p["bias"] or bool(bias)
    want_tox = p["toxicity"] or bool(tox) or bool(p["max_label"]) or want_bias
    stages = []
    if want_tox:
        names = {"toxicity_max": "max", "toxicity_model": "model",
                 "toxicity_checkpoint": "checkpoint", "toxicity_config": "config",
                 "toxicity_on": "on", "toxicity_batch_size": "batch_size"}
        options = {names[k]: v for k, v in tox.items()}
        if p["max_label"]:
            options["max_label"] = p["max_label"]
        stages.append({"use": "safety.toxicity", "with": options})
    if want_bias:
        stages.append({"use": "safety.bias",
                       "with": {("on" if k == "bias_on" else k): v for k, v in bias.items()}})
    return stages


@click.command(name="filter")
@input_argument
@output_option
@click.option("--quality/--no-quality", default=True, show_default=True,
              help="Run the quality rules (stage quality.rules).")
@model_options(QualityRules.Options)
@click.option("--toxicity", is_flag=True,
              help="Score toxicity (stage safety.toxicity); implied by any --toxicity-* option.")
@click.option("--toxicity-max", type=_THRESHOLD,
              help="Drop records whose toxicity (largest label score) is above: reason toxic "
                   "[default: 0.5] ('none' turns it off).")
@click.option("--max-label", multiple=True, callback=_label_thresholds, metavar="LABEL=T",
              help="Per-label threshold, e.g. insult=0.3 (reason toxic_<label>); repeatable.")
@click.option("--toxicity-on", type=click.Choice(["prompt", "response", "both"]),
              help="Text scored for toxicity [default: response].")
@click.option("--toxicity-model", type=click.Choice(_MODELS),
              help="auto (Detoxify original if its weights can be had, else profanity-check), "
                   "a Detoxify model type, or profanity-check [default: auto].")
@click.option("--toxicity-checkpoint", type=click.Path(exists=True, dir_okay=False),
              help="A local Detoxify checkpoint (overrides --toxicity-model).")
@click.option("--toxicity-config", type=click.Path(exists=True, file_okay=False),
              help="The checkpoint's Hugging Face config and tokenizer folder (offline loading).")
@click.option("--toxicity-batch-size", type=click.IntRange(min=1),
              help="Texts per model call [default: 32].")
@click.option("--bias", is_flag=True,
              help="Audit identity groups (stage safety.bias, OUT/bias.json); implies "
                   "--toxicity; implied by the bias options below.")
@click.option("--identity-attack-max", type=_THRESHOLD,
              help="Drop records whose identity_attack score is above [default: 0.5].")
@click.option("--group-toxicity-max", type=_THRESHOLD,
              help="Drop records that mention an identity group with toxicity above: reason "
                   "toxic_about_group [default: 0.25].")
@click.option("--balance", type=click.FloatRange(0, 1, min_open=True),
              help="Cap each group's share of its category, e.g. 0.6: reason group_balance.")
@click.option("--bias-on", type=click.Choice(["prompt", "response", "both"]),
              help="Where group mentions are looked for [default: both].")
@click.option("--lexicon", type=click.Path(exists=True, dir_okay=False),
              help="A JSON identity-term lexicon instead of the shipped one.")
@input_options
@on_error_option
def filter_(input_path, out, fmt, on_error, quality, **values):
    """Score records and drop those that fail (each under its own reason): quality rules, and
    with the toxicity and bias options, Detoxify toxicity and an identity-group bias audit."""
    ctx = click.get_current_context()
    stages = []
    if quality:
        options = set_options(QualityRules.Options, values)
        stages.append({"use": QualityRules.id, "with": options})
    stages += safety_stages(ctx)
    if not stages:
        raise click.UsageError("nothing to do: --no-quality without --toxicity or --bias")
    run_stage_command("filter", input_path, out, stages, fmt=fmt, on_error=on_error)


COMMANDS = (filter_,)
