from __future__ import annotations

import polars as pl

from curate.export import export
from curate.export.examples import removed_examples

TOXIC = "you absolute worthless idiot"


def _run(b, tmp_path):
    run = tmp_path / "run"
    (run / "rejected").mkdir(parents=True)
    tox = b.frame([b.sft("insult me", TOXIC), b.sft("q2", "fine words")]).with_columns(
        drop_reason=pl.Series(["toxic", "toxic_identity_attack"]), toxicity=pl.Series([0.97, 0.2]))
    tox.write_parquet(run / "rejected" / "02_safety.toxicity.parquet")
    short = b.frame([b.sft(f"question {i}", f"r{i}") for i in range(5)]).with_columns(
        drop_reason=pl.lit("too_short"), toxicity=pl.Series([0.1, 0.7, 0.0, 0.0, 0.0]))
    short.write_parquet(run / "rejected" / "01_quality.rules.parquet")
    conv = pl.DataFrame({"file": ["in.jsonl"], "line": [3], "field": ["output"],
                         "drop_reason": ["wrong_type"], "detail": ["expected a string"],
                         "raw": ['{"output": 3}']})
    conv.write_parquet(run / "rejected" / "00_convert.parquet")
    stages = [{"name": "convert", "rejected": "rejected/00_convert.parquet"},
              {"name": "quality.rules", "rejected": "rejected/01_quality.rules.parquet"},
              {"name": "safety.toxicity", "rejected": "rejected/02_safety.toxicity.parquet"},
              {"name": "missing", "rejected": "rejected/09_gone.parquet"}]
    return run, stages, short, tox


def test_examples_per_reason_with_toxic_text_masked(b, tmp_path):
    run, stages, short, tox = _run(b, tmp_path)
    got = removed_examples(run, stages, per_reason=5)
    by_id = dict(zip(short["id"].to_list(), short["toxicity"].to_list()))
    number = {r["id"]: i for i, r in enumerate(short.iter_rows(named=True))}
    ids = sorted(by_id)
    assert [(e["stage"], e["reason"]) for e in got] == [
        ("convert", "wrong_type")] + [("quality.rules", "too_short")] * 5 + [
        ("safety.toxicity", "toxic"),
        ("safety.toxicity", "toxic_identity_attack")]
    assert got[0] == {"stage": "convert", "reason": "wrong_type", "id": "in.jsonl:3",
                      "masked": False, "text": '{"output": 3}'}
    for e, rid in zip(got[1:6], ids):
        assert e["id"] == rid
        plain = f"user: question {number[rid]} / assistant: r{number[rid]}"
        assert e["masked"] is (by_id[rid] >= 0.5)
        assert e["text"] == (f"[masked: {len(plain)} characters of toxic text]" if e["masked"]
                             else plain)
    assert [e["masked"] for e in got[1:6]].count(True) == 1  # toxicity 0.7 >= 0.5
    assert got[6]["masked"] and got[7]["masked"]  # the reason alone masks it
    assert all(TOXIC not in e["text"] for e in got)


def test_card_quotes_examples_and_never_toxic_text(b, tmp_path):
    run, stages, _, _ = _run(b, tmp_path)
    df = b.frame([b.sft(f"q{i}", f"a{i}") for i in range(6)])
    export(df, tmp_path / "o", target="trl-sft", test_size=1,
           run_info={"stages": stages, "run_dir": str(run)})
    card = (tmp_path / "o" / "README.md").read_text(encoding="utf-8")
    assert "## Removed examples" in card
    assert "**safety.toxicity: toxic**" in card and "**convert: wrong_type**" in card
    assert "- `in.jsonl:3` {\"output\": 3}" in card
    plain = f"user: insult me / assistant: {TOXIC}"
    assert f"[masked: {len(plain)} characters of toxic text]" in card
    assert TOXIC not in card


def test_run_folder_found_from_the_export_path(b, tmp_path):
    run, stages, _, _ = _run(b, tmp_path)
    df = b.frame([b.sft(f"q{i}", f"a{i}") for i in range(6)])
    export(df, run / "export" / "trl-sft", target="trl-sft", test_size=1,
           run_info={"stages": stages})
    assert "**quality.rules: too_short**" in (run / "export" / "trl-sft" / "README.md").read_text()
    export(df, tmp_path / "elsewhere", target="trl-sft", test_size=1, run_info={"stages": stages})
    assert "## Removed examples" not in (tmp_path / "elsewhere" / "README.md").read_text()
