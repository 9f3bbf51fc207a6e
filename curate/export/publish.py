"""Publish an export folder to the Hugging Face Hub as a dataset repository, in one commit.

The folder is what :func:`curate.export.export` wrote (data files, side files, README.md):
only the files its marker says curate wrote go up; ``rejected/``, hidden files and anything
else in the folder (notes, other folders) stay local. The token comes from ``token=``, else ``HF_TOKEN``,
else the huggingface_hub login (``hf auth login``). The repository is created private unless
``public=True`` (an existing repository keeps its visibility), and everything goes up in one
commit to ``revision`` (a branch, created when missing; ``main`` by default). The card's
loading snippet is pointed at the repository in the uploaded copy.

``dry_run=True`` lists what would be uploaded without a token or a network connection.

The token never appears in what this module returns, prints or raises: Hub errors become a
:class:`~curate.errors.CurateError` with the status and the Hub's message, with the token
scrubbed from it and the original exception dropped.

Examples:

    >>> res = publish(Path("exports/demo/export/trl-sft"), repo_id="me/demo-sft", dry_run=True)
    >>> [path for path, _ in res.files]
    ['README.md', 'test.jsonl', 'test.parquet', 'train.jsonl', 'train.parquet']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import CurateError
from .folder import published_files

PLACEHOLDER = 'load_dataset("path/to/this/folder")'


@dataclass
class PublishResult:
    repo_id: str
    revision: str
    private: bool
    files: list[tuple[str, int]]          # (path in the repository, bytes)
    dry_run: bool
    commit_message: str = ""
    commit_url: str | None = None
    commit_oid: str | None = None


def upload_files(out_dir: Path) -> list[Path]:
    """The files of an export folder that are published, sorted by path: the ones curate wrote
    there (see :func:`curate.export.folder.published_files`); notes, other folders, rejected/
    and hidden files stay local."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise CurateError(f"{out_dir}: not a folder (expected an export folder from "
                          "`curate export` or a run's export/<target>)")
    if not (out_dir / "README.md").is_file():
        raise CurateError(f"{out_dir}: no README.md; publish an export folder written by "
                          "`curate export` (it writes the dataset card)")
    return published_files(out_dir)


def resolve_token(token: str | None = None) -> str | None:
    """``token``, else HF_TOKEN, else the token saved by the huggingface_hub login."""
    if token:
        return token
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"]
    from huggingface_hub import get_token  # startup

    return get_token()


def _content(path: Path, rel: str, repo_id: str) -> bytes:
    data = path.read_bytes()
    if rel == "README.md":
        text = data.decode("utf-8").replace(PLACEHOLDER, f'load_dataset("{repo_id}")')
        data = text.encode("utf-8")
    return data


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "<token>") if token else text


def _hub_error(exc: Exception, what: str, token: str | None) -> CurateError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    hint = {401: " (the token was refused: check HF_TOKEN, --token or `hf auth login`)",
            403: " (the token may not write to this namespace)"}.get(status, "")
    where = f"HTTP {status}: " if status else ""
    return CurateError(_scrub(f"{what} failed: {where}{first}{hint}", token))


def publish(out_dir: Path, *, repo_id: str, public: bool = False, revision: str | None = None,
            dry_run: bool = False, token: str | None = None, endpoint: str | None = None,
            commit_message: str | None = None) -> PublishResult:
    """Upload ``out_dir`` to the dataset repository ``repo_id`` in one commit; see the module
    docstring. ``repo_id`` without a namespace goes under the token's user (``whoami``).
    ``endpoint``: the Hub's URL (default: huggingface_hub's, which honours HF_ENDPOINT)."""
    if not repo_id or repo_id.count("/") > 1 or repo_id.startswith("/") or repo_id.endswith("/"):
        raise CurateError(f"--repo-id {repo_id!r}: expected NAME or NAMESPACE/NAME")
    files = upload_files(Path(out_dir))
    rels = [p.relative_to(out_dir).as_posix() for p in files]
    message = commit_message or f"Upload {len(files)} files with curate"
    result = PublishResult(repo_id=repo_id, revision=revision or "main", private=not public,
                           files=[(r, p.stat().st_size) for r, p in zip(rels, files)],
                           dry_run=dry_run, commit_message=message)
    if dry_run:
        return result

    secret = resolve_token(token)
    if not secret:
        raise CurateError("no Hugging Face token: set HF_TOKEN, pass --token, or log in with "
                          "`hf auth login`")
    from huggingface_hub import CommitOperationAdd, HfApi  # startup

    api = HfApi(endpoint=endpoint, token=secret)
    step = "publishing"
    try:
        if "/" not in repo_id:
            step = "looking up the token's user (whoami)"
            repo_id = f"{api.whoami()['name']}/{repo_id}"
            result.repo_id = repo_id
        step = f"creating dataset repository {repo_id}"
        api.create_repo(repo_id, repo_type="dataset", private=not public, exist_ok=True)
        if revision and revision != "main":
            step = f"creating branch {revision} of {repo_id}"
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        ops = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=_content(p, rel, repo_id))
               for rel, p in zip(rels, files)]
        step = f"committing {len(ops)} files to {repo_id}"
        info = api.create_commit(repo_id, operations=ops, commit_message=message,
                                 repo_type="dataset", revision=revision)
    except CurateError:
        raise
    except Exception as exc:  # HfHubHTTPError, requests/httpx errors, ValueError
        raise _hub_error(exc, step, secret) from None
    result.commit_url, result.commit_oid = info.commit_url, info.oid
    return result
