"""decontam.ngram with AlpacaEval's instructions as the benchmark (files written by the test,
and the real ones where ../shared/data exists) against planted training records, and the
Python FAQ as unrelated real text."""

from __future__ import annotations

import gzip
import json
import re

import polars as pl
import pytest
from click.testing import CliRunner

from curate.convert import convert
from curate.stages.base import StageContext
from curate.stages.decontam_ngram import NgramDecontam, decontam_ngram
from curate.stages.registry import stage_class

from ..conftest import OUTPUTS_FILES


def instructions(alpaca_eval_files) -> tuple[str, list[str]]:
    path = alpaca_eval_files.path / OUTPUTS_FILES[0]
    return str(path), [r["instruction"] for r in json.loads(gzip.decompress(path.read_bytes()))]


def repunctuated(text: str) -> str:
    return " ; ".join(re.findall(r"\w+", text)) + " ..."


def planted(rec, items: list[str], faq: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """Records that carry benchmark items, in every way the stage must see through, and the
    part each one is in."""
    a, b, c, d, e, f = items
    q, answer = faq["messages"][0][0]["content"], faq["messages"][0][1]["content"]
    records = {
        "verbatim": rec.qa(a, "Here is my answer.", id="verbatim"),
        "recased": rec.qa(b.upper(), "OK.", id="recased"),
        "repunctuated": rec.qa(repunctuated(c), "OK.", id="repunctuated"),
        "embedded": rec.sft(("system", "You are helpful."),
                            ("user", f"Before you start, some context.\n\n{d}\n\nBe brief."),
                            ("assistant", "Sure."), id="embedded"),
        "rejected": rec.pair(q, answer, f"I will not answer that. Instead: {e}", id="rejected"),
        "response": rec.qa("Give me an example task.", f"For example: {f.lower()}",
                           id="response"),
        "clean": rec.pair(q, answer, "Python is a programming language.", id="clean"),
    }
    parts = {"verbatim": "prompt", "recased": "prompt", "repunctuated": "prompt",
             "embedded": "prompt", "rejected": "rejected", "response": "response"}
    return rec.frame(*records.values()), parts


def pick(items: list[str]) -> list[str]:
    """Six items that are long enough to be found inside a longer text (5 words or more),
    spread over the file."""
    long = [t for t in items if len(re.findall(r"\w+", t)) >= 5]
    step = len(long) // 6
    return [long[i * step] for i in range(6)]


@pytest.fixture(scope="module")
def faq() -> pl.DataFrame:
    from ..conftest import FAQ_SAMPLE

    return convert(FAQ_SAMPLE, format="docs").frame


def test_alpaca_eval_items_found_in_every_part(alpaca_eval_files, rec, faq):
    path, items = instructions(alpaca_eval_files)
    df, parts = planted(rec, pick(items), faq)
    res = decontam_ngram(pl.concat([df, faq], how="vertical_relaxed"),
                         benchmarks={"alpaca_eval": path}, fields=["instruction"])
    removed = dict(zip(res.rejected["id"], res.rejected["contaminated_parts"].to_list()))
    assert removed == {k: [p] for k, p in parts.items()}  # and no FAQ record
    assert set(res.rejected["drop_reason"]) == {"contaminated"}
    assert res.rejected["contaminated_by"].to_list() == [["alpaca_eval"]] * len(parts)
    assert res.kept.height == faq.height + 1 and res.kept["contaminated_by"].null_count() == \
        res.kept.height
    s = res.stats
    assert s["contaminated"] == s["removed"] == len(parts) == s["by_benchmark"]["alpaca_eval"]
    assert s["by_part"] == {"prompt": 4, "response": 1, "chosen": 0, "rejected": 1}
    assert s["benchmarks"]["alpaca_eval"]["texts"] == alpaca_eval_files.rows
    assert s["benchmarks"]["alpaca_eval"]["fields"] == ["instruction"]


def test_every_alpaca_eval_instruction_found_verbatim(alpaca_eval_files, rec):
    """Recall 1.0 on the whole file as whole prompts, upper-cased and re-punctuated."""
    path, items = instructions(alpaca_eval_files)
    stage = NgramDecontam({"benchmarks": {"ae": path}, "fields": ["instruction"]})
    ctx = StageContext(name="d")
    stage.check_input(pl.DataFrame(), ctx)
    for change in (str, str.upper, repunctuated):
        df = rec.frame(*(rec.qa(change(t), "x", id=str(i)) for i, t in enumerate(items)))
        scored = stage.score(df, ctx)
        missed = [items[i] for i in scored.filter(pl.col("contaminated_by").is_null())["id"]
                  .cast(int).to_list()]
        assert missed == []


def test_no_false_positive_on_the_python_faq(faq_corpus, shared_data):
    """Every field of the real AlpacaEval files (instructions and outputs) against the whole
    Python FAQ: nothing found."""
    df = convert(faq_corpus.path, format="docs").frame
    files = {p.name.split(".")[0]: str(p) for p in (shared_data / "alpaca_eval").glob("*.gz")}
    res = decontam_ngram(df, benchmarks=files)
    assert res.rejected.height == 0 and res.kept.height == df.height


def test_mark_keeps_rows_and_sets_the_columns(alpaca_eval_files, rec, faq):
    path, items = instructions(alpaca_eval_files)
    df, parts = planted(rec, pick(items), faq)
    res = decontam_ngram(df, benchmarks={"alpaca_eval": path}, fields="instruction",
                         action="mark")
    assert res.rejected.height == 0 and res.kept.height == df.height
    marked = res.kept.filter(pl.col("contaminated_by").is_not_null())
    assert sorted(marked["id"]) == sorted(parts)
    span = marked.filter(pl.col("id") == "recased")["contaminated_ngram"][0]
    assert span in " ".join(re.findall(r"\w+", pick(items)[1].lower()))
    assert res.stats["marked"] == len(parts) and "removed" not in res.stats


def test_an_earlier_mark_is_kept(rec, tmp_path):
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"question": "one two three four five six"}) + "\n")
    df = rec.frame(rec.qa("one two three four five six", "x", id="hit"),
                   rec.qa("nothing", "x", id="earlier")).with_columns(
        pl.Series("contaminated_by", [None, ["other"]], pl.List(pl.String)))
    res = decontam_ngram(df, benchmarks={"b": str(bench)})
    assert dict(zip(res.rejected["id"], res.rejected["contaminated_by"].to_list())) == {
        "hit": ["b"], "earlier": ["other"]}


def test_index_built_once_and_cached_by_content(rec, tmp_path, monkeypatch):
    import curate.stages.decontam_ngram as module

    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"question": "one two three four five six"}) + "\n")
    ctx = StageContext(name="d", cache_dir=tmp_path / "cache")
    df = rec.frame(*(rec.qa(f"one two three four five six {i}", "x") for i in range(30)))
    builds = []
    real = module.NgramDecontam.index

    def counted(self, ctx):
        builds.append(1)
        return real(self, ctx)

    monkeypatch.setattr(module.NgramDecontam, "batch_size", 7)  # several batches
    monkeypatch.setattr(module.NgramDecontam, "index", counted)
    module._BUILT.clear()
    first = NgramDecontam({"benchmarks": {"b": str(bench)}}).apply(df, ctx)
    assert first.rejected.height == 30 and len(builds) == 1
    assert len(list((tmp_path / "cache" / "decontam").glob("ngram-*.npz"))) == 1
    bench.write_text(json.dumps({"question": "six five four three two one"}) + "\n")
    again = NgramDecontam({"benchmarks": {"b": str(bench)}}).apply(df, ctx)
    assert again.rejected.height == 0  # a changed file is a new index, not the cached one
    assert len(list((tmp_path / "cache" / "decontam").glob("ngram-*.npz"))) == 2


def test_curate_filter_flags(tmp_path, alpaca_eval_files):
    from curate.cli import cli as main

    path, items = instructions(alpaca_eval_files)
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "An answer."})
                            + "\n" for t in [items[3], "Tell me about your day, please."]))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["filter", str(data), "-o", str(out), "--no-quality",
                                       "--decontam", f"alpaca_eval={path}",
                                       "--decontam-field", "instruction",
                                       "--decontam-action", "mark", "--decontam-ngram", "8"])
    assert result.exit_code == 0, result.output
    assert "01_decontam.ngram" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    stage = manifest["stages"][1]
    assert stage["stats"]["thresholds"] == {
        "benchmarks": {"alpaca_eval": path}, "fields": ["instruction"], "action": "mark",
        "ngram": 8, "min_words": 5}
    assert stage["stats"]["marked"] == 1
    kept = pl.read_parquet(out / "data.parquet")
    assert kept["contaminated_by"].to_list() == [["alpaca_eval"], None]
    assert "<mark>" in (out / "report.html").read_text()
    bad = CliRunner().invoke(main, ["filter", str(data), "-o", str(tmp_path / "bad"),
                                    "--decontam", "x=" + str(tmp_path / "none.json")])
    assert bad.exit_code == 2 and bad.stderr.endswith(
        f"Error: Invalid value for '--decontam': 'x={tmp_path / 'none.json'}': Path "
        f"'{tmp_path / 'none.json'}' does not exist.\n")
    assert not (tmp_path / "bad").exists()  # refused before any work


def test_registered_with_its_columns():
    assert stage_class("decontam.ngram") is NgramDecontam
    assert NgramDecontam().columns_written() == (
        "contaminated_by", "contaminated_ngram", "contaminated_parts")
