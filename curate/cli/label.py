"""``curate label``: the local Argilla stack, and pushing to / pulling from any Argilla 2.x.

The API key is only ever printed by ``serve``, once, on its ``ARGILLA_API_KEY=`` line.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import click

from .common import InputPath, input_options, output_option

api_options = [
    click.option("--api-url", envvar="ARGILLA_API_URL", default=None,
                 help="Argilla API URL [env ARGILLA_API_URL; default: the local stack's]."),
    click.option("--api-key", envvar="ARGILLA_API_KEY", default=None, show_envvar=False,
                 help="Argilla API key [env ARGILLA_API_KEY; default: the local stack's]."),
]
dataset_option = click.option("--dataset", required=True, help="Argilla dataset name.")
home_option = click.option("--home", type=click.Path(), default=None,
                           help="The local stack's folder [env CURATE_ARGILLA_HOME; default "
                                "~/.cache/curate/argilla].")


def with_api(fn):
    for opt in reversed(api_options):
        fn = opt(fn)
    return fn


def _client(api_url, api_key):
    from ..argilla.client import ArgillaClient, resolve_connection  # startup
    url, key = resolve_connection(api_url, api_key)
    return ArgillaClient(url, key)


@click.group("label")
def label() -> None:
    """Human labeling in Argilla: serve | stop | push | status | pull."""


@label.command("serve")
@home_option
@click.option("--port", type=int, default=6900, show_default=True, help="API and web UI port.")
def serve(*, home, port) -> None:
    """Set up (first run) and start the local Argilla stack in the background."""
    from ..argilla.server import LocalStack  # startup

    stack = LocalStack.from_env(home=home, port=port)
    t0 = time.monotonic()
    info = stack.start()
    state = "already running" if info.already_running else f"started in {time.monotonic() - t0:.0f} s"
    click.echo(f"# Argilla {state}; logs in {stack.logs}; `curate label stop` stops it")
    click.echo(f"ARGILLA_API_URL={info.api_url}")
    click.echo(f"ARGILLA_API_KEY={info.api_key}")
    click.echo(f"# web UI: {info.api_url}  login: {info.username}  password: in "
               f"{stack.home / 'password'}")


@label.command("stop")
@home_option
def stop(*, home) -> None:
    """Stop the processes `serve` started (the data stays for the next `serve`)."""
    from ..argilla.server import LocalStack  # startup

    stack = LocalStack.from_env(home=home)
    stopped = stack.stop()
    click.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@label.command("push")
@click.argument("input_path", metavar="[INPUT]", required=False, type=InputPath(exists=True))
@click.option("--from-judge", "judged_run", type=click.Path(exists=True, file_okay=False),
              default=None, help="Push the hard cases of a `curate judge` run folder instead of "
                                 "INPUT: ties, order-dependent verdicts, pairs under the margin, "
                                 "judges that disagree; their verdicts become suggestions.")
@click.option("--hard-margin", type=click.FloatRange(min=0), default=None,
              help="With --from-judge: also push the judges' pairs whose judge_margin is under "
                   "this (on the judge's scale; 0 pushes none for their margin). "
                   "[default: 0]")
@dataset_option
@click.option("--task", type=click.Choice(["sft-review", "preference"]), default=None,
              help="Labeling task [default: from the records' kind].")
@click.option("--annotators", type=click.IntRange(min=1), default=1, show_default=True,
              help="Submitted responses that complete a record.")
@click.option("--workspace", default=None, help="Argilla workspace [default: the user's first].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the A/B order.")
@input_options
@with_api
def push(*, input_path, judged_run, hard_margin, dataset, task, annotators, workspace, seed,
         fmt, api_url, api_key) -> None:
    """Push records (INPUT), or a judged run's hard cases (--from-judge RUN), to an Argilla
    dataset (re-pushing updates by id)."""
    from ..argilla.push import push_records  # startup

    if (input_path is None) == (judged_run is None):
        raise click.UsageError("give either INPUT or --from-judge RUN")
    if hard_margin is not None and judged_run is None:
        raise click.UsageError("--hard-margin goes with --from-judge RUN")
    if judged_run is not None:
        from ..argilla.judged import JudgeSuggestions, hard_cases  # startup

        frame, columns = hard_cases(Path(judged_run), hard_margin=hard_margin or 0.0), {}
        extension = JudgeSuggestions(Path(judged_run))
    with ExitStack() as stack:
        if judged_run is None:  # the input's records in storage, read piece by piece

            from .export import input_parts  # startup

            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="curate-push-"))
            data, columns = input_parts(input_path, fmt, Path(tmp))
            extension = None
        else:
            data = frame
        with _client(api_url, api_key) as client:
            summary = push_records(client, data, dataset=dataset, task=task,
                                   annotators=annotators, workspace=workspace, seed=seed,
                                   extension=extension)
    click.echo(f"pushed {summary['records']} {summary['task']} records to {dataset} "
               f"({summary['batches']} batches); {annotators} submitted response(s) per record")
    if judged_run is not None:
        reasons = frame.get_column("judge_hard_reason").value_counts(sort=True).iter_rows()
        click.echo("  hard cases of " + judged_run + ": "
                   + (", ".join(f"{r} {n}" for r, n in reasons) or "none"))
    for file, mapping in columns.items():
        click.echo(f"  {file}: columns {mapping}")


@label.command("status")
@dataset_option
@with_api
def status(*, dataset, api_url, api_key) -> None:
    """Progress of a dataset, overall and per annotator."""
    with _client(api_url, api_key) as client:
        ds = client.dataset(dataset)
        prog = client.get(f"/api/v1/datasets/{ds['id']}/progress")
        users = client.get(f"/api/v1/datasets/{ds['id']}/users/progress")["users"]
    click.echo(f"{dataset}: {prog.get('total', 0)} records, {prog.get('completed', 0)} completed, "
               f"{prog.get('pending', 0)} pending")
    for u in users:
        done, pend = u["completed"], u["pending"]
        click.echo(f"  {u['username']}: submitted {done['submitted'] + pend['submitted']}, "
                   f"discarded {done['discarded'] + pend['discarded']}, "
                   f"draft {done['draft'] + pend['draft']}")


@label.command("pull")
@dataset_option
@output_option
@click.option("--judged", "judged_run", type=click.Path(exists=True, file_okay=False),
              default=None, help="The run pushed with --from-judge: also write "
                                 "OUT/merged.parquet, its judge pairs with the people's answers "
                                 "applied.")
@with_api
def pull(*, dataset, out, judged_run, api_url, api_key) -> None:
    """Pull answers: OUT/data.parquet, OUT/pairs.parquet, manifest with agreement, report."""
    from ..argilla.pull import write_pull  # startup
    from ..io.output import prepare_output  # startup

    prepare_output(out, inputs=[judged_run])
    with _client(api_url, api_key) as client:
        summary = write_pull(client, dataset=dataset, out=Path(out),
                             judged_run=Path(judged_run) if judged_run else None)
    c = summary["counts"]
    click.echo(f"wrote {out}/data.parquet: {c['records']} records ({c['completed']} completed, "
               f"{c['pending']} pending, {c['discarded']} discarded)")
    for q, a in summary["agreement"].items():
        click.echo(f"  {q}: {_agreement_line(a)}")
    if "judge_human" in summary:
        jh = summary["judge_human"]
        click.echo(f"judge-human agreement on {jh['answered']} of {jh['items']} items people "
                   f"answered ({jh['ties']} ties, no pair):")
        for judge, a in jh["judges"].items():
            click.echo(f"  {judge}: {_agreement_line(a)}")
    for name, what in summary["files"].items():
        n = {"pairs.parquet": summary.get("pairs", summary.get("judge_human", {}).get("pairs")),
             "merged.parquet": summary.get("merged", {}).get("records")}.get(name)
        click.echo(f"  {out}/{name}: {what}" + (f" ({n} records)" if n is not None else ""))


def _agreement_line(a: dict) -> str:
    alpha = "n/a" if a["alpha"] is None else f"{a['alpha']:.3f}"
    pa = "n/a" if a["percent_agreement"] is None else f"{a['percent_agreement']:.3f}"
    return f"percent agreement {pa}, Krippendorff's alpha ({a['level']}) {alpha} over " \
           f"{a['units']} items"


COMMANDS = (label,)
