"""A real local Argilla stack for the session (argilla-server 2.8 + noida-db), via the library.

The stack's venv is kept in ``$CURATE_ARGILLA_TEST_VENV`` (default ``.curate-cache/argilla-venv``
in the repo, git-ignored) so that only the first session builds it; its data lives in the
session's temporary folder. If the stack cannot start, every test that needs it fails with the log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from curate.argilla.client import ArgillaClient
from curate.argilla.server import LocalStack, StackError, free_port

REPO = Path(__file__).resolve().parents[2]
ANNOTATORS = {"ann1": "ann1-pass-7Q2x", "ann2": "ann2-pass-9Lk4"}


@dataclass
class Stack:
    stack: LocalStack
    api_url: str
    api_key: str
    password: str


@pytest.fixture(scope="session")
def argilla_stack(tmp_path_factory):
    # Data, logs and pid files are this session's own (other sessions may run at the same time);
    # the server's virtualenv is shared and built once.
    venv = Path(os.environ.get("CURATE_ARGILLA_TEST_VENV", REPO / ".curate-cache" / "argilla-venv"))
    home = tmp_path_factory.mktemp("argilla")
    stack = LocalStack(home, venv=venv, port=free_port(), es_port=free_port(),
                       redis_port=free_port())
    try:
        info = stack.start()
    except StackError as exc:
        pytest.fail(f"the local Argilla stack did not start: {exc}", pytrace=False)
    yield Stack(stack, info.api_url, info.api_key, info.password)
    pids = [int((stack.pids / f"{n}.pid").read_text()) for n in ("noida", "server", "worker")
            if (stack.pids / f"{n}.pid").exists()]
    assert sorted(stack.stop()) == ["noida", "server", "worker"]
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@pytest.fixture(scope="session")
def owner(argilla_stack) -> ArgillaClient:
    client = ArgillaClient(argilla_stack.api_url, argilla_stack.api_key, retries=2, backoff=0.2)
    yield client
    client.close()


@pytest.fixture(scope="session")
def annotators(argilla_stack, owner) -> dict[str, httpx.Client]:
    """Two annotator users, each with an httpx client logged in through /api/v1/token."""
    ws = owner.workspace_id()
    clients = {}
    for name, password in ANNOTATORS.items():
        owner.create_user(name, password, workspace_id=ws)
        token = httpx.post(f"{argilla_stack.api_url}/api/v1/token",
                           data={"username": name, "password": password}).json()["access_token"]
        clients[name] = httpx.Client(base_url=argilla_stack.api_url, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"})
    yield clients
    for c in clients.values():
        c.close()


def _answer(client: httpx.Client, record_id: str, values: dict, status: str = "submitted") -> dict:
    """One annotator's response to a record, through the REST API as the web UI sends it."""
    resp = client.post(f"/api/v1/records/{record_id}/responses",
                       json={"values": {q: {"value": v} for q, v in values.items()},
                             "status": status})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _record_ids(owner: ArgillaClient, dataset: str) -> dict[str, str]:
    """curate id -> Argilla record id."""
    ds = owner.dataset(dataset)
    return {r["external_id"]: r["id"] for r in owner.records(ds["id"], include="responses")}


@pytest.fixture(scope="session")
def answer():
    return _answer


@pytest.fixture(scope="session")
def record_ids():
    return _record_ids


@pytest.fixture(scope="session")
def annotator_logins(annotators) -> dict[str, str]:
    """username -> password of the annotator users (created by ``annotators``)."""
    return dict(ANNOTATORS)
