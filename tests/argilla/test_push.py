"""Idempotent pushes, an interrupted push re-run, and bad input."""

from collections import Counter

import polars as pl
import pytest

from curate.argilla.push import check_frame, push_records
from curate.errors import CurateError
from curate.records import records_to_frame


def _frame(n):
    return records_to_frame([{"id": f"r{i}", "kind": "sft", "source": "test", "meta": {},
                              "messages": [{"role": "user", "content": f"q{i}"},
                                           {"role": "assistant", "content": f"a{i}"}]}
                             for i in range(n)])


def _external_ids(owner, dataset):
    return Counter(r["external_id"] for r in owner.records(owner.dataset(dataset)["id"]))


def test_repush_updates_instead_of_duplicating(owner):
    frame = _frame(3).with_columns(embedding=pl.Series([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]))
    push_records(owner, frame, dataset="idem-test")
    changed = frame.with_columns(toxicity=pl.Series([0.1, 0.7, 0.2]))
    summary = push_records(owner, changed, dataset="idem-test")
    assert summary["vectors"] == ["embedding"] and "toxicity" in summary["metadata"]
    assert _external_ids(owner, "idem-test") == Counter({"r0": 1, "r1": 1, "r2": 1})
    recs = {r["external_id"]: r for r in owner.records(owner.dataset("idem-test")["id"],
                                                        include="responses,suggestions")}
    assert recs["r1"]["metadata"]["toxicity"] == 0.7
    assert [s["value"] for s in recs["r1"]["suggestions"]] == ["reject"]


def test_interrupted_push_rerun_ends_with_each_record_once(owner):
    frame = _frame(7)

    def stop_after_first_batch(done, total):
        if done < total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        push_records(owner, frame, dataset="resume-test", batch_size=3,
                     on_batch=stop_after_first_batch)
    assert sum(_external_ids(owner, "resume-test").values()) == 3
    summary = push_records(owner, frame, dataset="resume-test", batch_size=3)
    assert summary["batches"] == 3
    assert _external_ids(owner, "resume-test") == Counter({f"r{i}": 1 for i in range(7)})


def test_task_must_fit_the_records(owner):
    with pytest.raises(CurateError, match="task preference labels preference records"):
        check_frame(_frame(2), "preference")
    with pytest.raises(CurateError, match="repeat an id"):
        check_frame(pl.concat([_frame(2), _frame(1)]), None)
    push_records(owner, _frame(1), dataset="task-test")
    pairs = records_to_frame([{"id": "p", "kind": "preference", "source": "t", "meta": {},
                               "prompt": [{"role": "user", "content": "q"}],
                               "chosen": [{"role": "assistant", "content": "a"}],
                               "rejected": [{"role": "assistant", "content": "b"}]}])
    with pytest.raises(CurateError, match="was made for task sft-review"):
        push_records(owner, pairs, dataset="task-test")


def test_a_run_folder_of_parts_is_pushed_piece_by_piece(owner, tmp_path):
    from curate.io.parts import write_parts

    frame = _frame(7).with_columns(toxicity=pl.Series([0.1 * i for i in range(7)]))
    data = write_parts(frame, tmp_path / "data.parquet", rows=3)
    assert len(data.files) == 3
    done = []
    summary = push_records(owner, data, dataset="parts-test", batch_size=2,
                           on_batch=lambda n, total: done.append((n, total)))
    # batches of 2 within each part of 3 rows: 2 + 1, 2 + 1, 1
    assert done == [(2, 7), (3, 7), (5, 7), (6, 7), (7, 7)]
    assert (summary["records"], summary["batches"], summary["task"]) == (7, 5, "sft-review")
    assert "toxicity" in summary["metadata"]
    assert _external_ids(owner, "parts-test") == Counter({f"r{i}": 1 for i in range(7)})
    with pytest.raises(CurateError, match="repeat an id"):
        push_records(owner, write_parts(pl.concat([frame, frame.head(1)]),
                                        tmp_path / "dup.parquet", rows=3),
                     dataset="parts-test")
