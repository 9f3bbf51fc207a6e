"""Publishing goes to a local STAND-IN for the Hub's HTTP API (tests/export/hub_standin.py):
the real Hub cannot run here. The client is huggingface_hub itself, pointed at the stand-in."""

from __future__ import annotations

import pytest

from curate.errors import CurateError
from curate.export import export
from curate.export.publish import publish, resolve_token, upload_files

from .hub_standin import HubStandIn

TOKEN = "hf_FAKEtoken0123456789abcdefABCDEF"


@pytest.fixture
def folder(b, tmp_path):
    df = b.frame([b.sft(f"question {i}", f"answer {i}") for i in range(10)])
    out = tmp_path / "export"
    export(df, out, target="trl-sft", test_size=2, seed=0)
    (out / "rejected").mkdir()
    (out / "rejected" / "export.parquet").write_bytes(b"not published")
    (out / ".cache").mkdir()
    (out / ".cache" / "x").write_text("hidden")
    return out


@pytest.fixture
def no_login(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH",
                        str(tmp_path / "hf-home" / "stored_tokens"))
    # the suite runs with HF_HUB_OFFLINE=1; the stand-in is on 127.0.0.1, nothing else is reached
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


FILES = ["README.md", "test.jsonl", "test.parquet", "train.jsonl", "train.parquet"]


def test_dry_run_lists_files_and_needs_no_token(folder, no_login):
    res = publish(folder, repo_id="me/data", dry_run=True, endpoint="http://127.0.0.1:9")
    assert res.dry_run and res.private and res.revision == "main"
    assert [p for p, _ in res.files] == FILES
    assert dict(res.files)["train.parquet"] == (folder / "train.parquet").stat().st_size
    assert res.commit_url is None


def test_one_private_commit_with_exactly_the_files(folder, no_login):
    with HubStandIn(token=TOKEN, user="alice") as hub:
        res = publish(folder, repo_id="data", token=TOKEN, endpoint=hub.url)
    assert res.repo_id == "alice/data" and res.private
    repo = hub.repos["alice/data"]
    assert repo.private is True
    assert len(repo.commits) == 1
    commit = repo.commits[0]
    assert commit["summary"] == "Upload 5 files with curate"
    assert commit["revision"] == "main"
    assert sorted(commit["files"]) == FILES
    for name in FILES[1:]:
        assert commit["files"][name] == (folder / name).read_bytes()
    card = commit["files"]["README.md"].decode("utf-8")
    assert 'ds = load_dataset("alice/data")' in card
    assert card == (folder / "README.md").read_text(encoding="utf-8").replace(
        'load_dataset("path/to/this/folder")', 'load_dataset("alice/data")')
    assert [r for r in hub.requests] == [
        ("GET", "/api/whoami-v2"), ("POST", "/api/repos/create"),
        ("POST", "/api/validate-yaml"), ("POST", "/api/datasets/alice/data/preupload/main"),
        ("POST", "/api/datasets/alice/data/commit/main")]
    assert res.commit_oid == commit["oid"]
    assert res.commit_url == f"{hub.url}/datasets/alice/data/commit/{commit['oid']}"


def test_public_revision_and_token_from_environment(folder, no_login, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token=TOKEN) as hub:
        publish(folder, repo_id="team/data", public=True, revision="v1", endpoint=hub.url,
                commit_message="First release")
        publish(folder, repo_id="team/data", revision="v1", endpoint=hub.url)
    repo = hub.repos["team/data"]
    assert repo.private is False  # created public; the second publish keeps it
    assert [(c["revision"], c["summary"]) for c in repo.commits] == [
        ("v1", "First release"), ("v1", "Upload 5 files with curate")]
    assert sorted(repo.branches["v1"]) == FILES and repo.branches["main"] == {}
    assert ("POST", "/api/datasets/team/data/branch/v1") in hub.requests


def test_token_from_login(folder, no_login, tmp_path):
    import huggingface_hub.constants as constants
    from pathlib import Path

    Path(constants.HF_TOKEN_PATH).parent.mkdir(parents=True)
    Path(constants.HF_TOKEN_PATH).write_text(TOKEN)
    assert resolve_token() == TOKEN
    assert resolve_token("hf_flag") == "hf_flag"


def test_no_token(folder, no_login):
    with pytest.raises(CurateError, match="no Hugging Face token: set HF_TOKEN, pass --token"):
        publish(folder, repo_id="me/data", endpoint="http://127.0.0.1:9")


def test_refused_token_never_shows(folder, no_login):
    with HubStandIn(token="hf_the_right_one") as hub:
        with pytest.raises(CurateError) as info:
            publish(folder, repo_id="me/data", token=TOKEN, endpoint=hub.url)
    err = info.value
    assert str(err).startswith("creating dataset repository me/data failed: HTTP 401")
    assert "the token was refused" in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(err.args)
    assert err.__cause__ is None and err.__suppress_context__
    assert hub.repos == {}


def test_unreachable_hub(folder, no_login):
    with pytest.raises(CurateError, match="creating dataset repository me/data failed") as info:
        publish(folder, repo_id="me/data", token=TOKEN, endpoint="http://127.0.0.1:9")
    assert TOKEN not in str(info.value)


def test_not_an_export_folder(tmp_path):
    with pytest.raises(CurateError, match="no README.md; publish an export folder"):
        upload_files(tmp_path)
    with pytest.raises(CurateError, match="expected NAME or NAMESPACE/NAME"):
        publish(tmp_path, repo_id="a/b/c", dry_run=True)
