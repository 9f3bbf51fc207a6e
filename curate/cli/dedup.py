"""curate dedup."""

from __future__ import annotations

import click

from .common import input_argument, input_options, on_error_option, output_option, run_stage_command

METHODS = {"exact": "dedup.exact", "near": "dedup.near", "semantic": "dedup.semantic"}
# option -> the methods it applies to
_APPLIES = {"threshold": ("near", "semantic"), "keep": ("near", "semantic"),
            "num_perm": ("near",), "ngram": ("near",), "verify": ("near",),
            "model": ("semantic",), "clusters": ("semantic",)}


@click.command()
@input_argument
@output_option
@click.option("--method", type=click.Choice(list(METHODS)), default="exact", show_default=True,
              help="exact: same normalised text; near: MinHash LSH on word n-grams; "
                   "semantic: embeddings (k-means blocks, cosine).")
@click.option("--on", "on", type=click.Choice(["prompt", "response", "conversation", "pair"]),
              default="conversation", show_default=True,
              help="Which part of a record must match for two records to be duplicates.")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="near: Jaccard of word n-gram sets [default: 0.8]; "
                   "semantic: cosine similarity [default: 0.9].")
@click.option("--num-perm", type=click.IntRange(2, 1024), help="near: MinHash permutations [default: 128].")
@click.option("--ngram", type=click.IntRange(1, 32), help="near: words per shingle [default: 5].")
@click.option("--keep", help="Survivor of a cluster: first, longest, or a numeric column "
                             "(highest wins) [default: first].")
@click.option("--verify/--no-verify", default=None,
              help="near: check the exact Jaccard of candidate pairs [default: verify].")
@click.option("--model", help="semantic: sentence-transformers model name or path "
                              "[default: all-MiniLM-L6-v2, packaged].")
@click.option("--clusters", type=click.IntRange(1), help="semantic: k-means clusters "
                                                         "[default: from the corpus size].")
@input_options
@on_error_option
def dedup(input_path, out, method, on, fmt, on_error, **values):
    """Remove duplicate records: one record of each group of duplicates is kept."""
    options = {"on": on}
    for name, value in values.items():
        if value is None:
            continue
        if method not in _APPLIES[name]:
            flag = "--" + name.replace("_", "-")
            raise click.UsageError(f"{flag} does not apply to --method {method}")
        options[name] = value
    stage = {"use": METHODS[method], "with": options}
    run_stage_command(f"dedup-{method}", input_path, out, [stage], fmt=fmt, on_error=on_error)


COMMANDS = (dedup,)
