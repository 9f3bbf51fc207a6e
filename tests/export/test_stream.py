"""Exports from data in storage: the check, split and write passes piece by piece (on other
processes) give what the in-memory export of the same rows gives, and the run writes its
exports from its part folders."""

import hashlib
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml

from curate.convert import convert
from curate.export import export, export_parts, split_frame
from curate.io.parts import Parts, write_parts
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from tests.process_engine import ProcessEngine

from .conftest import frame, pref, sft

ROOT = Path(__file__).resolve().parents[2]


def _records() -> pl.DataFrame:
    """SFT rows and pairs, prompts shared across what become different pieces, and groups
    joined from different prompts by dup_cluster (their key texts are read back)."""
    rows = []
    for i in range(40):
        rows.append(sft(f"Question {i % 13}?", f"Answer {i}.", "ab"[i % 2],
                        dup_cluster=f"c{i % 5}" if i % 7 == 0 else None))
        if i % 3 == 0:
            rows.append(pref(f"Pick {i % 11}", f"Good {i}", f"Bad {i}", "ab"[i % 2]))
    rows.append(sft("Same reply", "x", "a"))  # too short for nothing: kept
    rows.append(pref("Tie?", "same", "same"))  # chosen_equals_rejected
    return frame(rows)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("target,options", [
    ("trl-sft", {"sft_from_pairs": True, "validation_size": 5}),
    ("trl-dpo", {"test_size": 0.2}),
    ("llama-factory", {"style": "alpaca", "test_size": 3}),
])
def test_pieces_on_other_processes_write_what_one_frame_writes(tmp_path, target, options):
    df = _records()
    one = export(df, tmp_path / "one", target=target, seed=3,
                 rejected_file="rejected/export.parquet", **options)
    data = write_parts(df, tmp_path / "data.parquet", rows=6)
    assert len(data.files) > 5
    many = export_parts(data, tmp_path / "many", target=target, seed=3, rows=6,
                        engine=ProcessEngine(), rejected_file="rejected/export.parquet",
                        rejected_dir=tmp_path / "rejected.parquet", **options)
    assert (many.counts, many.skipped, many.notes) == (one.counts, one.skipped, one.notes)
    a, b = _files(tmp_path / "one"), _files(tmp_path / "many")
    assert sorted(a) == sorted(b)
    for name in a:  # JSON Lines, side files and the card: the same bytes
        if not name.endswith(".parquet"):
            assert a[name] == b[name], name
        else:  # the same table, written row group by row group
            assert pq.read_table(tmp_path / "many" / name).equals(
                pq.read_table(tmp_path / "one" / name)), name
    assert pl.read_parquet(tmp_path / "many" / "rejected" / "export.parquet").equals(
        one.rejected)
    assert many.rejected.read().equals(one.rejected)


def test_a_large_export_in_worker_processes_writes_the_same_files(tmp_path, monkeypatch):
    """The local export renders and writes large data in worker processes
    (CURATE_PROCESSES; the size that takes them is lowered here): the same bytes."""
    import curate.in_process as ip

    df = _records()
    data = write_parts(df, tmp_path / "data.parquet", rows=6)
    one = export_parts(data, tmp_path / "one", target="trl-sft", rows=6, test_size=0.2)
    monkeypatch.setenv("CURATE_PROCESSES", "2")
    monkeypatch.setattr(ip, "PROCESS_MIN_ROWS", 1)
    seen = []
    real = ip._pool
    monkeypatch.setattr(ip, "_pool", lambda n: seen.append(n) or real(n))
    two = export_parts(data, tmp_path / "two", target="trl-sft", rows=6, test_size=0.2)
    assert seen == [2, 2]  # the check pass and the write pass
    assert (two.counts, two.skipped) == (one.counts, one.skipped)
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_the_split_of_the_pieces_is_the_split_of_the_frame(tmp_path):
    df = _records()
    data = write_parts(df, tmp_path / "data.parquet", rows=4)
    res = export_parts(data, tmp_path / "out", target="trl-sft", formats=["jsonl"], rows=4,
                       sft_from_pairs=True, test_size=0.25, seed=5)
    kept = df.filter(~((pl.col("kind") == "preference")
                       & (pl.col("chosen").list.get(0).struct.field("content") == "same")))
    side = dict(zip(kept["id"], split_frame(kept, test_size=0.25, seed=5).to_list()))
    for name in ("train", "test"):
        ids = [json.loads(line)["id"] for line in
               (tmp_path / "out" / f"{name}.jsonl").read_text().splitlines()]
        assert ids == [i for i in kept["id"] if side[i] == name]
        assert len(ids) == res.counts[name]


def test_a_run_exports_from_its_part_folders(tmp_path):
    recipe = parse_recipe(yaml.safe_load(f"""
name: parts
input: {{path: {ROOT / 'pipelines' / 'data' / 'demo'}}}
on_error: skip
stages:
  - use: quality.rules
export:
  - {{target: trl-dpo, test_size: 0.2}}
  - {{target: trl-sft, test_size: 0.1}}
"""))
    manifest = run_recipe(recipe, tmp_path / "run", report=False)
    data = Parts(tmp_path / "run" / "data.parquet")
    assert data.path.is_dir()
    rejected = Parts(tmp_path / "run" / "rejected" / "export_trl-dpo.parquet")
    assert rejected.path.is_dir()
    assert set(rejected.read()["drop_reason"]) == {"wrong_kind"}
    alone = export(data.read(), tmp_path / "alone", target="trl-dpo", test_size=0.2,
                   run_info={**manifest, "run_dir": str(tmp_path / "run")})
    for name in ("train.jsonl", "test.jsonl", "train.parquet", "README.md"):
        assert (tmp_path / "run" / "export" / "trl-dpo" / name).read_bytes() == \
            (tmp_path / "alone" / name).read_bytes(), name
    assert manifest["exports"][0]["skipped"] == alone.skipped
    # the card quotes removed rows from the run's rejected part folders
    card = (tmp_path / "run" / "export" / "trl-dpo" / "README.md").read_text()
    assert "## Removed examples" in card and "**quality.rules: refusal**" in card
    assert not (tmp_path / "run" / "cache" / "tmp").exists()  # the passes' files are gone


def test_nothing_written_when_no_row_qualifies(tmp_path):
    data = write_parts(frame([sft("Q?", "A.")]), tmp_path / "data.parquet")
    with pytest.raises(Exception, match="nothing to export to trl-dpo: none of the 1 rows "
                                        "qualifies \\(wrong_kind: 1\\)"):
        export_parts(data, tmp_path / "out", target="trl-dpo")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["data.parquet"]  # no scratch left


def test_demo_records_give_one_digest_whatever_the_piece_size(tmp_path):
    df = convert(ROOT / "pipelines" / "data" / "demo", on_error="skip").frame
    digests = set()
    for rows in (1000, 17):
        data = write_parts(df, tmp_path / f"d{rows}.parquet", rows=rows)
        export_parts(data, tmp_path / f"o{rows}", target="trl-sft", rows=rows,
                     formats=["jsonl"])
        digests.add(tuple(hashlib.sha256(p.read_bytes()).hexdigest()
                          for p in sorted((tmp_path / f"o{rows}").glob("*.jsonl"))))
    assert len(digests) == 1
