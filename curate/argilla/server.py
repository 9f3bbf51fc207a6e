"""The local Argilla stack: argilla-server 2.8 and its web UI, SQLite, and noida-db.

argilla-server pins packages that clash with curate's (pydantic 2.9, httpx 0.27, typer 0.9 that
needs click<8.2), so it lives in its own virtualenv under the stack's home folder, created on the
first start. noida-db (one local binary) serves the Elasticsearch API and Redis. Everything binds
to 127.0.0.1. The owner's API key is generated once and kept in ``HOME/api_key`` (mode 0600); it is
never logged, never put in an exception message; only ``curate label serve`` prints it, once.

Layout of the home folder (default ``$CURATE_ARGILLA_HOME``, else ``$CURATE_HOME/argilla``, else
``~/.cache/curate/argilla``)::

    venv/                argilla-server, noida-db (venv/.installed names the pinned spec;
                         $CURATE_ARGILLA_VENV puts it elsewhere)
    data/argilla.db      Argilla's SQLite database        noida/   noida-db's data
    api_key, password    the owner's credentials (0600)   state.json  ports of the running stack
    logs/{setup,noida,migrate,server,worker}.log          pids/{noida,server,worker}.pid

Examples:
    >>> stack = LocalStack.from_env()            # doctest: +SKIP
    >>> info = stack.start()                     # doctest: +SKIP
    >>> info.api_url                             # doctest: +SKIP
    'http://127.0.0.1:6900'
    >>> stack.stop()                             # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import CurateError

SERVER_SPEC = ("argilla-server==2.8.0", "noida-db==0.2.3", "click<8.2")
OWNER = "argilla"
HOST = "127.0.0.1"
PROCESSES = ("noida", "server", "worker")


class StackError(CurateError):
    """The local stack could not be set up, started or stopped; names the log to read."""


def default_home() -> Path:
    if os.environ.get("CURATE_ARGILLA_HOME"):
        return Path(os.environ["CURATE_ARGILLA_HOME"])
    if os.environ.get("CURATE_HOME"):
        return Path(os.environ["CURATE_HOME"]) / "argilla"
    return Path.home() / ".cache" / "curate" / "argilla"


@dataclass
class StackInfo:
    api_url: str
    api_key: str
    username: str
    password: str
    home: Path
    already_running: bool = False

    def __repr__(self) -> str:  # never show the key or the password
        return f"StackInfo(api_url={self.api_url!r}, username={self.username!r}, home={self.home})"


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    os.chmod(path, 0o600)


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _tail(path: Path, n: int = 20) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


class LocalStack:
    """Sets up, starts and stops the local Argilla stack in ``home``.

    Args:
        home: the stack's folder (venv, data, credentials, logs, pid files).
        port: the API and web UI port; ``es_port``/``redis_port`` are noida-db's.
        python: the interpreter that creates the venv (Python 3.9-3.12 for argilla-server).
        venv: the server's virtualenv (default ``home/venv``); several stacks may share one.
    """

    def __init__(self, home: Path | str, *, port: int = 6900, es_port: int = 19200,
                 redis_port: int = 16379, python: str | None = None, timeout: float = 180.0,
                 venv: Path | str | None = None):
        self.home = Path(home).expanduser().resolve()
        self.venv = Path(venv).expanduser().resolve() if venv else self.home / "venv"
        self.port, self.es_port, self.redis_port = port, es_port, redis_port
        self.python = python or sys.executable
        self.timeout = timeout

    @classmethod
    def from_env(cls, **kwargs) -> "LocalStack":
        """``home`` from CURATE_ARGILLA_HOME/CURATE_HOME, ``venv`` from CURATE_ARGILLA_VENV."""
        kwargs.setdefault("venv", os.environ.get("CURATE_ARGILLA_VENV") or None)
        return cls(kwargs.pop("home", None) or default_home(), **kwargs)

    # paths -----------------------------------------------------------------------------------
    logs = property(lambda self: self.home / "logs")
    pids = property(lambda self: self.home / "pids")
    api_url = property(lambda self: f"http://{HOST}:{self.port}")

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def _bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    # setup -----------------------------------------------------------------------------------
    def ensure_venv(self) -> bool:
        """Create the server's virtualenv once; True when it was (re)built now."""
        marker = self.venv / ".installed"
        spec = "\n".join(SERVER_SPEC)
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        with open(self.venv.parent / f".{self.venv.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another stack may be building the same venv
            if marker.is_file() and marker.read_text() == spec and self._bin("python").exists():
                return False
            self._build_venv(marker, spec)
        return True

    def _build_venv(self, marker: Path, spec: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.log("setup")
        with open(log, "w") as out:
            steps = [[self.python, "-m", "venv", "--clear", str(self.venv)],
                     [str(self._bin("python")), "-m", "pip", "install", "--disable-pip-version-check",
                      *SERVER_SPEC]]
            for cmd in steps:
                if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT,
                                  env=self._clean_env()).returncode != 0:
                    raise StackError(f"setting up the Argilla server's virtualenv in {self.venv} "
                                     f"failed; see {log}:\n{_tail(log)}")
        marker.write_text(spec)

    def _clean_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
               and not k.startswith("ARGILLA_")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def _server_env(self) -> dict[str, str]:
        env = self._clean_env()
        env.update(ARGILLA_HOME_PATH=str(self.home / "data"),
                   ARGILLA_ELASTICSEARCH=f"http://{HOST}:{self.es_port}",
                   ARGILLA_REDIS_URL=f"redis://{HOST}:{self.redis_port}/0",
                   HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="1", DO_NOT_TRACK="1")
        return env

    def credentials(self) -> tuple[str, str]:
        """(api_key, password) of the owner, generated on first use and kept 0600."""
        self.home.mkdir(parents=True, exist_ok=True)
        out = []
        for name in ("api_key", "password"):
            path = self.home / name
            if not path.is_file():
                _write_secret(path, secrets.token_urlsafe(24))
            out.append(path.read_text().strip())
        return out[0], out[1]

    # processes -------------------------------------------------------------------------------
    def _pid(self, name: str) -> int | None:
        path = self.pids / f"{name}.pid"
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        self.pids.mkdir(parents=True, exist_ok=True)
        with open(self.log(name), "a") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=self._server_env(),
                                    cwd=self.home, start_new_session=True)
        (self.pids / f"{name}.pid").write_text(str(proc.pid))
        return proc

    def _run(self, name: str, args: list[str]) -> None:
        with open(self.log(name), "a") as out:
            rc = subprocess.run([str(self._bin("python")), "-m", "argilla_server", *args],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=self._server_env(), cwd=self.home).returncode
        if rc != 0:
            raise StackError(f"`argilla_server {args[0]} {args[1]}` failed; see {self.log(name)}:\n"
                             f"{_tail(self.log(name))}")

    def _wait(self, what: str, check, procs: dict[str, subprocess.Popen]) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if check():
                return
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stop()
                    raise StackError(f"the Argilla {name} process exited with code "
                                     f"{proc.returncode} while starting; see {self.log(name)}:\n"
                                     f"{_tail(self.log(name))}")
            time.sleep(0.5)
        self.stop()
        raise StackError(f"{what} did not answer within {self.timeout:.0f} s; see the logs in "
                         f"{self.logs}:\n{_tail(self.log('server'))}")

    def _api_answers(self, api_key: str) -> bool:
        req = urllib.request.Request(f"{self.api_url}/api/v1/me",
                                     headers={"X-Argilla-Api-Key": api_key})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _es_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.es_port}/", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def running(self) -> bool:
        return all(self._pid(n) for n in PROCESSES)

    def info(self, *, already_running: bool = False) -> StackInfo:
        key, password = self.credentials()
        return StackInfo(self.api_url, key, OWNER, password, self.home, already_running)

    def start(self) -> StackInfo:
        """Set up (first run) and start noida-db, the server and its worker; wait for the API."""
        key, _ = self.credentials()
        state = self.home / "state.json"
        if self.running() and state.is_file():
            ports = json.loads(state.read_text())
            self.port, self.es_port, self.redis_port = ports["port"], ports["es_port"], ports["redis_port"]
            if self._api_answers(key):
                return self.info(already_running=True)
        self.stop()
        for what, port in (("API", self.port), ("Elasticsearch (noida-db)", self.es_port),
                           ("Redis (noida-db)", self.redis_port)):
            if _port_busy(port):
                raise StackError(f"port {port} on {HOST} ({what}) is busy: another program "
                                 f"listens there; stop it or choose another port")
        self.ensure_venv()
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        try:
            self._launch(key, state)
        except StackError:
            self.stop()  # nothing half-started stays behind
            raise
        return self.info()

    def _launch(self, key: str, state: Path) -> None:
        binary = next(self.venv.glob("lib/python*/site-packages/noida_db/noida-db"))
        binary.chmod(0o755)
        noida = self._spawn("noida", [str(binary), "start", "--data-dir", str(self.home / "noida"),
                                      "--host", HOST, "--only", "elasticsearch,redis",
                                      "--elasticsearch-port", str(self.es_port),
                                      "--redis-port", str(self.redis_port)])
        self._wait("noida-db", self._es_answers, {"noida": noida})
        self._run("migrate", ["database", "migrate"])
        _, password = self.credentials()
        self._run("migrate", ["database", "users", "create_default", "--api-key", key,
                              "--password", password, "--quiet"])
        py = str(self._bin("python"))
        server = self._spawn("server", [py, "-m", "argilla_server", "start", "--host", HOST,
                                        "--port", str(self.port)])
        worker = self._spawn("worker", [py, "-m", "argilla_server", "worker", "--num-workers", "1"])
        state.write_text(json.dumps({"port": self.port, "es_port": self.es_port,
                                     "redis_port": self.redis_port}))
        self._wait("the Argilla API", lambda: self._api_answers(key),
                   {"noida": noida, "server": server, "worker": worker})

    def stop(self, *, timeout: float = 15.0) -> list[str]:
        """Stop exactly the processes this stack started (by pid file); the data stays."""
        stopped = []
        for name in reversed(PROCESSES):
            pid_file = self.pids / f"{name}.pid"
            pid = self._pid(name)
            if pid is not None:
                self._terminate(pid, timeout)
                stopped.append(name)
            pid_file.unlink(missing_ok=True)
        return stopped

    @staticmethod
    def _terminate(pid: int, timeout: float) -> None:
        # Each process was started in a session of its own: its group is it and its children
        # (the worker pool's workers), and nothing else.
        def signal_it(sig: int) -> None:
            try:
                if os.getpgid(pid) == pid:
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
            except ProcessLookupError:
                pass
        signal_it(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if _alive(pid):
            signal_it(signal.SIGKILL)
        _reap(pid)  # a child of ours that exited is collected, not left a zombie


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
