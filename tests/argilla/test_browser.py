"""An annotator logs in to the Argilla web UI (headless Chromium driven by playwright-core),
submits one record, and a pull sees that answer."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from curate.argilla.pull import pull_records
from curate.argilla.push import a_is_for, push_records
from curate.records import records_to_frame

BROWSER = Path(__file__).parent / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def test_annotator_submits_in_the_web_ui(argilla_stack, owner, annotator_logins, tmp_path):
    for need, hint in ((shutil.which("node"), "node is not installed (`make test` installs it)"),
                       (Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)"),
                       ((BROWSER / "node_modules" / "playwright-core").is_dir(),
                        f"run `npm ci` in {BROWSER} (`make test` does)")):
        if not need:
            pytest.fail(hint, pytrace=False)
    frame = records_to_frame([{"id": "web1", "kind": "preference", "source": "t", "meta": {},
                               "prompt": [{"role": "user", "content": "Best fruit?"}],
                               "chosen": [{"role": "assistant", "content": "Mango."}],
                               "rejected": [{"role": "assistant", "content": "Rocks."}]}])
    summary = push_records(owner, frame, dataset="browser-test", annotators=1)
    shot = tmp_path / "submitted.png"
    proc = subprocess.run(
        ["node", str(BROWSER / "annotate.js"), argilla_stack.api_url, summary["dataset_id"],
         "ann1", "-", "preference_b", str(shot)],
        cwd=BROWSER, capture_output=True, text=True, timeout=180,
        env={**os.environ, "ANNOTATOR_PASSWORD": annotator_logins["ann1"], "CHROMIUM": CHROMIUM})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "submitted" and shot.stat().st_size > 0
    df, pulled = pull_records(owner, dataset="browser-test")
    row = df.row(0, named=True)
    assert row["label_annotators"] == ["ann1"]
    assert row["label_preference_responses"] == ["b"]
    assert row["label_preferred"] == ("rejected" if a_is_for("web1", 0) == "chosen" else "chosen")
    assert row["label_status"] == "completed"
    assert pulled["counts"]["completed"] == 1
