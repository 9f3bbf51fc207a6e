"""``curate`` in a subprocess for the fault tests: plain, or held at a point of the run by
pause_at.py until the test has done something there (sent a signal, made the disk read-only)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "CURATE_PROGRESS": "0", **extra}


def curate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], cwd=cwd, env=env(),
                          capture_output=True, text=True, timeout=300)


def held(point: str, args: list[str], cwd: Path, **extra_env: str) -> subprocess.Popen:
    """``curate ARGS`` once it has reached ``point`` (see pause_at.py) and waits there."""
    ready = cwd / f"ready-{point}"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/cli/pause_at.py"), point,
                             str(ready), *args], cwd=cwd, env=env(**extra_env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    until(lambda: ready.exists(), proc, f"{point} was never reached")
    return proc


def until(condition, proc: subprocess.Popen, what: str, limit: float = 300) -> None:
    """Wait for ``condition`` (an event of the run, not a guessed duration), at most ``limit``
    seconds, failing the test if ``proc`` ended first."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"{what} (rc {proc.returncode}): {out}{err}")
        time.sleep(0.05)


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
