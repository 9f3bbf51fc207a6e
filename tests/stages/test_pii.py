"""Stage ``pii``: redact, drop and mark over every turn of SFT and preference records; counts
per type in the stats; the schema unchanged; ``curate filter --pii``; real corpora."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.errors import StageError
from curate.stages.pii import Pii

EMAIL, PHONE = "priya.okafor@proton.me", "(415) 867-2301"
KEY = "hf_QwErTy8UiOp2AsDfGh4JkLzXcVbNm6Pq7Rs"
CODE = f'Set it up like this:\n```python\nclient = Client(token="{KEY}")\n```\nThen run it.'


@pytest.fixture
def records(rec):
    return rec.frame(
        rec.qa(f"Write to {EMAIL} or call {PHONE}.", "I cannot send e-mail, but here is a draft.",
               id="sft-pii"),
        rec.qa("How do I log in to the Hub?", CODE, id="sft-code"),
        rec.qa("What is 127.0.0.1?", "The loopback address; version 1.2.3.4 runs there.",
               id="sft-clean"),
        rec.pair("Show me a config.", "Use an environment variable for the key.",
                 f"Here: key {KEY}, server 52.14.201.3.", id="pair-rejected"),
    )


def _contents(df: pl.DataFrame, record_id: str, column: str) -> list[str]:
    return [t["content"] for t in df.filter(pl.col("id") == record_id)[column][0]]


def test_redact_rewrites_every_turn_and_keeps_the_schema(records):
    res = Pii({"action": "redact"}).apply(records)
    kept = res.kept
    assert res.rejected.height == 0 and kept.height == records.height
    assert {c: kept.schema[c] for c in records.columns} == dict(records.schema)
    assert _contents(kept, "sft-pii", "messages")[0] == "Write to <EMAIL> or call <PHONE>."
    assert _contents(kept, "sft-code", "messages")[1] == CODE.replace(KEY, "<SECRET>")
    assert _contents(kept, "sft-clean", "messages") == _contents(records, "sft-clean", "messages")
    assert _contents(kept, "pair-rejected", "rejected") == [
        "Here: key <SECRET>, server <IP_ADDRESS>."]
    assert _contents(kept, "pair-rejected", "chosen") == _contents(records, "pair-rejected",
                                                                   "chosen")
    types = dict(zip(kept["id"], kept["pii_types"].to_list()))
    assert types == {"sft-pii": ["email", "phone"], "sft-code": ["secret"], "sft-clean": [],
                     "pair-rejected": ["secret", "ip_address"]}


def test_counts_per_type_in_the_stats(rec):
    df = rec.frame(rec.qa(f"{EMAIL}, again {EMAIL}, and jonas.berg@web.de", "ok", id="a"),
                   rec.qa("no data here", f"call {PHONE}", id="b"))
    res = Pii().apply(df)
    assert res.stats["records_with_pii"] == 2
    assert res.stats["records"] == {"email": 1, "phone": 1}
    assert res.stats["values"] == {"email": 3, "phone": 1}
    assert dict(zip(res.kept["id"], res.kept["pii_counts"].to_list())) == {"a": [3], "b": [1]}


def test_drop_rejects_with_reason_pii_and_keeps_the_text(records):
    res = Pii({"action": "drop"}).apply(records)
    assert res.kept["id"].to_list() == ["sft-clean"]
    assert sorted(res.rejected["id"]) == ["pair-rejected", "sft-code", "sft-pii"]
    assert set(res.rejected["drop_reason"]) == {"pii"}
    assert res.stats["failures"] == {"pii": 3}
    assert _contents(res.rejected, "sft-pii", "messages") == _contents(records, "sft-pii",
                                                                       "messages")


def test_mark_only_adds_the_columns(records):
    res = Pii({"action": "mark"}).apply(records)
    assert res.kept.drop("pii_types", "pii_counts").equals(records)
    assert res.kept["pii_types"].list.len().to_list() == [2, 1, 0, 2]


def test_types_limit_what_is_looked_for(records):
    res = Pii({"types": "secret"}).apply(records)  # comma-separated, as from the CLI
    assert _contents(res.kept, "sft-pii", "messages")[0] == f"Write to {EMAIL} or call {PHONE}."
    assert res.stats["records"] == {"secret": 2}
    with pytest.raises(ValueError, match="at least one type"):
        Pii({"types": []})


def test_an_input_already_checked_is_an_error(records):
    once = Pii({"action": "mark"}).apply(records).kept
    with pytest.raises(StageError, match="already has pii_types"):
        Pii().apply(once)


def test_filter_cli_redacts(tmp_path):
    path = tmp_path / "in.jsonl"
    rows = [{"instruction": f"Mail {EMAIL}", "input": "", "output": "Done."},
            {"instruction": "Connect to the db", "input": "",
             "output": "Use postgres://anna:Tr0ub4dor3xQ@db.acme-corp.io/app"},
            {"instruction": "Name a colour.", "input": "", "output": "Red, #ff0000."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["filter", str(path), "-o", str(out), "--pii", "redact"])
    assert result.exit_code == 0, result.output
    data = pl.read_parquet(out / "data.parquet")
    texts = [t["content"] for turns in data["messages"] for t in turns]
    assert "Mail <EMAIL>" in texts and "Use postgres://anna:<SECRET>@db.acme-corp.io/app" in texts
    assert "Red, #ff0000." in texts
    stage = json.loads((out / "manifest.json").read_text())["stages"][-1]
    assert stage["use"] == "pii" and stage["stats"]["values"] == {"secret": 1, "email": 1}
    report = (out / "report.html").read_text()
    assert "<h2>pii</h2>" in report and EMAIL not in report and "Tr0ub4dor3xQ" not in report

    dropped = CliRunner().invoke(cli, ["filter", str(path), "-o", str(tmp_path / "d"),
                                       "--pii", "drop", "--pii-types", "email", "--no-quality"])
    assert dropped.exit_code == 0, dropped.output
    assert "dropped pii: 1" in dropped.output
    assert EMAIL not in (tmp_path / "d" / "report.html").read_text()


def test_real_corpora_hold_only_the_values_they_really_contain(shared_data):
    """AlpacaEval's instructions and outputs and the Python FAQ: the only findings are the
    e-mail addresses and phone number that a few instructions give (and the replies copy);
    none of the code, versions, addresses or numbers in them is taken for personal data."""
    texts = []
    for path in sorted((shared_data / "alpaca_eval").glob("*.model_outputs.json.gz")):
        for row in json.loads(gzip.decompress(path.read_bytes())):
            texts.append(("alpaca", row["instruction"] + "\n" + row["output"]))
    for path in sorted((shared_data / "raw" / "python_faq").glob("*.rst.txt")):
        texts.append(("faq", path.read_text(encoding="utf-8")))
    from curate.pii import find

    found = [(where, f.type, f.value(text)) for where, text in texts for f in find(text)]
    assert {(where, kind) for where, kind, _ in found} == {("alpaca", "email"),
                                                           ("alpaca", "phone")}
    assert len({value for _, _, value in found}) <= 5
