"""curate run / validate / stages."""

from __future__ import annotations

from pathlib import Path

import click

from ..recipe import load_recipe
from ..recipe_files import check_recipe_columns, check_recipe_files, resolve_input_path
from ..stages.registry import stage_class, stage_ids


@click.command()
@click.argument("recipe_file", metavar="RECIPE.yaml", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(),
              help="Run folder, or an fsspec URL (s3://..., gs://...) [default: "
                   "exports/<recipe name>].")
@click.option("--from", "from_stage", metavar="STAGE",
              help="Rerun from this stage, starting from the checkpoint of the stage before.")
@click.option("--until", metavar="STAGE", help="Stop after this stage (no export).")
@click.option("--limit", type=click.IntRange(min=1), help="Read only the first N input rows.")
@click.option("--engine", type=click.Choice(["local", "ray"]), help="Override the recipe's engine.")
@click.option("--resume", is_flag=True, help="Skip the stages whose checkpoints are still valid.")
@click.option("--no-report", is_flag=True, help="Do not write report.html.")
def run(recipe_file, out, from_stage, until, limit, engine, resume, no_report):
    """Run a recipe: convert, stages in order, exports, report."""
    from ..io.output import prepare_output, writing  # startup
    from ..runner import run_recipe  # startup

    recipe = load_recipe(recipe_file)
    if engine:
        recipe = recipe.model_copy(update={"engine": engine})
    out = out or str(Path("exports") / recipe.name)  # a folder or a URL: kept as given
    prepare_output(out, inputs=[resolve_input_path(recipe, Path(recipe_file))])
    with writing(out):
        manifest = run_recipe(recipe, out, recipe_file=Path(recipe_file), from_stage=from_stage,
                              until=until, limit=limit, resume=resume, report=not no_report,
                              echo=click.echo)
    click.echo(f"{manifest['status']}: {manifest['rows_in']} rows in, {manifest['rows_out']} "
               f"records out, {manifest['seconds']:.1f}s; see {out}/report.html"
               if not no_report else
               f"{manifest['status']}: {manifest['rows_in']} rows in, {manifest['rows_out']} "
               f"records out, {manifest['seconds']:.1f}s")
    stages = manifest["stages"]
    for file, mapping in (stages[0].get("stats", {}).get("columns", {}) if stages else {}).items():
        click.echo(f"  {file}: columns {mapping}")


@click.command()
@click.argument("recipe_file", metavar="RECIPE.yaml", type=click.Path(exists=True, dir_okay=False))
def validate(recipe_file):
    """Check a recipe without running it: its options, the files it names, and the columns
    each stage reads (everything `curate run` would refuse before data moves)."""
    recipe = load_recipe(recipe_file)
    check_recipe_files(recipe, Path(recipe_file))
    check_recipe_columns(recipe, recipe_file=Path(recipe_file))
    names = " -> ".join(["convert", *recipe.stage_names()])
    targets = ", ".join(e.target for e in recipe.export) or "none"
    click.echo(f"{recipe_file}: ok ({names}; exports: {targets})")


@click.command()
def stages():
    """List the stages a recipe can use."""
    for stage_id in stage_ids():
        cls = stage_class(stage_id)
        click.echo(f"{stage_id:<16} {cls.summary}")


COMMANDS = (run, validate, stages)
