"""Third-party stages: the example package in tests/plugin_pkg, installed into a folder, adds a
filter stage (``caps.shouting``), a generation task (``generate.title``) and a judge mode
(``binary``) through the ``curate.stages`` entry points; they run from recipes on both
engines and from the commands, whose flags they get. A plugin that cannot be loaded is named
with what failed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
import yaml

from ..judge.judges import judge_server
from ..llm.chat_server import ChatServer, reply_for
from .plugins import PLUGIN_SRC, curate, install, write_dist_info

ROWS = [("Say hi.", "Hello there, nice to meet you."), ("Say it loud.", "HELLO THERE!"),
        ("Count.", "One, two, three.")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return install(tmp_path_factory.mktemp("plugin") / "site")


def _data(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "output": a}) + "\n" for q, a in ROWS))
    return path


def test_installed_stages_are_listed_with_their_flags(site):
    listed = curate("stages", site=site)
    assert listed.returncode == 0, listed.stderr
    assert "caps.shouting    Drop replies written in capitals.\n" in listed.stdout
    assert "generate.title   Write a short title of each conversation (LLM).\n" in listed.stdout
    assert listed.stderr == ""
    helped = curate("filter", "--help", site=site)
    assert "--shouting " in helped.stdout and "--shouting-max-caps FLOAT RANGE" in helped.stdout
    helped = " ".join(curate("generate", "--help", site=site).stdout.split())
    assert "--task [questions|responses|evolve|title]" in helped
    assert "title: Write a short title of each conversation (LLM) [required]" in helped
    assert ("--max-words INTEGER RANGE title: Words the title keeps at most. [default: 8] "
            "[1<=x<=30]") in helped


def test_a_plugin_stage_runs_from_curate_filter(site, tmp_path):
    out = tmp_path / "out"
    ran = curate("filter", str(_data(tmp_path)), "-o", str(out), "--no-quality",
                 "--shouting-max-caps", "0.6", site=site)
    assert ran.returncode == 0, ran.stderr
    assert "wrote" in ran.stdout and "2 of 3 rows kept" in ran.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(s["name"], s["dropped"]) for s in manifest["stages"][1:]] == [
        ("caps.shouting", {"shouting": 1})]
    rejected = pl.read_parquet(out / manifest["stages"][1]["rejected"])
    assert rejected["messages"].list.last().struct.field("content").to_list() == ["HELLO THERE!"]
    assert pl.read_parquet(out / "data.parquet")["caps_ratio"].to_list() == [
        pytest.approx(1 / 23), pytest.approx(1 / 11)]
    refused = curate("filter", str(_data(tmp_path)), "-o", str(tmp_path / "o2"),
                     "--shouting-max-caps", "2", site=site)
    assert refused.returncode == 2
    assert refused.stderr.endswith("Error: Invalid value for '--shouting-max-caps': 2.0 is not "
                                   "in the range 0<=x<=1.\n")


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_plugin_stage_runs_from_a_recipe_on_both_engines(site, tmp_path, engine):
    if engine == "ray":
        pytest.importorskip("ray")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "shouting", "input": {"path": str(_data(tmp_path))}, "engine": engine,
        "stages": [{"use": "dedup.exact"}, {"use": "caps.shouting", "with": {"max_caps": 0.6}}],
        **({"ray": {"num_cpus": 2}} if engine == "ray" else {})}))
    out = tmp_path / "out"
    ran = curate("run", str(recipe), "-o", str(out), "--no-report", site=site, timeout=600)
    assert ran.returncode == 0, ran.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"][2]["dropped"] == {"shouting": 1}
    assert manifest["rows_out"] == 2
    kept = pl.read_parquet(out / "data.parquet")
    assert kept["messages"].list.last().struct.field("content").to_list() == [
        ROWS[0][1], ROWS[2][1]]


def test_a_new_generate_task_is_one_module_and_its_template(site, tmp_path):
    """generate.title is the plugin's generate_title.py and templates/title.yaml (and its entry
    point): `curate generate --task title` runs it with its own flag."""
    package = PLUGIN_SRC / "curate_plugin_example"
    assert sorted(str(p.relative_to(package)) for p in package.rglob("*")
                  if p.is_file() and "title" in p.name and "__pycache__" not in p.parts) == [
        "generate_title.py",
        "templates/title.yaml"]
    server = ChatServer()
    try:
        out = tmp_path / "out"
        ran = curate("generate", str(_data(tmp_path)), "-o", str(out), "--task", "title",
                     "--max-words", "3", "--llm", "openai", "--model", "m", "--base-url",
                     server.url, site=site)
        assert ran.returncode == 0, ran.stderr
        wrong = curate("generate", str(_data(tmp_path)), "-o", str(tmp_path / "o2"),
                       "--task", "title", "--n", "2", site=site)
    finally:
        server.close()
    asked = [f"Give this conversation a title of at most 3 words.\n\nuser: {q}\nassistant: {a}"
             for q, a in ROWS]
    assert sorted(r["messages"][-1]["content"] for r in server.requests) == sorted(asked)
    titles = pl.read_parquet(out / "data.parquet")["title"].to_list()
    assert titles == [" ".join(reply_for([{"role": "user", "content": text}]).split()[:3])
                      for text in asked]
    meta = json.loads(pl.read_parquet(out / "data.parquet")["meta"][0])
    assert meta["generation"] == {"task": "title", "model": "m", "backend": "openai",
                                  "template_version": "title-v1"}
    assert wrong.returncode == 2 and wrong.stderr.endswith(
        "Error: --n does not apply to --task title (only to questions/responses)\n")


def _judged_data(tmp_path: Path) -> Path:
    path = tmp_path / "cands.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "output": a, "candidates": [
        "Too short.", f"{a} And a few more words."]}) + "\n" for q, a in ROWS))
    return path


def test_a_new_judge_mode_is_one_module_and_its_template(site, tmp_path):
    """The judge mode binary is the plugin's judge_binary.py and templates/binary.yaml (and its
    entry point): `curate judge --mode binary` lists it, a recipe takes it, and it runs."""
    package = PLUGIN_SRC / "curate_plugin_example"
    assert sorted(str(p.relative_to(package)) for p in package.rglob("*")
                  if p.is_file() and "binary" in p.name and "__pycache__" not in p.parts) == [
        "judge_binary.py",
        "templates/binary.yaml"]
    helped = " ".join(curate("judge", "--help", site=site).stdout.split())
    assert ("--mode [pairwise|pointwise|checklist|binary] pairwise: every candidate pair "
            "judged in both orders") in helped
    assert ("binary: one yes/no question per candidate: is it an acceptable answer. "
            "[default: pairwise]") in helped
    recipe = tmp_path / "r.yaml"
    stages = [{"use": "judge.llm", "with": {"mode": "binary"}}]
    recipe.write_text(yaml.safe_dump({"name": "j", "stages": stages,
                                      "input": {"path": str(_judged_data(tmp_path))}}))
    assert curate("validate", str(recipe), site=site).returncode == 0
    stages[0]["with"]["mode"] = "ternary"
    recipe.write_text(yaml.safe_dump({"name": "j", "stages": stages,
                                      "input": {"path": str(_judged_data(tmp_path))}}))
    refused = curate("validate", str(recipe), site=site)
    assert refused.returncode == 1 and "stages[0].with.mode: unknown judge mode 'ternary' " \
        "(known: pairwise, pointwise, checklist, binary)" in refused.stderr
    server = judge_server()
    try:
        out = tmp_path / "out"
        ran = curate("judge", str(_judged_data(tmp_path)), "-o", str(out), "--mode", "binary",
                     "--judge", f"openai:checker@{server.url}", "--no-pairs", site=site)
    finally:
        server.close()
    assert ran.returncode == 0, ran.stderr
    asked = sorted(f"Question: {q}\n\nAnswer: {c}\n\nIs this an acceptable answer? Reply Yes or "
                   "No." for q, a in ROWS for c in ("Too short.", f"{a} And a few more words."))
    assert sorted(r["messages"][-1]["content"] for r in server.requests) == asked
    judged = pl.read_parquet(out / "data.parquet")
    assert judged["judge_score"].to_list() == [[0.0, 1.0]] * 3  # yes to replies of 4+ words
    assert judged["judge_margin"].to_list() == [1.0] * 3
    assert [v["aspect"] for v in judged["judge_votes"][0]] == ["acceptable"] * 2
    assert json.loads(judged["meta"][0])["judge"]["mode"] == "binary"
    assert json.loads(judged["meta"][0])["judge"]["template_version"] == "binary-v1"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"][1]["stats"]["mode"] == "binary"
    assert "binary judging; 0 unreadable replies" in ran.stdout


def test_a_plugin_that_cannot_be_loaded_is_named_with_what_failed(site, tmp_path):
    broken = tmp_path / "broken"
    write_dist_info(broken, "curate-plugin-broken", "1.0",
                    {"curate.stages": {"gone": "curate_plugin_gone.stages"}})
    listed = curate("stages", site=[site, broken])
    problem = ("stage plugin 'gone' (entry point gone = curate_plugin_gone.stages in group "
               "curate.stages of package curate-plugin-broken): cannot be loaded: "
               "ModuleNotFoundError: No module named 'curate_plugin_gone'")
    assert listed.returncode == 0 and "caps.shouting" in listed.stdout
    assert listed.stderr == f"curate: warning: {problem}\n"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "x", "input": {"path": str(_data(tmp_path))},
                                      "stages": [{"use": "gone.stage"}]}))
    ran = curate("validate", str(recipe), site=[site, broken])
    assert ran.returncode == 1 and "stages[0].use: unknown stage 'gone.stage' (known: " in \
        ran.stderr and ran.stderr.rstrip().endswith(f"; {problem}")


def test_a_plugin_may_not_take_the_id_of_a_stage_of_curate(tmp_path):
    clash = tmp_path / "clash"
    (clash / "curate_plugin_clash").mkdir(parents=True)
    (clash / "curate_plugin_clash" / "__init__.py").write_text(
        "from curate import RowScorer\n\n\nclass Mine(RowScorer):\n    id = 'dedup.exact'\n")
    write_dist_info(clash, "curate-plugin-clash", "1.0",
                    {"curate.stages": {"clash": "curate_plugin_clash"}})
    listed = curate("stages", site=clash)
    assert listed.returncode == 0 and "dedup.exact      Drop records whose" in listed.stdout
    assert listed.stderr == (
        "curate: warning: stage plugin 'clash' (entry point clash = curate_plugin_clash in "
        "group curate.stages of package curate-plugin-clash): cannot be loaded: RecipeError: "
        "stage id 'dedup.exact' of curate_plugin_clash.Mine is curate's own "
        "(curate.stages.dedup_exact); a plugin's stage needs another id\n")
    assert os.environ.get("PYTHONPATH", "").find(str(clash)) < 0  # this process untouched
