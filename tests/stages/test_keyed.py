"""Keyed stages on data in storage: several pieces and spill partitions give the records of
one piece, through nothing but ``engine.map`` (picklable work, any engine)."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from curate.engines.local import LocalEngine
from curate.io.parts import Parts, write_parts
from curate.stages.base import DROP_REASON, StageContext, StageData
from curate.stages.dedup_exact import ExactDedup, key_digests
from curate.stages.dedup_near import NearDedup
from curate.stages.keyed import partitions

VOCAB = [f"word{i}" for i in range(3000)]


class MapOnly:
    """An engine with nothing but ``map``, whose functions and items cross a pickle (as they
    do to Ray tasks)."""

    name = "map-only"

    def __init__(self):
        self.calls = 0

    def map(self, fn, items, *, desc, sizes=None, threads=1, processes=1):  # in-process only
        self.calls += 1
        fn = pickle.loads(pickle.dumps(fn))
        return [fn(pickle.loads(pickle.dumps(item))) for item in items]


def corpus(rec, n: int = 60) -> pl.DataFrame:
    """SFT records and pairs with planted exact copies (up to case and spaces), near copies
    (one word changed), chains, an earlier dup_cluster and wordless replies."""
    rng = np.random.default_rng(7)
    records = []
    for i in range(n):
        words = list(rng.choice(VOCAB, 60))
        text = " ".join(words)
        if i % 2:
            records.append(rec.qa(f"Question {i % 5}?", text, id=f"s{i}"))
        else:
            records.append(rec.pair(f"Prompt {i}", text, "no", id=f"p{i}"))
        if i % 4 == 1:   # an exact copy after normalising
            records.append(rec.qa(f"QUESTION  {i % 5}?", text.upper(), id=f"s{i}x"))
        if i % 3 == 0:   # a near copy, and a near copy of it
            words[30] = "changed"
            records.append(rec.pair(f"Prompt {i}", " ".join(words), "no", id=f"p{i}n"))
            words[10] = "again"
            records.append(rec.pair(f"Prompt {i}", " ".join(words) + " tail", "no", id=f"p{i}m"))
    records += [rec.qa("Empty?", "", id="e1"), rec.qa("Empty?", "", id="e2"),
                rec.qa("Emoji?", "🙂", id="e3")]
    rng.shuffle(records)
    df = rec.frame(*records)
    score = pl.col("id").str.len_chars() * 3 % 5  # ties
    return df.with_columns(pl.when(pl.col("id") == "s1x").then(pl.lit("earlier"))
                           .alias("dup_cluster"),
                           pl.when(pl.col("id").str.ends_with("m")).then(None)
                           .otherwise(score).cast(pl.Float64).alias("score"))


def streamed(stage, df, tmp_path, engine, rows: int):
    data = StageData(write_parts(df, tmp_path / "in", rows=rows), tmp_path / "kept",
                     tmp_path / "rejected", tmp_path / "scratch")
    out = engine.run_stage(stage, data, StageContext(name=stage.id)) \
        if hasattr(engine, "run_stage") else stage.run(data, StageContext(name=stage.id), engine)
    return data, out


STAGES = [
    lambda: ExactDedup(),
    lambda: ExactDedup({"on": "prompt"}),
    lambda: NearDedup(),
    lambda: NearDedup({"keep": "longest"}),
    lambda: NearDedup({"keep": "score", "on": "response"}),
    lambda: NearDedup({"verify": False, "threshold": 0.7}),
]


@pytest.mark.parametrize("make", STAGES)
@pytest.mark.parametrize("engine", [LocalEngine, MapOnly])
def test_pieces_and_partitions_give_the_records_of_one_piece(rec, tmp_path, monkeypatch,
                                                             make, engine):
    df = corpus(rec)
    one = make().apply(df)
    assert one.rejected.height > 0  # every case removes something
    stage = make()
    monkeypatch.setattr(type(stage), "sign_batch_size", 7)
    monkeypatch.setattr(type(stage), "group_rows", df.height * stage.keys_per_row() // 5)
    assert partitions(stage, df.height) == 6
    data, out = streamed(stage, df, tmp_path, engine(), rows=11)
    got = out.result()
    assert got.kept.equals(one.kept)
    assert got.rejected.equals(one.rejected)
    assert got.stats == one.stats
    # the accounting, from the pieces' counts; one output part per input part
    assert (out.rows_in, out.rows_out) == (df.height, one.kept.height)
    assert out.drops == {stage.reason if hasattr(stage, "reason") else "duplicate_exact":
                         one.rejected.height}
    assert len(out.kept.files) == len(out.rejected.files) == len(data.source.files) == -(-df.height // 11) > 10
    assert not (data.scratch / "keyed").exists()  # the spill is removed after grouping


def test_the_spill_is_a_file_per_sign_task(rec, tmp_path, monkeypatch):
    """Pieces x partitions files would be millions at a billion records: one file per sign
    task, an Arrow IPC stream per partition it has rows of, in partition order, where the
    sign task says its bytes end."""
    import curate.stages.keyed as keyed

    df = corpus(rec)
    stage = NearDedup()
    monkeypatch.setattr(NearDedup, "sign_batch_size", 9)
    monkeypatch.setattr(NearDedup, "group_rows", df.height * stage.keys_per_row() // 4)
    parts = keyed.partitions(stage, df.height)
    signed, seen = {}, {}
    sign, remove = keyed.sign_piece, keyed.shutil.rmtree

    def spy(piece, **kw):
        signed[keyed._piece_file(piece.index)] = out = sign(piece, **kw)
        return out

    def look(folder, ignore_errors=False):  # the spill, as the group step left it
        if Path(folder).name == "keyed":
            seen.update({f.name: f.read_bytes() for f in Path(folder).iterdir()})
        remove(folder, ignore_errors=ignore_errors)

    monkeypatch.setattr(keyed, "sign_piece", spy)
    monkeypatch.setattr(keyed.shutil, "rmtree", look)
    data, _ = streamed(stage, df, tmp_path, LocalEngine(), rows=20)
    pieces = data.source.pieces(9)  # the sign tasks' pieces (cut at part ends too)
    assert len(pieces) > 10 and parts == 4
    assert sorted(seen) == sorted(signed) == [f"{p.index:05d}.ipcs" for p in pieces]
    part = (pl.struct(list(stage.key)).hash(seed=0) % parts).alias("p")
    total = 0
    for name, (counts, ends) in signed.items():
        assert ends[-1] == len(seen[name])
        for p, (start, end) in enumerate(zip([0, *ends], ends)):
            if not counts[p]:
                assert start == end
                continue
            rows = pl.read_ipc_stream(io.BytesIO(seen[name][start:end]))
            assert rows.height == counts[p]
            assert rows.select(part)["p"].unique().to_list() == [p]
            total += rows.height
    assert total == df.height * stage.keys_per_row()


def test_exact_groups_and_marks(rec, tmp_path, monkeypatch):
    df = corpus(rec)
    monkeypatch.setattr(ExactDedup, "sign_batch_size", 5)
    _, out = streamed(ExactDedup(), df, tmp_path, LocalEngine(), rows=9)
    res = out.result()
    gone = dict(zip(res.rejected["id"], res.rejected["kept_id"]))
    groups = [(f"s{i}", f"s{i}x") for i in range(1, 60, 4)] + [("e1", "e2")]
    for a, b in groups:  # one of each group goes, pointing at the other (the first in order)
        assert (gone.get(a), gone.get(b)) in ((b, None), (None, a))
        first = min(df["id"].to_list().index(a), df["id"].to_list().index(b))
        assert df["id"][first] not in gone
    assert len(gone) == len(groups)
    # the earlier dup_cluster of s1x is left as it is, wherever it went
    both = pl.concat([res.kept, res.rejected], how="diagonal")
    assert both.filter(pl.col("id") == "s1x")["dup_cluster"].to_list() == ["earlier"]
    assert res.stats == {"on": "conversation", "groups": 16, "duplicates": 16}
    assert "kept_id" not in res.kept.columns
    assert res.rejected[DROP_REASON].unique().to_list() == ["duplicate_exact"]


def test_no_keyed_rows_at_all(rec, tmp_path):
    df = rec.frame(rec.qa("A?", "🙂", id="a"), rec.qa("B?", "...", id="b"),
                   rec.qa("C?", "!!", id="c"))
    _, out = streamed(NearDedup({"on": "response"}), df, tmp_path, LocalEngine(), rows=1)
    assert (out.rows_in, out.rows_out, out.drops) == (3, 3, {})
    assert out.stats["candidates"] == 0
    assert out.result().kept["id"].to_list() == ["a", "b", "c"]


def test_an_empty_input_gives_empty_outputs(rec, tmp_path):
    df = corpus(rec).drop("dup_cluster").clear()
    for stage in (ExactDedup(), NearDedup()):
        _, out = streamed(stage, df, tmp_path / stage.id, LocalEngine(), rows=5)
        assert (out.rows_in, out.rows_out) == (0, 0)
        assert Parts(out.kept.path).read().columns == df.columns + ["dup_cluster"]


def test_key_digests_are_blake2b_128():
    keys = pl.Series(["a", "b", "a", "é\x1e"])
    hi, lo = key_digests(keys)
    assert hi.dtype == lo.dtype == np.uint64
    want = hashlib.blake2b("é\x1e".encode(), digest_size=16).digest()
    assert (int(hi[3]), int(lo[3])) == (int.from_bytes(want[:8], "big"),
                                        int.from_bytes(want[8:], "big"))
    assert (hi[0], lo[0]) == (hi[2], lo[2]) and (hi[0], lo[0]) != (hi[1], lo[1])
