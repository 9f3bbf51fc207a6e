"""A run of named inputs: per-input funnel in the manifest (each input's invariant, inputs
adding up to the stage), after --resume and --from too; report, show and the card's sources,
whose records and tokens equal a recount of the exported files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from curate.funnel import input_totals
from curate.recipe import parse_recipe
from curate.runner import run_recipe

from .mix.test_tokens import word_tokenizer


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    ours = [{"instruction": f"Our question {i}?", "output": " ".join(["ours"] * (i + 2))}
            for i in range(12)]
    ours.append(ours[0])  # an exact duplicate inside ours
    theirs = [{"prompt": f"Their question {i}?", "response": f"their answer {i}"}
              for i in range(20)]
    theirs.append({"prompt": "Our question 3?", "response": "ours ours ours ours ours"})
    return {"ours": write_jsonl(tmp_path / "ours.jsonl", ours),
            "theirs": write_jsonl(tmp_path / "theirs.jsonl", theirs)}


def recipe(inputs, tmp_path, **mix) -> dict:
    return {"name": "mixed", "inputs": [
        {"name": "ours", "path": str(inputs["ours"]), "license": "mit"},
        {"name": "theirs", "path": str(inputs["theirs"]), "license": "cc-by-4.0"}],
        "stages": [{"use": "dedup.exact"},
                   {"use": "mix", "with": {"quotas": {"ours": 40, "theirs": 0.5},
                                           "unit": "tokens", **mix,
                                           "tokenizer": str(word_tokenizer(
                                               tmp_path / "tokenizer.json"))}}],
        "export": [{"target": "trl-sft", "test_size": 0.2}]}


def check_funnel(manifest: dict) -> None:
    """Each input keeps rows_in + added == rows_out + dropped, and the inputs add up."""
    names = [i["name"] for i in manifest["recipe"]["inputs"]]
    for s in manifest["stages"]:
        per = s["datasets"]
        assert list(per) == names, s["name"]
        for d in per.values():
            assert d["rows_in"] + d.get("added", 0) == d["rows_out"] + sum(d["dropped"].values())
        assert sum(d["rows_in"] for d in per.values()) == s["rows_in"]
        assert sum(d["rows_out"] for d in per.values()) == s["rows_out"]
        for reason, n in s["dropped"].items():
            assert sum(d["dropped"].get(reason, 0) for d in per.values()) == n
    for before, after in zip(manifest["stages"], manifest["stages"][1:]):
        for name in before["datasets"]:
            assert after["datasets"][name]["rows_in"] == before["datasets"][name]["rows_out"]


def recount(run: Path) -> dict[str, dict[str, int]]:
    """Records and tokens per input of the exported files, by their ids."""
    data = pl.read_parquet(run / "data.parquet").select("id", "dataset", "tokens")
    exported = pl.concat([pl.read_parquet(f).select("id")
                          for f in sorted((run / "export" / "trl-sft").glob("*.parquet"))])
    joined = exported.join(data, on="id", how="left")
    assert joined["dataset"].null_count() == 0
    return {r[0]: {"records": r[1], "tokens": r[2]} for r in joined.group_by("dataset").agg(
        pl.len(), pl.col("tokens").sum()).sort("dataset").rows()}


def test_funnel_per_input_and_card_equal_to_a_recount(inputs, tmp_path):
    out = tmp_path / "run"
    manifest = run_recipe(parse_recipe(recipe(inputs, tmp_path)), out)
    check_funnel(manifest)
    conv, dedup, mix = manifest["stages"]
    assert conv["datasets"]["ours"] == {"rows_in": 13, "rows_out": 13, "dropped": {}}
    assert dedup["datasets"]["ours"]["dropped"] == {"duplicate_exact": 1}
    # theirs' last row is ours' row 3: a duplicate across inputs, the later copy goes
    assert dedup["datasets"]["theirs"]["dropped"] == {"duplicate_exact": 1}
    data = pl.read_parquet(out / "data.parquet")
    for name, target in (("ours", 40), ("theirs", 0.5 * mix["stats"]["inputs"]["theirs"][
            "available"])):
        tokens = data.filter(pl.col("dataset") == name)["tokens"]
        assert tokens.sum() >= target and tokens.sum() - tokens.max() < target
        assert mix["datasets"][name]["tokens"] == tokens.sum()
    assert [i["dataset"] for i in manifest["inputs"]] == ["ours", "theirs"]
    assert manifest["inputs"][0]["license"] == "mit"
    counted = recount(out)
    card = (out / "export" / "trl-sft" / "README.md").read_text(encoding="utf-8")
    rows = {name: (lic, int(read), int(rec), int(tok)) for name, lic, read, rec, tok in
            [[c.strip() for c in line.strip("|").split("|")][:5]
             for line in card.split("## Sources")[1].split("##")[0].splitlines()
             if line.startswith("| ours") or line.startswith("| theirs")]}
    assert rows == {"ours": ("mit", 13, counted["ours"]["records"], counted["ours"]["tokens"]),
                    "theirs": ("cc-by-4.0", 21, counted["theirs"]["records"],
                               counted["theirs"]["tokens"])}
    assert "| ours: `" in card  # the input files listed under their input
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Inputs</h2>" in report and "<td>cc-by-4.0</td>" in report
    totals = {t["name"]: t for t in input_totals(manifest)}
    assert totals["ours"]["rows_out"] == data.filter(pl.col("dataset") == "ours").height


def test_resume_and_from_keep_the_per_input_funnel(inputs, tmp_path):
    out = tmp_path / "run"
    first = run_recipe(parse_recipe(recipe(inputs, tmp_path)), out)
    lines: list[str] = []
    again = run_recipe(parse_recipe(recipe(inputs, tmp_path)), out, resume=True,
                       echo=lines.append)
    assert [s["datasets"] for s in again["stages"]] == [s["datasets"] for s in first["stages"]]
    changed = recipe(inputs, tmp_path, by="tokens")
    redo = run_recipe(parse_recipe(changed), out, from_stage="mix")
    check_funnel(redo)
    assert redo["stages"][:2] == first["stages"][:2]  # reused as they were
    kept = pl.read_parquet(out / "data.parquet").filter(pl.col("dataset") == "theirs")
    # by tokens, highest first: their longest rows
    assert kept["tokens"].min() >= pl.read_parquet(out / "rejected" / "02_mix.parquet").filter(
        pl.col("dataset") == "theirs")["tokens"].max()


def test_repeat_copies_are_counted_as_added_per_input(inputs, tmp_path):
    r = recipe(inputs, tmp_path)
    r["stages"][1]["with"] = {"quotas": {"ours": 20}, "repeat": True}
    manifest = run_recipe(parse_recipe(r), tmp_path / "run")
    check_funnel(manifest)
    mix = manifest["stages"][2]
    assert mix["added"] == 8 and mix["datasets"]["ours"]["added"] == 8
    assert mix["datasets"]["ours"]["rows_out"] == 20
    assert mix["datasets"]["theirs"] == {"rows_in": 20, "rows_out": 20, "dropped": {}}
    data = pl.read_parquet(tmp_path / "run" / "data.parquet")
    assert data["id"].n_unique() == data.height
