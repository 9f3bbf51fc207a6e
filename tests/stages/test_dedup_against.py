"""Dedup against a reference release made by an earlier ``curate run`` on real data (AlpacaEval
outputs): every planted exact, near and semantic copy is found and named, records that only
duplicate each other keep their ordinary reason, the reference's index is built once and
reused, and the reference's files are never changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from curate.dedup import reference
from curate.records import records_to_frame
from curate.stages.base import StageContext
from curate.stages.registry import stage_class

from ..cli.runs import curate

MODEL = "gpt-3.5-turbo-0301.model_outputs.json.gz"
OTHER = "Meta-Llama-3-8B-Instruct.model_outputs.json.gz"


@pytest.fixture(scope="module")
def release(shared_data, tmp_path_factory) -> Path:
    """v1: the first 120 AlpacaEval instructions with one model's outputs, as a run folder
    made by ``curate run`` (the recipe dedups it exactly)."""
    root = tmp_path_factory.mktemp("v1")
    recipe = root / "v1.yaml"
    recipe.write_text(json.dumps({
        "name": "v1", "input": {"path": str(shared_data / "alpaca_eval" / MODEL)},
        "stages": [{"use": "dedup.exact"}]}))
    done = curate("run", str(recipe), "-o", str(root / "run"), "--limit", "120", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "run"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _reply(record: dict) -> str:
    return record["messages"][-1]["content"]


def _with_reply(record: dict, reply: str, rid: str) -> dict:
    messages = [dict(m) for m in record["messages"]]
    messages[-1]["content"] = reply
    return {"id": rid, "kind": "sft", "source": "v2", "messages": messages, "meta": {}}


def _near(text: str) -> str:
    """One word of a long reply changed (Jaccard of 5-word shingles well above 0.8)."""
    words = text.split()
    words[len(words) // 2] = "CHANGED"
    return " ".join(words)


def _new_records(release: Path, shared_data: Path) -> tuple[pl.DataFrame, dict]:
    """v2: fresh records (another model's replies to instructions v1 does not hold), planted
    copies of v1 records, and two pairs of copies among the new records only."""
    from curate.convert import convert

    v1 = pl.read_parquet(release / "data.parquet").to_dicts()
    long = [r for r in v1 if len(_reply(r).split()) >= 60]
    fresh = convert(shared_data / "alpaca_eval" / OTHER, limit=700).frame.to_dicts()[600:640]
    fresh = [_with_reply(r, _reply(r), f"fresh{i}") for i, r in enumerate(fresh)]
    planted = {
        "exact0": (long[0], _with_reply(long[0], "  " + _reply(long[0]).upper(), "exact0")),
        "exact1": (long[1], _with_reply(long[1], _reply(long[1]), "exact1")),
        "near0": (long[2], _with_reply(long[2], _near(_reply(long[2])), "near0")),
        "near1": (long[3], _with_reply(long[3], _near(_reply(long[3])), "near1")),
        # a copy of v1 that another new record copies as well: the reference wins for both
        "both0": (long[4], _with_reply(long[4], _reply(long[4]), "both0")),
        "both1": (long[4], _with_reply(long[4], _reply(long[4]), "both1")),
    }
    own = [_with_reply(fresh[0], _reply(fresh[0]), "own-copy"),       # copies fresh0 exactly
           _with_reply(fresh[1], _near(_reply(fresh[1])), "own-near")]  # a near copy of fresh1
    rows = fresh[:20] + [p for _, p in planted.values()] + fresh[20:] + own
    return records_to_frame(rows), {k: f"v1:{ref['id']}" for k, (ref, _) in planted.items()}


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CURATE_HOME", str(home))
    return home / "references"


@pytest.mark.parametrize("use, options, own_reason", [
    ("dedup.exact", {}, "duplicate_exact"),
    ("dedup.near", {"threshold": 0.8}, "duplicate_near"),
    ("dedup.semantic", {"threshold": 0.9}, "duplicate_semantic"),
])
def test_planted_copies_found_and_index_reused(release, shared_data, cache, monkeypatch, use,
                                               options, own_reason):
    monkeypatch.setattr(reference, "PIECE_ROWS", 50)       # the reference in several pieces
    monkeypatch.setattr(reference, "PARTITION_ROWS", 400)  # and its keys in several partitions
    df, planted = _new_records(release, shared_data)
    before = _digests(release)
    stage_cls = stage_class(use)
    for attr, value in (("sign_batch_size", 16), ("group_rows", 300), ("piece_rows", 16)):
        if hasattr(stage_cls, attr):  # the new records in several pieces and partitions
            monkeypatch.setattr(stage_cls, attr, value)
    stage = stage_cls({**options, "against": {"v1": str(release)}})
    first = stage.apply(df, StageContext(name=use))
    rejected = {r["id"]: r for r in first.rejected.to_dicts()}
    if use == "dedup.exact":  # a one-word change is no exact copy
        planted = {k: v for k, v in planted.items() if not k.startswith("near")}
    found = {i: r["duplicate_of"] for i, r in rejected.items()
             if r["drop_reason"] == "duplicate_of_reference"}
    assert found == planted
    own = {i: (r["drop_reason"], r["kept_id"], r["duplicate_of"]) for i, r in rejected.items()
           if i not in found}
    expected = {"own-copy": (own_reason, "fresh0", None)}
    if use != "dedup.exact":
        expected["own-near"] = (own_reason, "fresh1", None)
    assert own == expected
    assert first.kept.height + first.rejected.height == df.height
    assert "duplicate_of" not in first.kept.columns
    stats = first.stats["against"]["v1"]
    v1_rows = pl.scan_parquet(release / "data.parquet").select(pl.len()).collect().item()
    assert stats["built"] is True and stats["rows"] == v1_rows
    assert stats["duplicates"] == len(planted)
    index = Path(stats["index"])
    assert index.parent.parent == cache
    stamps = {str(p): p.stat().st_mtime_ns for p in index.rglob("*")}

    again = stage_cls({**options, "against": {"v1": str(release)}}).apply(
        df, StageContext(name=use))
    assert again.stats["against"]["v1"]["built"] is False
    assert again.stats["against"]["v1"]["index"] == str(index)
    assert {str(p): p.stat().st_mtime_ns for p in index.rglob("*")} == stamps
    assert [p.name for p in cache.rglob("*") if p.name.endswith(".tmp")] == []
    assert again.rejected.sort("id").equals(first.rejected.sort("id"))
    assert again.kept.equals(first.kept)
    assert _digests(release) == before


def test_reference_of_any_format_and_changed_release(tmp_path, cache):
    """A JSON Lines reference is converted by curate's readers; a changed byte of it (same
    size, same modification time) is a new release with a new index."""
    import os

    rows = [{"instruction": f"Question {i}?", "output": f"Answer number {i} is here."}
            for i in range(6)]
    ref = tmp_path / "v1.jsonl"
    ref.write_text("".join(json.dumps(r) + "\n" for r in rows))
    new = records_to_frame([
        {"id": "a", "kind": "sft", "source": "v2", "meta": {},
         "messages": [{"role": "user", "content": "Question 3?"},
                      {"role": "assistant", "content": "Answer number 3 is here."}]},
        {"id": "b", "kind": "sft", "source": "v2", "meta": {},
         "messages": [{"role": "user", "content": "Question 9?"},
                      {"role": "assistant", "content": "Answer number 9 is here."}]}])
    stage_cls = stage_class("dedup.exact")
    out = stage_cls({"against": {"v1": str(ref)}}).apply(new, StageContext())
    assert out.rejected["id"].to_list() == ["a"]
    assert out.rejected["duplicate_of"].to_list()[0].startswith("v1:")
    first_index = out.stats["against"]["v1"]["index"]

    stat = ref.stat()
    ref.write_text(ref.read_text().replace("number 3", "number 9").replace("n 3?", "n 9?"))
    os.utime(ref, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ref.stat().st_size == stat.st_size
    changed = stage_cls({"against": {"v1": str(ref)}}).apply(new, StageContext())
    assert changed.stats["against"]["v1"]["built"] is True
    assert changed.stats["against"]["v1"]["index"] != first_index
    assert changed.rejected["id"].to_list() == ["b"]


def test_missing_reference_is_a_clear_error(tmp_path, cache):
    from curate.errors import CurateError

    df = records_to_frame([{"id": "a", "kind": "sft", "source": "s", "meta": {},
                            "messages": [{"role": "user", "content": "q"},
                                         {"role": "assistant", "content": "r"}]}])
    with pytest.raises(CurateError, match=r"^against\.v1: nope\.jsonl: no such file or folder$"):
        stage_class("dedup.near")({"against": {"v1": "nope.jsonl"}}).apply(df, StageContext())
    with pytest.raises(Exception, match="reference name 'v 1'"):
        stage_class("dedup.near")({"against": {"v 1": "x"}})
