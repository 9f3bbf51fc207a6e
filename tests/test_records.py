import itertools

import pytest

from curate.errors import RowError
from curate.records import MODELS, _surely_valid, assign_ids, record_id, validate_record

U = {"role": "user", "content": "q"}
A = {"role": "assistant", "content": "a"}
S = {"role": "system", "content": "s"}
BAD_TURNS = [{"role": "human", "content": "q"}, {"role": "user", "content": 3},
             {"role": "user"}, {"role": "user", "content": "q", "x": 1}, "user: q"]
CALL = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
CALLS = {"role": "assistant", "content": "", "tool_calls": [CALL]}
RESULT = {"role": "tool", "content": "r", "tool_call_id": "c"}
# turns as a frame's rows hold them (tool fields null), tool use, and tool fields misplaced
ROW_TURNS = [{**U, "tool_calls": None, "tool_call_id": None}, CALLS, RESULT,
             {**U, "tool_calls": [CALL]}, {**A, "tool_call_id": "c"}, {**A, "tool_calls": []},
             {**A, "tool_calls": "f()"}, {**A, "tool_calls": [{"function": {"arguments": "{}"}}]},
             {**A, "tool_calls": None, "tool_call_id": None, "name": None}]


def _records():
    """Valid records and many near misses."""
    sft = [{"kind": "sft", "id": "i", "source": "s", "meta": {}, "messages": m}
           for m in ([U, A], [S, U, A], [U, A, U, A], [U], [U, U], [A, U], [], None, "x")]
    sft += [{"kind": "sft", "id": "i", "source": "s", "meta": {}, "messages": [bad, A]}
            for bad in BAD_TURNS]
    sft += [{"kind": "sft", "id": "i", "source": "s", "meta": {}, "messages": [U, turn, A]}
            for turn in ROW_TURNS]
    sft += [{"kind": "sft", "id": i, "source": src, "meta": meta, "messages": [U, A]}
            for i, src, meta in (("", "s", {}), (None, "s", {}), ("i", None, {}), ("i", "s", []),
                                 ("i", 3, {}))]
    pref = []
    for prompt, chosen, rejected, score in itertools.product(
            ([U], [S, U], [U, A], [], [BAD_TURNS[0]]), ([A], [U], []), ([A], [A, A], [S]),
            (None, 0.5, 1, "high", True)):
        pref.append({"kind": "preference", "id": "p", "source": "s", "meta": {}, "prompt": prompt,
                     "chosen": chosen, "rejected": rejected, "chosen_score": score})
    return sft + pref


@pytest.mark.parametrize("record", _records())
def test_fast_check_is_never_looser_than_the_models(record):
    model = MODELS[record["kind"]]
    fields = {k: v for k, v in record.items() if k in model.model_fields}
    try:
        model.model_validate(fields)
        accepted = True
    except Exception:
        accepted = False
    if _surely_valid(record):
        assert accepted
    if accepted:
        assert validate_record(record) is record
    else:
        with pytest.raises(RowError):
            validate_record(record)


def test_ids_are_stable_and_repeats_differ():
    def recs():
        return [{"kind": "sft", "source": "a.jsonl", "messages": [U, A]} for _ in range(3)] + [
            {"kind": "sft", "source": "b.jsonl", "messages": [U, A]}]

    ids = [r["id"] for r in assign_ids(recs())]
    assert ids == [r["id"] for r in assign_ids(recs())]
    assert len(set(ids)) == 4 and all(len(i) == 16 for i in ids)
    kept = assign_ids([{"kind": "sft", "source": "a", "id": "mine", "messages": [U, A]}])
    assert kept[0]["id"] == "mine"


def test_ids_of_records_without_tool_use_are_as_before():
    """The id hash takes a turn's tool fields only when set: records without tool use keep
    the ids they had (sha1 of source and role/content turns), null tool fields included."""
    import hashlib

    old = hashlib.sha1("a.jsonl\x1cuser\x1fq\x1eassistant\x1fa".encode()).hexdigest()[:16]
    plain = {"kind": "sft", "source": "a.jsonl", "messages": [U, A]}
    as_row = {"kind": "sft", "source": "a.jsonl", "messages": [
        {**t, "tool_calls": None, "tool_call_id": None} for t in (U, A)]}
    with_call = {"kind": "sft", "source": "a.jsonl", "messages": [U, CALLS, RESULT, A]}
    other_call = {"kind": "sft", "source": "a.jsonl", "messages": [
        U, {**CALLS, "tool_calls": [{**CALL, "function": {"name": "g", "arguments": "{}"}}]},
        RESULT, A]}
    ids = [r["id"] for r in assign_ids([plain, as_row, with_call, other_call])]
    assert ids[0] == old
    assert ids[1] == record_id("a.jsonl", as_row, 1)  # the same content again: its repeat id
    assert len(set(ids)) == 4
