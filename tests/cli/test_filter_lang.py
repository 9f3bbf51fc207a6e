"""`curate filter --lang-keep`: the lang.id stage from the command line, into a run folder
with its report section, and an export whose card names the languages kept."""

import json

import polars as pl
from click.testing import CliRunner

from curate.cli import cli

from ..lang.test_record import DE, EN, FR

ROWS = [("When is the museum open?", EN), ("Wann ist das Museum geöffnet?", DE),
        ("Quand le musée est-il ouvert ?", FR), ("Say it in English and in French.",
                                                 f"{EN}\n\n{FR}\n\n{EN}")]


def alpaca_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in ROWS))
    return str(path)


def test_filter_lang_keep(tmp_path):
    path = alpaca_file(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["filter", path, "-o", str(tmp_path / "f"),
                                 "--no-quality", "--lang-keep", "en,de"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == ("01_lang.id                     4 -> 3       "
                                             "dropped wrong_language: 1")
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    stage = manifest["stages"][1]
    assert stage["thresholds"]["keep"] == ["en", "de"]
    assert stage["stats"]["languages"]["fr"] == {"kept": 0, "dropped": 1}
    assert stage["stats"]["mixed"] == 1
    rejected = pl.read_parquet(tmp_path / "f" / "rejected" / "01_lang.id.parquet")
    assert rejected["lang"].to_list() == ["fr"]
    report = (tmp_path / "f" / "report.html").read_text()
    assert "Records per language" in report and "Mixing languages" in report
    assert "fastText lid.176.ftz" in report

    exported = runner.invoke(cli, ["export", str(tmp_path / "f"), "-o", str(tmp_path / "x"),
                                   "--target", "trl-sft", "--test-size", "1"])
    assert exported.exit_code == 0, exported.output
    card = (tmp_path / "x" / "README.md").read_text()
    assert "language:\n- en\n- de\n" in card
    assert ("Languages kept (fastText lid.176.ftz; asked for: en, de): en (2), de (1); "
            "dropped: fr (1). Records that mix languages: 1.") in card


def test_bad_language_code_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["filter", alpaca_file(tmp_path), "-o",
                                      str(tmp_path / "f"), "--lang-keep", "en,english"])
    assert result.exit_code == 2  # a usage error that names the flag typed
    assert result.stderr.endswith(
        "Error: --lang-keep: unknown language code(s) english: the detector names languages "
        "by ISO 639-1 codes such as en, de, fr, es, ja, zh (ISO 639-3 where there is none)\n")
    assert not (tmp_path / "f").exists()
