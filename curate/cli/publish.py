"""curate publish."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command()
@click.argument("out", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--repo-id", required=True, help="Dataset repository: NAME or NAMESPACE/NAME.")
@click.option("--public", is_flag=True, help="Create the repository public (default: private).")
@click.option("--revision", default=None, help="Branch to commit to (created when missing).")
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; needs no network.")
@click.option("--token", default=None, help="Hub token (default: HF_TOKEN, then the login).")
@click.option("-m", "--message", default=None, help="Commit message.")
def publish(out, repo_id, public, revision, dry_run, token, message):
    """Upload an export folder to the Hugging Face Hub as a dataset, in one commit."""
    from ..export.publish import publish as publish_folder  # startup

    res = publish_folder(Path(out), repo_id=repo_id, public=public, revision=revision,
                         dry_run=dry_run, token=token, endpoint=os.environ.get("HF_ENDPOINT"),
                         commit_message=message)
    visibility = "private" if res.private else "public"
    head = "would upload" if res.dry_run else "uploaded"
    click.echo(f"{head} {len(res.files)} files to {res.repo_id} ({visibility}, "
               f"revision {res.revision}):")
    for path, size in res.files:
        click.echo(f"  {path}  {size} bytes")
    if res.commit_url:
        click.echo(f"commit {res.commit_oid}: {res.commit_url}")


COMMANDS = (publish,)
