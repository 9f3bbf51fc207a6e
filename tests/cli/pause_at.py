"""The ``curate`` command, held at one point of a run until the test acts: the trigger of the
fault tests (test_signals.py, test_write_faults.py), with no sleep used to synchronise.

    python tests/cli/pause_at.py POINT READY_FILE ARGS...      # as `curate ARGS...`

At POINT the run writes READY_FILE and waits; the test sends SIGINT or SIGTERM once the file is
there (or, with ``PAUSE_AT_GO=FILE`` in the environment, changes something, e.g. makes the
output read-only, and creates FILE: the run then goes on; with ``PAUSE_AT_SWALLOW=1`` the
signal's exception is swallowed there, as some libraries do).

Points: ``convert``; ``stage`` (inside quality.rules' run); ``between`` (after the convert
checkpoint, before the next stage); ``finish_run``; ``export`` (after the export files were
written); ``report`` (before report.html is written).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _paused(original, ready: Path, *, after: bool = False):
    """``original``, held before it runs (or after, with ``after``), the first time only."""
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs) if after else None
        if not ready.exists():
            ready.write_text("ready")
            _wait()
        return result if after else original(*args, **kwargs)
    return wrapper


def _wait() -> None:
    go = os.environ.get("PAUSE_AT_GO")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if go and Path(go).exists():
                return
            time.sleep(0.05)  # a signal's handler raises in here
    except KeyboardInterrupt:
        if os.environ.get("PAUSE_AT_SWALLOW"):  # like a library that swallows Ctrl-C
            return
        raise
    sys.exit("pause_at: nothing came within 120 s")


def hold(point: str, ready: Path) -> None:
    import curate.export
    import curate.report
    import curate.run_export
    import curate.runner
    from curate.runner import Runner
    from curate.stages.registry import stage_class

    if point == "convert":
        Runner._convert = _paused(Runner._convert, ready)
    elif point == "stage":
        cls = stage_class("quality.rules")
        cls.run = _paused(cls.run, ready)
    elif point == "between":
        Runner._sync = _paused(Runner._sync, ready)
    elif point == "finish_run":
        Runner._finish_run = _paused(Runner._finish_run, ready)
    elif point == "export":  # the runner's exports call it through curate.run_export
        curate.export.export_parts = _paused(curate.export.export_parts, ready, after=True)
        curate.run_export.export_parts = curate.export.export_parts
    elif point == "report":  # the runner calls it by the name it imported
        curate.report.write_report = _paused(curate.report.write_report, ready)
        curate.runner.write_report = curate.report.write_report
    else:
        raise SystemExit(f"pause_at: unknown point {point!r}")


if __name__ == "__main__":
    point, ready, *args = sys.argv[1:]
    hold(point, Path(ready))
    from curate.cli import main

    sys.argv = ["curate", *args]
    main()
