"""The split decided by tasks over keys in storage: row for row the split of
:func:`curate.export.split.split_labels`, with only counts, the shared rows and the buckets read
back reaching the driver."""

import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

import curate.export.split_plan as split_plan
from curate.errors import CurateError
from curate.export.split import SIDES, split_labels
from curate.export.split_tasks import ROW, members_in, write_links
from curate.in_process import InProcess
from curate.io.parts import PartWriter, part_name

from .test_split_groups import _keys

STRATA = {h: f"s{h}" for h in range(1, 4)}


def _text(position: int) -> str:
    return f"key {position * 7919 % 1009}"


def _texts_at(item):
    """Stands in for reading the pieces' rows: the key text of an export position."""
    _, piece, rows = item
    return [_text(piece.start + r) for r in rows.tolist()]


def _variant(keys: pl.DataFrame, kind: str, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = keys.height
    if kind == "no links but the prompt":
        return keys.drop("dc", "lg")
    if kind == "big groups, rows without a stratum":
        prompts = rng.integers(0, max(1, n // 20), n).astype(np.uint64)
        return keys.with_columns(
            pl.Series("ko", prompts * np.uint64(0x9E3779B97F4A7C15), dtype=pl.UInt64),
            pl.when(pl.Series(rng.random(n) < 0.2)).then(None).otherwise(pl.col("st"))
            .alias("st"))
    if kind == "one stratum nearly everywhere":
        return keys.with_columns(pl.when(pl.Series(rng.random(n) < 0.9))
                                 .then(pl.lit(1, pl.UInt64)).otherwise(pl.col("st")).alias("st"))
    if kind == "nothing shared":
        return keys.drop("dc", "lg").with_columns(pl.lit(False).alias("pk"))
    if kind == "prompts of 1-5 rows, some clustered":  # most groups are units of a prompt
        prompts = np.repeat(np.arange(n), rng.integers(1, 6, n))[:n]
        return keys.with_columns(pl.col("ko").gather(prompts), pl.lit(True).alias("pk"),
                                 pl.when(pl.Series(rng.random(n) < 0.05)).then(pl.col("dc"))
                                 .otherwise(None).alias("dc"))
    return keys


def _decide(tmp_path: Path, keys: pl.DataFrame, sizes: list[int], engine=None, **options):
    """Each piece's keys written as the check pass writes them, the split decided, and each
    row's split as the write tasks label it."""
    starts = np.cumsum([0] + sizes)
    pieces = []
    for i in range(len(sizes)):
        part = keys[int(starts[i]):int(starts[i + 1])]
        PartWriter(tmp_path / "keys").write(i, part.with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)))
        write_links(str(tmp_path), i, part)
        pieces.append(SimpleNamespace(index=i, start=int(starts[i])))
    rules, decided = split_plan.decide_split(engine or InProcess(), str(tmp_path), pieces, sizes,
                                             STRATA, **options)
    labels = []
    for i, (start, rows, sides) in enumerate(decided):
        keys_i = pl.read_parquet(tmp_path / "keys" / part_name(i))
        members = members_in(str(tmp_path), rules.ranges, start, start + keys_i.height)
        labels.append(SIDES[rules.sides(keys_i, members, rows, sides)])
    _decide.rules = rules  # for the tests that look at them
    return np.concatenate(labels)


CASES = [  # seed, rows, pieces' sizes, bucket bits, test, validation, kind
    (0, 500, [500], 0, 0.1, None, ""),
    (1, 500, [120, 80, 300], 3, 0.2, 0.1, ""),
    (2, 3000, [1000, 1000, 1000], 7, 0.1, None, ""),
    (3, 3000, [2999, 1], 10, 7, 3, ""),
    (4, 2000, [700, 1300], 5, 0.3, 0.2, "no links but the prompt"),
    (5, 4000, [4000], 6, 0.1, 0.1, "big groups, rows without a stratum"),
    (6, 4000, [100, 3900], 8, 0.05, None, "big groups, rows without a stratum"),
    (7, 3000, [1500, 1500], 6, 0.1, 5, "one stratum nearly everywhere"),
    (8, 2000, [500] * 4, 9, 0.25, None, "nothing shared"),
    (9, 30, [10, 20], 2, 1, None, ""),
    (10, 20000, [8000, 12000], 11, 0.1, 0.1, ""),
    (11, 5, [2, 3], 1, 0.02, 0.1, ""),
    (12, 6000, [2500, 3500], 8, 0.1, 0.05, "prompts of 1-5 rows, some clustered"),
    (13, 3000, [3000], 4, 7, 11, "prompts of 1-5 rows, some clustered"),
    (14, 900, [300, 600], 6, 0.3, None, "prompts of 1-5 rows, some clustered"),
]


@pytest.mark.parametrize("seed,n,sizes,bits,test_size,validation_size,kind", CASES)
def test_the_split_by_tasks_is_split_labels_row_for_row(tmp_path, monkeypatch, seed, n, sizes,
                                                       bits, test_size, validation_size, kind):
    monkeypatch.setattr(split_plan, "texts_at", _texts_at)
    keys = _variant(_keys(seed, n), kind, seed)
    options = dict(test_size=test_size, validation_size=validation_size)
    try:
        want = split_labels(keys, STRATA, key_text=lambda rows: [_text(r) for r in rows.tolist()],
                            **options).tolist()
    except CurateError as err:
        with pytest.raises(CurateError) as raised:
            _decide(tmp_path, keys, sizes, bits=bits, **options)
        assert str(raised.value) == str(err)
        return
    assert _decide(tmp_path, keys, sizes, bits=bits, **options).tolist() == want
    assert "test" in want


def test_a_split_that_leaves_no_train_row_names_the_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(split_plan, "texts_at", _texts_at)
    keys = _keys(1, 3)  # a row alone and two that share a key
    with pytest.raises(CurateError, match="they form only 2 group"):
        split_labels(keys, STRATA, test_size=0.02, validation_size=0.1)
    with pytest.raises(CurateError, match="they form only 2 group"):
        _decide(tmp_path, keys, [1, 2], test_size=0.02, validation_size=0.1, bits=1)


class Recording(InProcess):
    """This process's engine, keeping every task result by pass."""

    def __init__(self):
        super().__init__()
        self.results: dict[str, list] = {}

    def map(self, fn, items, *, desc, **options):
        out = super().map(fn, items, desc=desc, **options)
        self.results.setdefault(desc, []).extend(out)
        return out


@pytest.mark.parametrize("kind", ["nothing shared", "every prompt has 4 rows"])
def test_the_driver_gets_counts_and_the_buckets_it_reads_not_the_rows(tmp_path, kind):
    n = 40_000
    keys = _variant(_keys(3, n), "nothing shared", 3)
    if kind == "every prompt has 4 rows":  # rows that share a prompt and nothing else
        keys = keys.with_columns(pl.lit(True).alias("pk"), pl.col("ko").gather(
            np.arange(n) // 4 * 4))
    engine = Recording()
    labels = _decide(tmp_path, keys, [10_000] * 4, engine=engine, bits=8, test_size=0.1,
                     validation_size=0.05)
    assert labels.tolist() == split_labels(keys, STRATA, test_size=0.1,
                                           validation_size=0.05).tolist()
    got = engine.results
    # no row to join on the driver: no cluster, and no prompt group with a clustered row
    assert sum(len(found) for found in got["split clusters"]) == 0
    assert sum(len(found["joined"]) for found in got["split prompts"]) == 0
    assert got["split groups"] == []
    cells = (len(STRATA) + 1) << 8  # "" is a stratum too
    assert all(c.shape == (cells,) for c in got["split counts"])
    assert all(p["counts"].shape == (cells,) for p in got["split prompts"])
    read = sum(f.height for f in got["split buckets"])
    # the bucket where each stratum's fill meets its quota, for test and for validation: at
    # most 6 of the 256 buckets, read in two rounds (of 4 pieces' and 1 range's files)
    assert 0 < read <= 6 * n // 256 * 2
    assert len(got["split buckets"]) == 2 * 5
    assert set(got) == {"split clusters", "split prompts", "split groups", "split counts",
                        "split buckets"}


def test_what_each_write_task_gets_does_not_grow_with_the_buckets(tmp_path, monkeypatch):
    monkeypatch.setattr(split_plan, "texts_at", _texts_at)
    n = 40_000
    keys = _keys(5, n)
    labels = _decide(tmp_path, keys, [n], bits=16, test_size=0.1, validation_size=0.1)
    assert labels.tolist() == split_labels(
        keys, STRATA, test_size=0.1, validation_size=0.1,
        key_text=lambda rows: [_text(r) for r in rows.tolist()]).tolist()
    runs = [len(first) for first, _ in _decide.rules.runs]
    # per stratum: test, (a bucket read back), validation, (another), train; not 65,536 cells
    assert len(runs) == 4 and max(runs) <= 8
    assert len(pickle.dumps(_decide.rules)) < 4_000


def test_the_buckets_fit_the_rows_and_strata():
    assert split_plan.bucket_bits(100, 3) == 0
    assert split_plan.bucket_bits(2_000_000, 3) == 10
    assert split_plan.bucket_bits(10**9, 3) == 16
    assert split_plan.bucket_bits(10**9, 1000) == 10  # at most 1M cells
