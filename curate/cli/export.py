"""curate export."""

from __future__ import annotations

from pathlib import Path

import click

from .common import format_option, input_argument


class SizeType(click.ParamType):
    """A split size: a fraction in (0, 1) or a row count."""

    name = "fraction|count"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return value
        try:
            return int(value) if value.strip().isdigit() else float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a fraction nor a count", param, ctx)


@click.command()
@input_argument
@click.option("-o", "--output", "out", required=True, type=click.Path(),
              help="Folder to write the dataset files and README.md into.")
@click.option("--target", required=True, help="trl-sft, trl-dpo, ...")
@click.option("--test-size", type=SizeType(), default=0.1, show_default=True)
@click.option("--validation-size", type=SizeType(), default=None)
@click.option("--seed", type=int, default=0, show_default=True)
@format_option
def export(input_path, out, target, test_size, validation_size, seed, fmt):
    """Split records into train/test (group-aware, seeded) and write them for a trainer."""
    from ..convert import convert
    from ..export import TARGETS
    from ..export import export as export_frame
    from ..manifest import read_manifest

    if target not in TARGETS:
        raise click.BadParameter(f"{target!r} is not one of {', '.join(TARGETS)}",
                                 param_hint="--target")
    frame = convert(input_path, format=fmt).frame
    run_info = read_manifest(Path(input_path)) if Path(input_path).is_dir() else None
    result = export_frame(frame, Path(out), target=target, test_size=test_size,
                          validation_size=validation_size, seed=seed, run_info=run_info)
    if result.rejected.height:
        (Path(out) / "rejected").mkdir(exist_ok=True)
        result.rejected.write_parquet(Path(out) / "rejected" / "export.parquet")
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items())
    click.echo(f"wrote {out} ({target}): {counts}")
    for reason, n in result.skipped.items():
        click.echo(f"  not exported: {reason}: {n}")


COMMANDS = (export,)
