"""The request cache: one SQLite file of answered requests, keyed by
:meth:`curate.llm.requests.Request.key`, so that nothing is paid for twice.

Each answer is committed as soon as it arrives (WAL mode), so a run killed half-way loses no
answer and a rerun sends only what was never answered. Errors the server gave to a request (a
400, a reply that is no chat completion) are stored too: a rerun returns the same error without
a request unless errors are to be retried (``retry_errors``). Failures of the server or the
connection (refused, timeouts, 5xx, 429, 401/403/404: ``Response.transient``) are never stored,
so a rerun sends those requests again. Several processes (the Ray engine's actors on one
machine) may share the file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from .requests import Response


class RequestCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, "
                         "response TEXT NOT NULL, is_error INTEGER NOT NULL, at REAL NOT NULL)")

    def get(self, key: str) -> Response | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM answers WHERE key = ?",
                                   (key,)).fetchone()
        return None if row is None else Response.from_json(row[0])

    def put(self, key: str, response: Response) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                             (key, response.to_json(), int(response.error is not None),
                              time.time()))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __getstate__(self):  # a stage copied to a worker opens its own connection
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])
