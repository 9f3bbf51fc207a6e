"""``curate generate`` and ``curate judge`` behind their click layer: the LLM stage's recipe run
(resumable), and the dry run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..convert import convert
from ..io.output import prepare_output, writing
from ..llm.backends import cache_path
from ..llm.estimate import estimate
from ..manifest import read_manifest
from ..recipe import parse_recipe
from ..recipe_files import resolve_input_path
from ..runner import run_recipe
from ..stages.base import StageContext
from ..stages.llm_base import retry_hint
from ..stages.registry import stage_class

BUDGET = "budget_exhausted"


def _recipe(spec: dict, stage: dict | list[dict], on_error: str):
    """The recipe of the LLM stage(s); a RecipeError names the option (the commands check it
    first and say it as their flag, see :func:`curate.cli.common.stage_recipe`)."""
    stages = stage if isinstance(stage, list) else [stage]
    return parse_recipe({"name": stages[0]["use"].split(".")[0], "input": spec,
                         "on_error": on_error, "stages": stages})


def _resume_from(out: Path, name: str) -> str | None:
    """The stage to rerun when the last run stopped at its token budget or some of its
    requests failed (the answered ones come from the cache, failures of the server or the
    connection are sent again), else None."""
    previous = read_manifest(out) or {}
    for entry in previous.get("stages", []):
        dropped = entry.get("dropped", {})
        if entry.get("name") == name and (dropped.get(BUDGET)
                                          or dropped.get(stage_class(name).failed_reason)):
            return name
    return None


def run_generation(spec: dict, out: str, stage: dict | list[dict], *, on_error: str,
                   resume: bool, price_per_1k: float | None, echo: Callable[[str], Any]) -> dict:
    """Run the LLM ``stage`` (or a list of stages, the LLM stage first) as a recipe."""
    recipe = _recipe(spec, stage, on_error)
    llm_stage = stage[0] if isinstance(stage, list) else stage
    prepare_output(out, inputs=[spec["path"]])
    from_stage = _resume_from(Path(out), llm_stage["use"]) if resume else None
    with writing(out):
        manifest = run_recipe(recipe, out, echo=echo, resume=resume and from_stage is None,
                              from_stage=from_stage)
    entry = next(e for e in manifest["stages"] if e.get("name") == llm_stage["use"])
    s = entry.get("stats", {})
    echo(f"wrote {out}/data.parquet: {manifest['rows_out']} of {manifest['rows_in']} rows "
         "kept")
    echo(f"{s.get('backend')} {s.get('model')} ({s.get('template_version')}): "
         f"{s.get('requests', 0)} requests, {s.get('cache_hits', 0)} from the cache, "
         f"{s.get('retries', 0)} retries, {s.get('failures', 0)} failed; "
         f"{s.get('prompt_tokens', 0)} prompt + {s.get('completion_tokens', 0)} completion "
         "tokens" + _cost(s.get("prompt_tokens", 0) + s.get("completion_tokens", 0),
                          price_per_1k))
    failed = entry.get("dropped", {}).get(stage_class(llm_stage["use"]).failed_reason)
    if failed and s.get("first_error"):
        echo(f"{failed} rows failed, the first with: {s['first_error']}"
             + retry_hint(s.get("cached_failures", 0)))
    if entry.get("dropped", {}).get(BUDGET):
        echo(f"stopped at the token budget: {entry['dropped'][BUDGET]} rows not generated; "
             "rerun with --resume (and a larger --max-tokens-total) to go on")
    return manifest


def _cost(tokens: int, price: float | None) -> str:
    return "" if price is None else f", cost {tokens / 1000 * price:.4f} at {price}/1k"


def dry_run(spec: dict, out: str, stage: dict, *, on_error: str, price_per_1k: float | None,
            echo: Callable[[str], Any]) -> None:

    recipe = _recipe(spec, stage, on_error)
    s = recipe.input
    converted = convert(resolve_input_path(recipe, None), format=s.format, kind=s.kind,
                        on_error=on_error, columns=s.columns, encoding=s.encoding)
    use = recipe.stages[0].use
    generator = stage_class(use)(recipe.stages[0].with_)
    cache = cache_path(generator.options, Path(out) / "cache")
    ctx = StageContext(name=use, seed=recipe.seed, on_error=on_error)
    est = estimate(generator, converted.frame, ctx, cache if Path(cache).exists() else None)
    for i, messages in enumerate(est.examples, 1):
        echo(f"request {i}:")
        for m in messages:
            echo(f"  {m['role']}: {m['content'][:300]}")
    total = est.prompt_tokens + est.completion_tokens
    errors = (f" ({est.cached_failures} of them errors, sent again only with --retry-errors)"
              if est.cached_failures else "")
    echo(f"dry run: {est.rows} of {converted.frame.height} rows to generate "
         f"({converted.rejected.height} input rows rejected); {est.requests} requests to "
         f"send, {est.cache_hits} answered by the cache{errors}; about {est.prompt_tokens} prompt "
         f"tokens + at most {est.completion_tokens} completion tokens"
         + _cost(total, price_per_1k) + ". Nothing was sent.")
