"""A STAND-IN for the Hugging Face Hub's HTTP API, for tests only.

The real Hub cannot run here (it is a hosted service), so the tests point huggingface_hub's
client at this small local HTTP server on 127.0.0.1 (``HfApi(endpoint=...)`` or HF_ENDPOINT).
It implements just the endpoints that ``curate publish`` makes the client call, as
huggingface_hub 2.x sends them (see hf_api.py and _commit_api.py):

    GET  /api/whoami-v2                                  -> {"name": user, ...}
    POST /api/repos/create        {name, organization, visibility, type}  (409 when it exists)
    POST /api/validate-yaml       {content, repoType}    (400 when the front matter is not YAML)
    POST /api/datasets/{ns}/{name}/branch/{branch}       (409 when it exists)
    POST /api/datasets/{ns}/{name}/preupload/{rev}       {files: [{path, sample, size}]}
    POST /api/datasets/{ns}/{name}/commit/{rev}          NDJSON: a header line, then one
                                                         {"key": "file", ...} line per file

Every request needs ``Authorization: Bearer <token>`` with the token it was started with
(401 otherwise, like the Hub). It answers ``uploadMode: "regular"`` for every file, so the
contents arrive base64-encoded inside the commit (the Hub would send large or binary files
through LFS/Xet storage, which this stand-in does not implement). What it received is kept in
``repos`` (visibility, branches, commits with message and files) and ``requests``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

import yaml


@dataclass
class Repo:
    private: bool
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    commits: list[dict] = field(default_factory=list)


class HubStandIn:
    """``with HubStandIn(token="hf_x", user="alice") as hub: HfApi(endpoint=hub.url, ...)``."""

    def __init__(self, *, token: str, user: str = "alice"):
        self.token, self.user = token, user
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[bytes] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "HubStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- endpoints ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict]:
        self.requests.append((method, path))
        self.bodies.append(body)
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "Invalid credentials in Authorization header"}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and path == "/api/whoami-v2":
            return 200, {"type": "user", "name": self.user, "auth": {"type": "access_token"}}
        if method == "POST" and path == "/api/repos/create":
            data = json.loads(body)
            repo_id = f"{data.get('organization') or self.user}/{data['name']}"
            if repo_id in self.repos:  # the Hub answers 409 with the repository's url
                return 409, {"error": "You already created this dataset repo",
                             "url": f"{self.url}/datasets/{repo_id}"}
            self.repos[repo_id] = Repo(private=data.get("visibility", "private") == "private")
            return 200, {"url": f"{self.url}/datasets/{repo_id}", "name": repo_id}
        if method == "POST" and path == "/api/validate-yaml":
            content = json.loads(body)["content"]
            try:
                yaml.safe_load(content[4:].split("\n---\n")[0]) if content.startswith(
                    "---\n") else None
            except yaml.YAMLError as exc:
                return 400, {"errors": [{"message": str(exc)}]}
            return 200, {"errors": [], "warnings": []}
        if method == "POST" and len(parts) == 6 and parts[:2] == ["api", "datasets"]:
            repo_id, action, rev = f"{parts[2]}/{parts[3]}", parts[4], parts[5]
            repo = self.repos.get(repo_id)
            if repo is None:
                return 404, {"error": "Repository not found"}
            if action == "branch":
                if rev in repo.branches:
                    return 409, {"error": "Branch already exists"}
                repo.branches[rev] = dict(repo.branches["main"])
                return 200, {}
            if rev not in repo.branches:
                return 404, {"error": f"Invalid rev id: {rev}"}
            if action == "preupload":
                files = json.loads(body)["files"]
                return 200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                        "shouldIgnore": False, "oid": None} for f in files]}
            if action == "commit":
                return 200, self._commit(repo_id, repo, rev, body)
        return 404, {"error": f"the stand-in does not implement {method} {path}"}

    def _commit(self, repo_id: str, repo: Repo, rev: str, body: bytes) -> dict:
        lines = [json.loads(line) for line in body.decode("utf-8").splitlines() if line]
        header = lines[0]["value"]
        files = {item["value"]["path"]: base64.b64decode(item["value"]["content"])
                 for item in lines[1:] if item["key"] == "file"}
        oid = hashlib.sha1(body).hexdigest()
        repo.branches[rev].update(files)
        repo.commits.append({"revision": rev, "summary": header["summary"],
                             "description": header.get("description", ""),
                             "files": files, "keys": [i["key"] for i in lines], "oid": oid})
        return {"commitUrl": f"{self.url}/datasets/{repo_id}/commit/{oid}", "commitOid": oid,
                "pullRequestUrl": None}

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(size) if size else b""
                path = urlparse(self.path).path
                status, payload = hub.handle(method, path,
                                             {k.lower(): v for k, v in self.headers.items()}, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802  (http.server's naming)
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, *args):  # keep test output clean
                pass

        return Handler
