from __future__ import annotations

import warnings

import numpy as np
import pytest

from curate import embed
from curate.errors import CurateError

from .conftest import FAQ_SAMPLE

TEXTS = [
    "Python is an interpreted, interactive, object-oriented programming language.",
    "Lists are mutable sequences; tuples cannot be changed after they are created.",
    "The global interpreter lock lets only one thread run Python bytecode at a time.",
    "Use a virtual environment so that each project has its own installed packages.",
    "A generator function yields values lazily instead of building a whole list.",
]


def test_fast_path_stays_within_cosine_0999_of_fp32(monkeypatch):
    faq = (FAQ_SAMPLE / "general.rst.txt").read_text(encoding="utf-8")
    texts = TEXTS + [p for p in faq.split("\n\n") if len(p) > 200][:20]
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "fp32")
    ref = embed.embed_texts(texts)
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "bf16")
    fast = embed.embed_texts(texts)
    assert fast.dtype == np.float32 and fast.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (ref * fast).sum(axis=1).min() >= 0.999


def test_precision_choice(monkeypatch):
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "FP32")
    assert embed.precision() == "fp32"
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "auto")
    assert embed.precision() in ("fp32", "bf16")
    monkeypatch.setenv("CURATE_EMBED_PRECISION", "int4")
    with pytest.raises(CurateError, match="expected fp32, bf16 or auto"):
        embed.precision()


def test_load_is_quiet(capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warnings either
        st = embed.load_model.__wrapped__(embed.DEFAULT_MODEL)
        assert embed.dimension(st) == 384
    assert "Loading weights" not in capfd.readouterr().err


def test_cache_by_content(tmp_path):
    first = embed.embed_texts(TEXTS[:3], cache_dir=tmp_path)
    files = list((tmp_path / "embeddings").glob("*.parquet"))
    assert len(files) == 1
    again = embed.embed_texts([TEXTS[2], TEXTS[0], TEXTS[4]], cache_dir=tmp_path)
    assert np.array_equal(again[0], first[2]) and np.array_equal(again[1], first[0])
    import polars as pl

    assert pl.read_parquet(files[0]).height == 4
    assert embed.embed_texts([]).shape == (0, 384)


def test_the_cache_keeps_each_precision_path_apart(tmp_path, monkeypatch):
    calls = []

    def encode(texts):  # stands in for the model: which texts had to be embedded
        calls.append(list(texts))
        return np.eye(len(texts), 4, dtype=np.float32)

    for path in ("fp32", "bf16", "fp32"):
        monkeypatch.setenv("CURATE_EMBED_PRECISION", path)
        embed.embed_texts(TEXTS[:2], cache_dir=tmp_path, encode=encode)
    assert calls == [TEXTS[:2], TEXTS[:2]]  # the second fp32 call found its vectors
    names = sorted(p.name.rsplit("-", 2)[1:] for p in (tmp_path / "embeddings").iterdir())
    assert names == [["bf16", "content.parquet"], ["fp32", "content.parquet"]]


def test_a_resume_on_the_other_precision_path_embeds_again(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from curate.cli import cli

    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": text}) + "\n"
                            for i, text in enumerate(TEXTS)), encoding="utf-8")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: p\ninput: {{path: {data}}}\nstages:\n  - use: dedup.exact\n"
                      "  - use: dedup.semantic\n  - use: select.diverse\n    with: {n: 3}\n",
                      encoding="utf-8")
    out = tmp_path / "run"

    def run(path: str, *flags: str) -> tuple[str, dict]:
        monkeypatch.setenv("CURATE_EMBED_PRECISION", path)
        res = CliRunner().invoke(cli, ["run", str(recipe), "-o", str(out), "--no-report", *flags])
        assert res.exit_code == 0, res.output
        return res.output, json.loads((out / "manifest.json").read_text())

    _, first = run("fp32")
    semantic, select = first["stages"][2], first["stages"][3]
    assert semantic["stats"]["precision"] == "fp32"
    assert select["stats"]["embedding"]["precision"] == "fp32"
    output, same = run("fp32", "--resume")
    assert "resuming after 03_select.diverse" in output
    assert same["stages"][2:] == first["stages"][2:]  # nothing embedded again

    output, other = run("bf16", "--resume")
    assert "resuming after 01_dedup.exact" in output  # both embedding stages ran again
    assert other["stages"][1] == first["stages"][1]
    assert other["stages"][2]["stats"]["precision"] == "bf16"
    assert other["stages"][3]["stats"]["embedding"]["precision"] == "bf16"
    assert [s["fingerprint"] for s in other["stages"][2:]] != [
        s["fingerprint"] for s in first["stages"][2:]]
    cached = sorted(p.name.rsplit("-", 2)[1] for p in (out / "cache" / "embeddings").iterdir())
    assert cached == ["bf16", "fp32"]


def test_a_single_turn_is_embedded_as_its_content_and_several_turns_with_roles():
    from curate.records import records_to_frame

    df = records_to_frame([
        {"id": "a", "kind": "sft", "source": "s", "meta": {},
         "messages": [{"role": "user", "content": "Hi there"},
                      {"role": "assistant", "content": "Hello"}]},
        {"id": "b", "kind": "sft", "source": "s", "meta": {},
         "messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]}])
    assert embed.frame_texts(df, "prompt") == ["Hi there", "system: Be brief.\nuser: Q?"]
    assert embed.frame_texts(df, "response") == ["Hello", "A."]
    assert embed.frame_texts(df, "conversation") == [
        "user: Hi there\nassistant: Hello", "system: Be brief.\nuser: Q?\nassistant: A."]


def test_a_cache_of_an_earlier_text_form_is_not_read(tmp_path, monkeypatch):
    import polars as pl

    from curate.embed_cache import cache_folder, text_key

    monkeypatch.setenv("CURATE_EMBED_PRECISION", "fp32")
    folder = cache_folder(tmp_path, "all-MiniLM-L6-v2")
    assert folder.name.endswith(f"-fp32-{embed.TEXT_FORM}.parquet")
    # the earlier layout: no text form in the name, vectors of "user: ..." texts
    old = folder.with_name(folder.name.replace(f"-{embed.TEXT_FORM}", ""))
    old.parent.mkdir(parents=True)
    pl.DataFrame({"key": [text_key(TEXTS[0])],
                  "vec": np.ones((1, 4), np.float32)}).write_parquet(old)
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.eye(len(texts), 4, dtype=np.float32)

    embed.embed_texts(TEXTS[:1], cache_dir=tmp_path, encode=encode)
    assert calls == [TEXTS[:1]]  # embedded again, not read from the old cache
    assert old.read_bytes()[:4] == b"PAR1" and old.is_file()  # left as it was
