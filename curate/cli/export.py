"""curate export."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from ..errors import CurateError
from ..io.dispatch import is_record_input, record_parts
from ..io.owned import merge_remote_marker, read_remote_manifest
from ..io.remote import is_url, redact
from ..manifest import read_manifest
from ..record_schema import RECORD_SCHEMA
from .common import input_argument, input_options, read_settings


# the target options that are flags of this command
TARGET_OPTIONS = ("sft_format", "sft_from_pairs", "task", "style", "label_column")


def skip_hint(input_path: str) -> str:
    """How to go on after a bad input row: export has no --on-error, convert has."""
    return (f"`curate convert {input_path} -o RUN --on-error skip` keeps such rows in "
            "RUN/rejected/ with their reason; then give RUN to this command")


class SizeType(click.ParamType):
    """A split size: a fraction in (0, 1) or a row count."""

    name = "fraction|count"

    def convert(self, value, param, ctx):
        from ..export.split import size_problem  # startup

        if not isinstance(value, (int, float)):
            try:
                value = int(value) if value.strip().isdigit() else float(value)
            except ValueError:
                self.fail(f"{value!r} is neither a fraction nor a count", param, ctx)
        problem = size_problem(value)
        if problem is not None:
            self.fail(problem, param, ctx)
        return value


def _csv(ctx, param, value):
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in ("parquet", "jsonl")]
    if bad or not items:
        raise click.BadParameter(f"{value!r}: expected parquet, jsonl or parquet,jsonl")
    return items


@click.command()
@input_argument
@click.option("-o", "--output", "out", required=True, type=click.Path(),
              help="Folder (or fsspec URL: s3://..., gs://...) to write the dataset files and "
                   "README.md into.")
@click.option("--target", required=True,
              help="trl-sft, trl-dpo, trl-kto, trl-reward, axolotl, llama-factory or openai.")
@click.option("--test-size", type=SizeType(), default=0.1, show_default=True,
              help="Fraction in (0, 1) or number of rows for the test split.")
@click.option("--validation-size", type=SizeType(), default=None,
              help="Fraction or number of rows for an optional validation split.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--formats", callback=_csv, default=None,
              help="Files to write: parquet, jsonl or parquet,jsonl (default: all the target "
                   "reads).")
@click.option("--sft-format", type=click.Choice(["messages", "prompt-completion"]), default=None,
              help="trl-sft: conversational messages, or prompt/completion.")
@click.option("--sft-from-pairs", is_flag=True, default=None,
              help="trl-sft: also export pairs as prompt + chosen.")
@click.option("--task", type=click.Choice(["sft", "dpo"]), default=None,
              help="axolotl, llama-factory, openai: SFT conversations or preference pairs.")
@click.option("--style", type=click.Choice(["sharegpt", "alpaca"]), default=None,
              help="llama-factory: file style.")
@click.option("--label-column", default=None,
              help="trl-kto: column with accept/reject labels of SFT rows (default: "
                   "label_accept or label_verdict, whichever exists).")
@click.option("--chat-template", type=click.Choice(["chatml", "llama-3", "zephyr"]),
              default="chatml", show_default=True,
              help="Chat template every row is rendered with before it is written.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=None,
              help="Drop rows longer than this many tokens (needs --tokenizer).")
@click.option("--tokenizer", default=None,
              help="Tokenizer for --max-tokens: a folder or a name in the local HF cache.")
@click.option("--overwrite", is_flag=True,
              help="Let curate replace files in OUT that it did not write, at the names an "
                   "export writes (train.jsonl, README.md, ...); without it curate refuses.")
@input_options
def export(input_path, out, target, test_size, validation_size, seed, formats, sft_format,
           sft_from_pairs, task, style, label_column, chat_template, max_tokens, tokenizer,
           overwrite, fmt):
    """Check records against a trainer's format, split them (group-aware, seeded) and write
    them with a dataset card. Rows a target cannot take go to OUT/rejected/export.parquet.
    curate replaces or removes only the files it wrote in OUT (see --overwrite)."""
    from ..export import TARGETS  # startup
    from ..export.folder import REJECTED, export_names  # startup
    from ..io.output import prepare_output  # startup

    if target not in TARGETS:
        raise click.BadParameter(f"{target!r} is not one of {', '.join(TARGETS)}",
                                 param_hint="--target")
    given = dict(zip(TARGET_OPTIONS, (sft_format, sft_from_pairs, task, style, label_column)))
    options = {k: v for k, v in given.items() if v is not None}
    _check_options(target, options, test_size, validation_size, formats, max_tokens, tokenizer)
    prepare_output(out, inputs=[input_path], export=[*export_names(target), REJECTED],
                   overwrite=overwrite)
    tmp = tempfile.TemporaryDirectory(prefix="curate-export-input-")
    try:
        _export_input(input_path, out, fmt, Path(tmp.name), target=target, test_size=test_size,
                      validation_size=validation_size, seed=seed, formats=formats,
                      chat_template=chat_template, max_tokens=max_tokens, tokenizer=tokenizer,
                      overwrite=overwrite, **options)
    finally:
        tmp.cleanup()


def _export_input(input_path: str, out: str, fmt: str, tmp: Path, **options) -> None:
    """Read the input (a record input as it is, other data converted into ``tmp`` piece by
    piece) and export it; print what was written."""
    from ..io.dispatch import is_run_folder  # startup
    from ..io.output import writing  # startup

    data, columns = input_parts(input_path, fmt, tmp)
    target = options["target"]
    run_info = None
    if is_url(input_path):
        manifest = read_remote_manifest(input_path)
        run_info = None if manifest is None else dict(manifest, run_dir=redact(input_path))
    elif Path(input_path).is_dir() and is_run_folder(Path(input_path)):
        run_info = dict(read_manifest(Path(input_path)) or {}, run_dir=str(input_path))
    with writing(out):
        result = _write(data, out, run_info=run_info, **options)
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items())
    click.echo(f"wrote {out} ({target}): {counts}")
    for note in result.notes:
        click.echo(f"  {note}")
    for reason, n in result.skipped.items():
        hint = result.hints.get(reason)
        click.echo(f"  not exported: {reason}: {n}" + (f" ({hint})" if hint else ""))
    for file, mapping in columns.items():
        click.echo(f"  {file}: columns {mapping}")


def input_parts(input_path: str, fmt: str, tmp: Path):
    """The input's records as Parts, and the column map each file was read through: a local
    run folder or records parquet in the record schema is read as it is; anything else is
    converted (piece by piece) into ``tmp``."""
    from ..convert import convert_parts  # startup

    if fmt in ("auto", "records") and not is_url(input_path) and is_record_input(input_path):
        parts = record_parts(input_path)
        if all(parts.schema.get(c) == t for c, t in RECORD_SCHEMA.items()):
            return parts, {}
    res = convert_parts(input_path, tmp / "data.parquet", tmp / "rejected.parquet", format=fmt,
                        hint=skip_hint(input_path), **read_settings())
    return res.kept, res.columns


def _check_options(target, options, test_size, validation_size, formats, max_tokens,
                   tokenizer) -> None:
    """Usage errors before any row is read: an option of another target, sizes that leave no
    train rows, writer options that cannot go together."""
    from ..export import check_writer_options, get_target  # startup
    from ..export.split import held_out_problem  # startup

    def flags(names):
        return ", ".join(f"--{n.replace('_', '-')}" for n in sorted(names)) or "none"

    known = set(get_target(target).options) & set(TARGET_OPTIONS)  # those with a flag
    unknown = set(options) - known
    if unknown:
        raise click.UsageError(f"{flags(unknown)}: not an option of --target {target} (its "
                               f"options: {flags(known)})")
    problem = held_out_problem(test_size, validation_size,
                               names=("--test-size", "--validation-size"))
    if problem is not None:
        raise click.UsageError(problem)
    if max_tokens is not None and not tokenizer:
        raise click.UsageError("--max-tokens needs --tokenizer (a name in the local Hugging "
                               "Face cache or a tokenizer folder) to count tokens with")
    try:
        check_writer_options(target, formats=formats)
    except CurateError as exc:
        raise click.BadParameter(str(exc), param_hint="--formats") from None


def _write(data, out: str, **options):
    """Export ``data`` (Parts) into the folder or URL ``out``, with rejected/export.parquet."""
    from ..export import export_parts  # startup
    from ..export.folder import REJECTED  # startup
    from ..io.mirror import RunMirror  # startup

    mirror = RunMirror(out) if is_url(out) else None  # written locally, then uploaded
    if mirror is not None:
        mirror.start(pull=False)
    folder = mirror.local if mirror is not None else Path(out)
    result = export_parts(data, folder, rejected_file=REJECTED, **options)
    if mirror is not None:
        merge_remote_marker(folder, out)  # files at the URL are never deleted: still curate's
        mirror.push()
        mirror.close()
    return result


COMMANDS = (export,)
