from __future__ import annotations

import json
import pickle

import numpy as np
import polars as pl
import pytest

from curate.convert import convert
from curate.engines.local import LocalEngine, apply_frame
from curate.errors import CurateError
from curate.stages.base import DROP_REASON, KEPT_ID, StageContext
from curate.stages.dedup_exact import dedup_exact
from curate.stages.dedup_near import NearDedup, NearDedupOptions, dedup_near
from curate.stages.registry import stage_class

from ..conftest import REPO

VOCAB = [f"word{i}" for i in range(2000)]


def _words(seed: int, n: int = 80) -> list[str]:
    return list(np.random.default_rng(seed).choice(VOCAB, n))


def _edit(words: list[str], changes: int, seed: int) -> str:
    """A copy with ``changes`` words replaced at spread-out positions."""
    out = list(words)
    rng = np.random.default_rng(seed)
    for pos in rng.choice(np.arange(5, len(out) - 5, 12), changes, replace=False):
        out[pos] = f"other{pos}"
    return " ".join(out)


def _ids(df):
    return df["id"].to_list()


def test_registered():
    assert stage_class("dedup.near") is NearDedup


def test_near_copies_removed_others_kept(rec):
    a, b = _words(1), _words(2)
    df = rec.frame(
        rec.qa("Tell me something.", " ".join(a), id="a"),
        rec.qa("Tell me something.", " ".join(b), id="b"),
        rec.qa("Tell me something!", _edit(a, 1, 0), id="a2"),   # one word changed
        rec.qa("tell me SOMETHING.", " ".join(a), id="a3"),      # exact copy after normalising
        rec.qa("Tell me something.", "", id="e1"),               # near-empty texts only match
        rec.qa("Say something else.", "", id="e2"),              # through their roles: no
    )
    result = dedup_near(df)
    assert _ids(result.kept) == ["a", "b", "e1", "e2"]
    assert _ids(result.rejected) == ["a2", "a3"]
    assert result.rejected[DROP_REASON].to_list() == ["duplicate_near"] * 2
    assert result.rejected[KEPT_ID].to_list() == ["a", "a"]
    assert result.kept["dup_cluster"].to_list() == ["a", None, None, None]
    assert result.rejected["dup_cluster"].to_list() == ["a", "a"]
    assert result.kept.columns == df.columns + ["dup_cluster"]
    assert result.kept.select(df.columns).equals(df.filter(pl.col("id").is_in(["a", "b", "e1", "e2"])))
    assert result.stats | {"candidates": None} == {
        "on": "conversation", "bands": 14, "rows": 9, "candidates": None, "pairs": 3,
        "dup_clusters": 1, "duplicates": 2, "cluster_sizes": {"3": 1}}


def test_sft_rows_and_pairs_never_merge(rec):
    reply = " ".join(_words(3))
    df = rec.frame(rec.qa("Question here?", reply, id="s"),
                   rec.pair("Question here?", reply, "No.", id="p"),
                   rec.pair("Question here?", reply, "Nope.", id="p2"))
    result = dedup_near(df, on="conversation")
    assert _ids(result.kept) == ["s", "p"]
    assert result.rejected[KEPT_ID].to_list() == ["p"]


def test_on_prompt_same_prompt_any_reply(rec):
    prompt = " ".join(_words(4, 40))
    df = rec.frame(rec.qa(prompt, "First answer.", id="x"),
                   rec.qa(prompt + " please", "A different answer entirely.", id="y"))
    assert _ids(dedup_near(df, on="prompt").rejected) == ["y"]
    assert _ids(dedup_near(df, on="response").rejected) == []


def test_verify_keeps_pairs_under_the_threshold_apart(rec):
    """Pairs at Jaccard ~0.7 become LSH candidates sometimes; the exact check drops them."""
    records = []
    for i in range(40):
        words = _words(100 + i, 120)
        records += [rec.qa("Q", " ".join(words), id=f"o{i}"),
                    rec.qa("Q", _edit(words, 4, i), id=f"c{i}")]
    df = rec.frame(*records)
    checked = dedup_near(df, threshold=0.8)
    trusted = dedup_near(df, threshold=0.8, verify=False)
    assert (checked.stats["bands"], checked.stats["rows"]) == (14, 9)   # recall-weighted
    assert (trusted.stats["bands"], trusted.stats["rows"]) == (9, 13)   # as datasketch
    assert checked.stats["candidates"] > 0 and checked.stats["pairs"] == 0
    assert checked.rejected.height == 0
    assert trusted.rejected.height == trusted.stats["candidates"] > 0
    assert (checked.stats["candidates"], trusted.rejected.height) == (14, 2)


def test_keep_policies(rec):
    base = _words(5, 100)
    df = rec.frame(rec.qa("Q", " ".join(base), id="short", score=0.1),
                   rec.qa("Q", " ".join(base) + " and a few more words", id="long", score=None),
                   rec.qa("Q", " ".join(base) + " more", id="best", score=0.9))
    df = df.with_columns(pl.Series("score", [0.1, None, 0.9]))
    assert _ids(dedup_near(df).kept) == ["short"]
    assert _ids(dedup_near(df, keep="longest").kept) == ["long"]
    assert _ids(dedup_near(df, keep="score").kept) == ["best"]
    assert dedup_near(df, keep="score").rejected[KEPT_ID].to_list() == ["best", "best"]
    with pytest.raises(CurateError, match="no column 'nosuch'"):
        dedup_near(df, keep="nosuch")
    with pytest.raises(CurateError, match="expected a number"):
        dedup_near(df, keep="source")


def test_every_cluster_has_a_survivor_in_chunks(rec, monkeypatch):
    monkeypatch.setattr("curate.stages.dedup_near.NearDedup.sign_batch_size", 7)
    records = []
    for i in range(10):
        words = _words(200 + i, 200)
        records += [rec.qa("Q", _edit(words, 1, k), id=f"d{i}-{k}") for k in range(3)]
    df = rec.frame(*records)
    result = dedup_near(df)
    kept = set(_ids(result.kept))
    assert len(kept) == 10 and set(result.rejected[KEPT_ID]) <= kept
    assert result.stats["cluster_sizes"] == {"3": 10}


def test_demo_planted_near_duplicates():
    """The demo corpus: exactly its 10 planted near copies survive exact dedup and go here."""
    converted = convert(REPO / "pipelines" / "data" / "demo", on_error="skip").frame
    after_exact = dedup_exact(converted).kept
    result = dedup_near(after_exact, threshold=0.8)
    where = sorted((json.loads(m)["file"], json.loads(m)["line"])
                   for m in result.rejected["meta"])
    assert where == [("alpaca.jsonl", 73), ("alpaca.jsonl", 96), ("alpaca.jsonl", 101),
                     ("alpaca.jsonl", 117), ("dolly.csv", 81), ("openai.jsonl", 17),
                     ("openai.jsonl", 37), ("openai.jsonl", 46), ("sharegpt.json", 25),
                     ("sharegpt.json", 26)]
    assert result.stats["cluster_sizes"] == {"2": 10}


def test_cli_near_and_options(tmp_path):
    from click.testing import CliRunner

    from curate.cli import cli

    base = _words(9, 100)
    rows = [{"instruction": "Q", "output": " ".join(base)},
            {"instruction": "Q", "output": _edit(base, 1, 0)},
            {"instruction": "Q", "output": " ".join(_words(10, 100))}]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = CliRunner().invoke(cli, ["dedup", str(data), "-o", str(tmp_path / "o"),
                                      "--method", "near", "--threshold", "0.7", "--ngram", "3",
                                      "--num-perm", "64", "--no-verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "01_dedup.near                  3 -> 2       dropped duplicate_near: 1")
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["stages"][1]["thresholds"] == {
        "on": "conversation", "keep": "first", "against": {}, "threshold": 0.7,
        "num_perm": 64, "ngram": 3, "verify": False, "seed": 42}
    usage = CliRunner().invoke(cli, ["dedup", str(data), "-o", str(tmp_path / "x"),
                                     "--ngram", "3"])
    assert usage.exit_code == 2 and "--ngram does not apply to --method exact" in usage.output


# --- what is compared: contents, never role names ----------------------------------------------

def test_replies_without_words_are_never_near_duplicates(rec):
    """Emoji and punctuation replies have no word: no shingle, so no near duplicate, whatever
    the part compared (the roles around them are not words of the text)."""
    text = " ".join(_words(11))
    df = rec.frame(
        rec.qa("Send a rocket", "🚀", id="rocket"),
        rec.qa("Smile please", "😀", id="smile"),
        rec.qa("What?", "???", id="what"),
        rec.qa("Anything else", "... !!", id="dots"),
        rec.qa("Tell me", text, id="a"),
        rec.qa("Tell me", _edit(text.split(), 1, 3), id="a2"),   # the one real near copy
    )
    for on in ("response", "conversation"):
        result = dedup_near(df, on=on)
        assert _ids(result.kept) == ["rocket", "smile", "what", "dots", "a"], on
        assert _ids(result.rejected) == ["a2"], on
        assert result.rejected[KEPT_ID].to_list() == ["a"], on
    # the same with the LSH candidates trusted: wordless rows are never candidates
    assert _ids(dedup_near(df, on="response", verify=False).rejected) == ["a2"]


def test_one_word_replies_in_other_scripts_do_not_chain(rec):
    """At --ngram 1 --threshold 0.5, role words made these one cluster (4 of 8 shingles shared:
    greet, in, user, assistant); their contents share 2 of 6."""
    df = rec.frame(rec.qa("Greet in French", "Bonjour", id="fr"),
                   rec.qa("Greet in Russian", "Привет", id="ru"),
                   rec.qa("Greet in Japanese", "こんにちは", id="ja"),
                   rec.qa("Greet in Greek", "Γειά", id="el"),
                   rec.qa("Greet in French", "Bonjour!", id="fr2"))   # same words: a duplicate
    result = dedup_near(df, ngram=1, threshold=0.5)
    assert _ids(result.kept) == ["fr", "ru", "ja", "el"]
    assert _ids(result.rejected) == ["fr2"]
    assert result.rejected[KEPT_ID].to_list() == ["fr"]
    assert result.stats["cluster_sizes"] == {"2": 1}


def test_role_words_in_the_text_are_content(rec):
    """A reply that says "user" and "assistant" is compared by those words, and a reply that
    says something else is not its duplicate through the roles."""
    df = rec.frame(rec.qa("Q", "user assistant", id="says-roles"),
                   rec.qa("Q", "🚀", id="rocket"),
                   rec.qa("Q", "User, assistant.", id="says-roles-again"))
    result = dedup_near(df, on="response", ngram=1, threshold=0.9)
    assert _ids(result.kept) == ["says-roles", "rocket"]
    assert _ids(result.rejected) == ["says-roles-again"]


def test_tool_calls_are_compared_as_content(rec):
    """A turn that only calls a tool is compared by its call: the same call is a duplicate,
    a call with other arguments is not (at ngram 1, threshold 0.9)."""
    def call(city: str, call_id: str) -> dict:
        return {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": "get_weather", "arguments": f'{{"city": "{city}"}}'}}]}

    def conv(city, call_id, id):
        return {"kind": "sft", "id": id, "source": "t", "messages": [
            {"role": "user", "content": "What is the weather?"}, call(city, call_id)]}

    df = rec.frame(conv("Paris", "call_1", "paris"), conv("Oslo", "call_2", "oslo"),
                   conv("Paris", "call_9", "paris-again"))
    result = dedup_near(df, on="response", ngram=1, threshold=0.9)
    assert _ids(result.kept) == ["paris", "oslo"]
    assert _ids(result.rejected) == ["paris-again"]


def test_frames_without_the_tool_fields_still_dedup(rec):
    """A frame built before messages had tool fields ({role, content} structs, as older
    checkpoints hold them) runs as it did; the result carries the current message type."""
    from curate.record_schema import MESSAGES

    text = " ".join(_words(12))
    rows = [("a", text), ("b", " ".join(_words(13))), ("a2", _edit(text.split(), 1, 4))]
    turns = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
    old = pl.DataFrame({
        "id": [i for i, _ in rows], "kind": ["sft"] * 3,
        "messages": [[{"role": "user", "content": "Q"}, {"role": "assistant", "content": t}]
                     for _, t in rows],
        "prompt": [None] * 3, "chosen": [None] * 3, "rejected": [None] * 3},
        schema={"id": pl.String, "kind": pl.String, "messages": turns, "prompt": turns,
                "chosen": turns, "rejected": turns})
    assert old.schema["messages"] != MESSAGES
    result = dedup_near(old)
    assert (_ids(result.kept), _ids(result.rejected)) == (["a", "b"], ["a2"])
    assert result.kept.schema["messages"] == MESSAGES


def test_cli_wordless_and_one_word_replies_are_kept(tmp_path):
    """The issue's commands: `curate dedup --method near` keeps every one of these rows."""
    from click.testing import CliRunner

    from curate.cli import cli

    rows = [{"instruction": q, "output": a} for q, a in [
        ("Send a rocket", "🚀"), ("Smile please", "😀"), ("What?", "???"),
        ("Greet in French", "Bonjour"), ("Greet in Russian", "Привет"),
        ("Greet in Japanese", "こんにちは")]]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    for i, extra in enumerate([["--on", "response"], ["--ngram", "1", "--threshold", "0.5"]]):
        out = tmp_path / f"o{i}"
        r = CliRunner().invoke(cli, ["dedup", str(data), "-o", str(out), "--method", "near",
                                     *extra])
        assert r.exit_code == 0, r.output
        assert r.stdout.splitlines()[1] == "01_dedup.near                  6 -> 6"
        assert pl.read_parquet(out / "data.parquet")["meta"].map_elements(
            lambda m: json.loads(m)["line"], return_dtype=pl.Int64).to_list() == [1, 2, 3, 4, 5, 6]


class _Watching(LocalEngine):
    """A local engine that fails when a task is handed, or hands back, ``secret`` (a word
    every compared text holds): the driver never holds a text. Records each map's items."""

    def __init__(self, secret: bytes):
        super().__init__()
        self.secret, self.maps = secret, []

    def map(self, fn, items, *, desc, sizes=None, threads=1, processes=1):
        items = list(items)
        self.maps.append((desc, len(items)))
        assert not any(self.secret in pickle.dumps(item) for item in items), desc
        out = super().map(fn, items, desc=desc, sizes=sizes, threads=threads)
        assert not any(self.secret in pickle.dumps(result) for result in out), desc
        return out


def _corpus(rec, secret: str, copies: int = 6) -> tuple[pl.DataFrame, pl.DataFrame]:
    """New records (near copies of each other, of a reference's records, and pairs under
    the threshold) and the reference, every reply holding ``secret``."""
    new, ref = [], []
    for i in range(copies):
        words = _words(300 + i, 120) + [secret]
        new += [rec.qa("Q", " ".join(words), id=f"n{i}-0"),
                rec.qa("Q", _edit(words, 1, i), id=f"n{i}-1"),
                rec.qa("Q", " ".join(words) + " extra", id=f"n{i}-2"),  # the longest
                rec.qa("Q", _edit(words, 4, i), id=f"far{i}")]  # Jaccard about 0.7
        theirs = _words(500 + i, 120) + [secret]
        ref.append(rec.qa("Q", " ".join(theirs), id=f"r{i}"))
        new.append(rec.qa("Q", _edit(theirs, 1, i), id=f"ref{i}"))
    return rec.frame(*new), rec.frame(*ref)


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_the_jaccard_check_runs_in_tasks_and_no_text_reaches_the_driver(rec, tmp_path,
                                                                        monkeypatch, keep):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    secret = "zyzzyvasecretword"
    df, ref = _corpus(rec, secret)
    ref.write_parquet(tmp_path / "ref.parquet")
    engine = _Watching(secret.encode())
    stage = NearDedup(NearDedupOptions(keep=keep, against={"v1": str(tmp_path / "ref.parquet")}))
    # on storage, as runs and Ray have it (the frame API's pieces hold the frame itself)
    result = apply_frame(engine, stage, df, StageContext(name="dedup.near"))
    maps = dict(engine.maps)
    assert maps["dedup.near verify: texts"] == 1  # one piece holds every row in a pair
    assert maps["dedup.near verify"] == 1 and maps["dedup.near verify: v1"] == 1
    assert sorted(result.rejected["drop_reason"].unique()) == ["duplicate_near",
                                                              "duplicate_of_reference"]
    assert result.stats["duplicates"] == 12 and result.stats["against"]["v1"]["duplicates"] == 6
    gone = (1, 2) if keep == "first" else (0, 1)
    assert sorted(_ids(result.rejected)) == sorted(
        [f"n{i}-{k}" for i in range(6) for k in gone] + [f"ref{i}" for i in range(6)])


def test_many_small_verify_tasks_give_the_same_result(rec, tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    df, ref = _corpus(rec, "word7")
    ref.write_parquet(tmp_path / "ref.parquet")
    options = {"keep": "longest", "against": {"v1": str(tmp_path / "ref.parquet")}}
    whole = dedup_near(df, **options)
    monkeypatch.setattr("curate.stages.dedup_near.VERIFY_BATCH", 1)
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home2"))  # the index built again
    engine = _Watching(b"\0never\0")
    tiny = engine.apply(NearDedup(NearDedupOptions(**options)), df,
                        StageContext(name="dedup.near"))
    maps = dict(engine.maps)
    assert maps["dedup.near verify"] == whole.stats["candidates"] > 12
    assert maps["dedup.near verify: v1"] == whole.stats["reference_candidates"] >= 6
    assert tiny.kept.equals(whole.kept) and tiny.rejected.equals(whole.rejected)
    for stats in (tiny.stats, whole.stats):  # the index was built in another cache
        assert stats["against"]["v1"].pop("index").startswith(str(tmp_path / "home"))
    assert tiny.stats == whole.stats
