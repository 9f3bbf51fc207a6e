"""A small REST client for argilla-server 2.x (httpx; the ``argilla`` SDK is not needed).

Connection errors, timeouts and 5xx answers are retried with exponential backoff; other errors
become an :class:`ArgillaError` that names the method, the path and the server's ``detail``, and
never the API key.

Examples:
    >>> client = ArgillaClient("http://127.0.0.1:6900", api_key)       # doctest: +SKIP
    >>> client.get("/api/v1/me")["username"]                           # doctest: +SKIP
    'argilla'
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Iterator

import httpx

from ..errors import CurateError
from .server import LocalStack

PAGE = 1000  # the server's largest page and bulk size


class ArgillaError(CurateError):
    """The Argilla API refused a request or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None):
        self.status = status
        super().__init__(message)


def resolve_connection(api_url: str | None, api_key: str | None) -> tuple[str, str]:
    """``--api-url/--api-key``, else ARGILLA_API_URL/ARGILLA_API_KEY, else the local stack's."""
    url = api_url or os.environ.get("ARGILLA_API_URL")
    key = api_key or os.environ.get("ARGILLA_API_KEY")
    if not url or not key:
        stack = LocalStack.from_env()
        state = stack.home / "state.json"
        if not url and state.is_file():
            url = f"http://127.0.0.1:{json.loads(state.read_text())['port']}"
        if not key and (stack.home / "api_key").is_file():
            key = (stack.home / "api_key").read_text().strip()
    if not url or not key:
        raise CurateError("no Argilla server given: pass --api-url and --api-key, set "
                          "ARGILLA_API_URL and ARGILLA_API_KEY, or run `curate label serve`")
    return url.rstrip("/"), key


class ArgillaClient:
    """JSON over HTTP with retries. ``retries`` attempts after the first, backoff doubling."""

    def __init__(self, api_url: str, api_key: str, *, retries: int = 5, backoff: float = 0.5,
                 timeout: float = 60.0):
        self.api_url = api_url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        self._http = httpx.Client(base_url=self.api_url, timeout=timeout,
                                  headers={"X-Argilla-Api-Key": api_key})

    def __repr__(self) -> str:
        return f"ArgillaClient({self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ArgillaClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, *, ok404: bool = False, **kwargs) -> Any:
        """Send one request; retry connection errors and 5xx; None for a 404 when ``ok404``."""
        attempt = 0
        while True:
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise ArgillaError(f"{method} {self.api_url}{path}: cannot reach the Argilla "
                                       f"server ({type(exc).__name__}) after {attempt + 1} tries")\
                        from None
            else:
                if resp.status_code < 400:
                    return resp.json() if resp.content else None
                if resp.status_code == 404 and ok404:
                    return None
                if resp.status_code < 500 or attempt >= self.retries:
                    raise ArgillaError(f"{method} {path}: HTTP {resp.status_code}: "
                                       f"{_detail(resp)}", status=resp.status_code)
            time.sleep(self.backoff * 2 ** attempt)
            attempt += 1

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs) -> Any:
        return self.request("PUT", path, json=json, **kwargs)

    # resources ---------------------------------------------------------------------------------
    def me(self) -> dict:
        return self.get("/api/v1/me")

    def workspace_id(self, name: str | None = None) -> str:
        """The workspace called ``name``, or the first one the user belongs to."""
        items = self.get("/api/v1/me/workspaces")["items"]
        for ws in items:
            if name is None or ws["name"] == name:
                return ws["id"]
        if name is None:
            raise ArgillaError("the Argilla user belongs to no workspace; create one first")
        return self.post("/api/v1/workspaces", {"name": name})["id"]

    def find_dataset(self, name: str, workspace_id: str | None = None) -> dict | None:
        for ds in self.get("/api/v1/me/datasets")["items"]:
            if ds["name"] == name and (workspace_id is None or ds["workspace_id"] == workspace_id):
                return ds
        return None

    def dataset(self, name: str) -> dict:
        ds = self.find_dataset(name)
        if ds is None:
            raise ArgillaError(f"no Argilla dataset named {name!r} on {self.api_url}", status=404)
        return ds

    def questions(self, dataset_id: str) -> list[dict]:
        return self.get(f"/api/v1/datasets/{dataset_id}/questions")["items"]

    def records(self, dataset_id: str, *, include: str = "responses") -> Iterator[dict]:
        """Every record of a dataset, page by page (``include``: responses,suggestions)."""
        offset = 0
        while True:
            page = self.get(f"/api/v1/datasets/{dataset_id}/records",
                            params={"include": include, "offset": offset, "limit": PAGE})
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def upsert_records(self, dataset_id: str, items: list[dict]) -> list[dict]:
        """Create or update records, matched by ``external_id`` (at most PAGE items)."""
        return self.put(f"/api/v1/datasets/{dataset_id}/records/bulk", {"items": items})["items"]

    def users_by_id(self) -> dict[str, str]:
        return {u["id"]: u["username"] for u in self.get("/api/v1/users")["items"]}

    def create_user(self, username: str, password: str, *, role: str = "annotator",
                    workspace_id: str | None = None) -> dict:
        """Create an annotator (or reuse the one with that name) and add it to a workspace."""
        user = next((u for u in self.get("/api/v1/users")["items"] if u["username"] == username),
                    None)
        if user is None:
            user = self.post("/api/v1/users", {"first_name": username, "username": username,
                                               "password": password, "role": role})
        if workspace_id is not None:
            members = self.get(f"/api/v1/workspaces/{workspace_id}/users")["items"]
            if not any(m["id"] == user["id"] for m in members):
                self.post(f"/api/v1/workspaces/{workspace_id}/users", {"user_id": user["id"]})
        return user


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail", resp.text)
    except ValueError:
        detail = resp.text
    text = str(detail)
    return text if len(text) <= 500 else text[:500] + " ..."
