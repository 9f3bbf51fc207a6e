from __future__ import annotations

import base64
import gzip
import json
import random

import polars as pl
import pytest

from curate.convert import convert
from curate.stages.base import DROP_REASON, StageContext
from curate.stages.quality import RULES, SCORE_COLUMNS, QualityRules, quality_rules
from curate.stages.registry import stage_class

GOOD_Q = "What is the capital of France, and why is it important?"
GOOD_A = ("The capital of France is Paris. It is the country's political, economic and cultural "
          "centre, home to the government and many of Europe's best known museums.")
CODE_A = """Here is a function that merges two sorted lists:

```python
def merge(a: list[int], b: list[int]) -> list[int]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out.append(a[i]); i += 1
        else:
            out.append(b[j]); j += 1
    return out + a[i:] + b[j:]   # O(n + m), e.g. {"a": [1, 3], "b": [2]} -> [1, 2, 3]
```

| input | output |
|-------------------|-------------------|
| [1, 3], [2] | [1, 2, 3] |
"""
LONG_UNIQUE = " ".join(f"token{i}" for i in range(2500))   # > 20000 characters, no repeats
BLOB = base64.b64encode(random.Random(0).randbytes(1500)).decode()
LOOP = "I like cats and dogs. " * 15


def _stage(**options) -> QualityRules:
    return QualityRules(options)


def _run(df, **options):
    return _stage(**options).apply(df, StageContext(name="quality.rules"))


def _reasons(result) -> dict[str, str]:
    return dict(zip(result.rejected["id"], result.rejected[DROP_REASON]))


def _planted(rec):
    """Good rows and one row per rule, each failing only that rule."""
    return rec.frame(
        rec.qa(GOOD_Q, GOOD_A, id="good"),
        rec.qa("Write a merge function in Python.", CODE_A, id="code"),
        rec.pair(GOOD_Q, GOOD_A, "Paris.", id="good_pair"),
        rec.sft(("system", "  \n"), ("user", GOOD_Q), ("assistant", GOOD_A), id="empty"),
        rec.sft(("assistant", "Hello!"), ("user", GOOD_Q), ("assistant", GOOD_A), id="order"),
        rec.qa(GOOD_Q, " k ", id="short"),
        rec.qa("Count upwards.", LONG_UNIQUE, id="long"),
        rec.qa("Show me the file.", "Here it is: " + BLOB, id="junk"),
        rec.qa("Tell me about pets.", LOOP, id="loop"),
        rec.qa("Tell me a joke.", "As an AI language model, I do not tell jokes.", id="refuse"),
    )


PLANTED = {"empty": "empty_turn", "order": "role_order", "short": "too_short",
           "long": "too_long", "junk": "junk", "loop": "repetition", "refuse": "refusal"}


def test_registered():
    assert stage_class("quality.rules") is QualityRules


def test_each_rule_drops_exactly_its_planted_row(rec):
    df = _planted(rec)
    result = _run(df)
    assert result.kept["id"].to_list() == ["good", "code", "good_pair"]
    assert _reasons(result) == PLANTED
    assert result.rejected["id"].to_list() == list(PLANTED)          # input order
    assert result.stats["failures"] == {rule: 1 for rule in RULES}
    assert list(result.stats["failures"]) == list(RULES)
    assert result.dropped() == {reason: 1 for reason in PLANTED.values()}
    assert result.kept.height + result.rejected.height == df.height


def test_scores_on_kept_and_rejected_rows(rec):
    df = _planted(rec)
    result = _run(df)
    for frame in (result.kept, result.rejected):
        for col in SCORE_COLUMNS:
            assert col in frame.columns
            assert frame[col].null_count() == 0, col
    assert result.kept.columns == df.columns + list(SCORE_COLUMNS)
    schema = result.kept.schema
    assert schema["quality_role_order_ok"] == pl.Boolean
    assert schema["quality_refusal"] == pl.Boolean
    assert schema["quality_text_ratio"] == pl.Float64
    assert schema["quality_repetition"] == pl.Float64
    assert schema["quality_min_turn_chars"].is_integer()
    # input columns unchanged
    for part in (result.kept, result.rejected):
        ids = part["id"].to_list()
        assert part.select(df.columns).equals(df.filter(pl.col("id").is_in(ids)))

    rows = {r["id"]: r for r in pl.concat([result.kept, result.rejected.drop(DROP_REASON)])
            .iter_rows(named=True)}
    assert rows["good"]["quality_min_turn_chars"] == len(GOOD_Q)
    assert rows["good"]["quality_max_turn_chars"] == len(GOOD_A)
    assert rows["good"]["quality_response_chars"] == len(GOOD_A)
    assert rows["good"]["quality_role_order_ok"] is True
    assert rows["good"]["quality_text_ratio"] == 1.0
    assert rows["good"]["quality_repetition"] == 0.0
    assert rows["good"]["quality_refusal"] is False
    assert rows["code"]["quality_text_ratio"] == 1.0
    assert rows["empty"]["quality_min_turn_chars"] == 0
    assert rows["order"]["quality_role_order_ok"] is False
    assert rows["short"]["quality_response_chars"] == 1
    assert rows["long"]["quality_max_turn_chars"] == len(LONG_UNIQUE) > 20_000
    assert rows["junk"]["quality_text_ratio"] < 0.1
    assert rows["loop"]["quality_repetition"] > 0.8
    assert rows["refuse"]["quality_refusal"] is True
    assert rows["good_pair"]["quality_min_turn_chars"] == len("Paris.")


@pytest.mark.parametrize("option, value, row", [
    ("drop_empty_turns", False, "empty"),
    ("check_role_order", False, "order"),
    ("min_response_chars", None, "short"),
    ("max_turn_chars", None, "long"),
    ("min_text_ratio", None, "junk"),
    ("max_repetition", None, "loop"),
    ("drop_refusals", False, "refuse"),
])
def test_disabling_a_rule_keeps_its_row(rec, option, value, row):
    df = _planted(rec)
    result = _run(df, **{option: value})
    assert row in result.kept["id"].to_list()
    assert _reasons(result) == {k: v for k, v in PLANTED.items() if k != row}
    assert PLANTED[row] not in result.stats["failures"]
    assert result.stats["thresholds"][option] == value
    # the score is still computed
    for col in SCORE_COLUMNS:
        assert result.kept[col].null_count() == 0


def test_all_rules_disabled(rec):
    df = _planted(rec)
    result = _run(df, drop_empty_turns=False, check_role_order=False, min_response_chars=None,
                  max_turn_chars=None, min_text_ratio=None, max_repetition=None,
                  drop_refusals=False)
    assert result.kept.height == df.height
    assert result.rejected.height == 0
    assert result.stats["failures"] == {}


def test_thresholds_move_the_cut(rec):
    df = _planted(rec)
    result = _run(df, min_response_chars=200, max_turn_chars=100_000)
    reasons = _reasons(result)
    assert "long" not in reasons
    assert reasons["good"] == "too_short"          # 156 characters < 200
    assert reasons["short"] == "too_short"


def test_row_failing_two_rules_counted_twice_rejected_once(rec):
    df = rec.frame(
        rec.qa(GOOD_Q, GOOD_A, id="good"),
        # wrong role order *and* a refusal *and* junk
        rec.sft(("assistant", "x"), ("user", "Do it."),
                ("assistant", "I'm unable to do that. " + BLOB), id="bad"),
    )
    result = _run(df)
    assert result.rejected["id"].to_list() == ["bad"]
    assert result.rejected[DROP_REASON].to_list() == ["role_order"]
    failures = result.stats["failures"]
    assert failures["role_order"] == 1 and failures["refusal"] == 1 and failures["junk"] == 1
    assert sum(failures.values()) == 3
    assert result.dropped() == {"role_order": 1}
    # with role order off the next rule in order decides
    assert _run(df, check_role_order=False).rejected[DROP_REASON].to_list() == ["junk"]


def test_preference_rows(rec):
    df = rec.frame(
        rec.pair(GOOD_Q, GOOD_A, "Paris.", id="ok"),
        rec.pair(GOOD_Q, GOOD_A, "I'm sorry, but I cannot answer.", id="rejected_refuses"),
        rec.pair(GOOD_Q, "As an AI language model, I cannot answer.", GOOD_A, id="chosen_refuses"),
        rec.pair(GOOD_Q, GOOD_A, LOOP, id="rejected_loops"),
        rec.pair(GOOD_Q, GOOD_A, "   ", id="rejected_empty"),
        rec.pair([("system", "Be kind."), ("user", "Hi"), ("assistant", "Hello"),
                  ("user", GOOD_Q)], GOOD_A, "Paris.", id="multi_turn_ok"),
        rec.pair([("user", GOOD_Q), ("assistant", "Hm?")], GOOD_A, "Paris.", id="prompt_ends_a"),
        rec.pair(GOOD_Q, [("user", GOOD_A)], "Paris.", id="chosen_user"),
        rec.pair(GOOD_Q, GOOD_A, [("assistant", "Let me look."), ("user", "Paris.")],
                 id="rejected_has_user"),
        rec.pair(GOOD_Q, [("assistant", "Looking it up."), ("tool", '{"capital": "Paris"}'),
                          ("assistant", GOOD_A)], "Paris.", id="tool_reply_ok"),
        rec.pair(GOOD_Q, "k", "Paris.", id="chosen_short"),
        rec.qa(GOOD_Q, GOOD_A, id="sft_ok"),
    )
    result = _run(df)
    assert result.kept["id"].to_list() == [
        "ok", "rejected_refuses", "multi_turn_ok", "tool_reply_ok", "sft_ok"]
    assert _reasons(result) == {
        "chosen_refuses": "refusal",
        "rejected_loops": "repetition",
        "rejected_empty": "empty_turn",
        "prompt_ends_a": "role_order",
        "chosen_user": "role_order",
        "rejected_has_user": "role_order",
        "chosen_short": "too_short",
    }
    rows = {r["id"]: r for r in result.rejected.iter_rows(named=True)}
    assert rows["rejected_loops"]["quality_repetition"] > 0.8     # max of chosen and rejected
    kept = {r["id"]: r for r in result.kept.iter_rows(named=True)}
    assert kept["rejected_refuses"]["quality_refusal"] is False   # only the chosen reply counts


@pytest.mark.parametrize("roles, ok", [
    ("ua", True), ("sua", True), ("uaua", True), ("suaua", True), ("uata", True),
    ("uattaua", True), ("uatata", True),
    ("a", False), ("u", False), ("", False), ("uua", False), ("ssua", False), ("uas", False),
    ("usa", False), ("uaa", False), ("uta", False), ("uat", False), ("uatua", False),
    ("tua", False), ("uaxa", False), ("au", False),
])
def test_sft_role_order(rec, roles, ok):
    names = {"s": "system", "u": "user", "a": "assistant", "t": "tool", "x": "bot"}
    record = rec.sft(*[(names[c], f"turn {i}") for i, c in enumerate(roles)], id="r")
    scored = _stage().score(rec.frame(record), StageContext())
    assert scored["quality_role_order_ok"].to_list() == [ok]


@pytest.mark.parametrize("text, n, expected", [
    ("a b c a b c", 3, 0.25),          # abc bca cab abc: 3 unique of 4
    ("A b C a B c", 3, 0.25),          # case-insensitive
    ("one two", 3, 0.0),               # fewer than n words
    ("", 3, 0.0),
    ("a a b b", 1, 0.5),
    ("x y x y x y", 2, 0.6),           # xy yx xy yx xy: 2 unique of 5
    ("the cat sat on the mat", 3, 0.0),
])
def test_repetition_score(rec, text, n, expected):
    df = rec.frame(rec.qa("q", text, id="r"))
    scored = _stage(repetition_ngram=n).score(df, StageContext())
    assert scored["quality_repetition"][0] == pytest.approx(expected)


def test_repetition_is_computed_per_row_not_across_rows(rec):
    df = rec.frame(
        rec.qa("q", "a b c d", id="1"),
        rec.qa("q", "a b c d", id="2"),
        rec.qa("q", "x y z x y z", id="3"),
        rec.qa("q", "", id="4"),
        rec.qa("q", "one", id="5"),
        rec.pair("q", "x y z x y z", "fine reply here", id="6"),
        rec.pair("q", "fine reply here", "x y z x y z", id="7"),
        rec.pair("q", "c d", "   ", id="8"),
        rec.qa("q", "a b c d", id="9"),
    )
    scored = _stage().score(df, StageContext())
    assert scored["quality_repetition"].to_list() == pytest.approx(
        [0.0, 0.0, 0.25, 0.0, 0.0, 0.25, 0.25, 0.0, 0.0])


def test_batches_give_the_same_result(rec):
    class SmallBatches(QualityRules):
        batch_size = 3

    df = _planted(rec)
    whole = _run(df)
    batched = SmallBatches().apply(df, StageContext(name="quality.rules"))
    assert batched.kept.equals(whole.kept)
    assert batched.rejected.equals(whole.rejected)
    assert batched.stats == whole.stats


TEXT_CASES = {
    # kept
    "prose": (GOOD_A, True),
    "code": (CODE_A, True),
    "rst": ("Design FAQ\n==========\n\n.. contents::\n\nWhy?\n----\n\nBecause ``x = 1``.", True),
    "tree": ("project/\n├── src/\n│   ├── main.py\n│   └── util.py\n└── README.md", True),
    "emoji": ("Cute cat: 🐱😻🐾🎾🐾😸💕🐾🧸", True),
    "cyrillic": ("Привет, как дела? Я думаю, что всё хорошо.", True),
    "chinese": ("你好，世界！这是一个测试。", True),
    "accents": ("Café, crème brûlée, naïve façade — « déjà vu »… Grüße aus Köln!", True),
    "regex": (r"Use `^\d{1,3}(\.\d{1,3}){3}$` or `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+`.", True),
    "form": ("Name: ______________________________\nDate: ____________", True),
    "short_hash": ("sha256: " + "ab12" * 16, True),
    # dropped
    "base64": ("Here it is: " + BLOB, False),
    "mojibake": ("Привет, как дела? Я думаю, что всё хорошо.".encode().decode("cp1252",
                                                                          errors="replace"), False),
    "symbols": ("Answer: " + "@#$%^&*!?<>()[]{}" * 10, False),
    "bangs": ("!" * 200, False),
    "controls": ("ok " + "\x00\x01\x02\x07\x08" * 40, False),
    "replacement": ("text " + "\ufffd" * 60, False),
    "private_use": ("x" + "\ue000\ue001" * 40, False),
}


def test_text_ratio_keeps_text_and_code_drops_junk(rec):
    df = rec.frame(*[rec.qa("Answer please.", text, id=name)
                     for name, (text, _) in TEXT_CASES.items()])
    result = _run(df, min_response_chars=None, max_repetition=None)
    kept = {name for name, (_, keep) in TEXT_CASES.items() if keep}
    assert set(result.kept["id"]) == kept
    assert set(_reasons(result).values()) == {"junk"}
    ratios = dict(zip(result.kept["id"], result.kept["quality_text_ratio"]))
    assert all(r == 1.0 for r in ratios.values()), ratios


def test_refusal_patterns(rec):
    cases = {
        "plain": ("As an AI language model, I cannot do that.", True),
        "upper": ("I'M SORRY, BUT I CANNOT HELP.", True),
        "curly": ("I’m unable to browse the web.", True),
        "spaces": ("I  cannot\nfulfill this request.", True),
        "middle": ("Sure. Note: as a large language model I may be wrong.", True),
        "other_person": ("If you're unable to attend, tell us.", False),
        "inside_word": ("The victim unable to flee.", False),
        "fine": (GOOD_A, False),
    }
    df = rec.frame(*[rec.qa("Q?", text, id=name) for name, (text, _) in cases.items()])
    # a refusal phrase in the prompt does not count
    df = pl.concat([df, rec.frame(rec.qa("Answer as an AI language model would.", GOOD_A,
                                         id="prompt"))])
    scored = _stage().score(df, StageContext())
    got = dict(zip(scored["id"], scored["quality_refusal"]))
    assert got == {**{k: v for k, (_, v) in cases.items()}, "prompt": False}


def test_null_content_and_empty_frame(rec):
    df = rec.frame(rec.qa(GOOD_Q, GOOD_A, id="a"))
    df = pl.concat([df, df.with_columns(
        id=pl.lit("b"),
        messages=pl.lit([{"role": "user", "content": None},
                         {"role": "assistant", "content": GOOD_A}],
                        dtype=df.schema["messages"]))])
    result = _run(df)
    assert _reasons(result) == {"b": "empty_turn"}
    empty = _run(rec.frame())
    assert empty.kept.height == 0 and empty.rejected.height == 0
    assert set(SCORE_COLUMNS) <= set(empty.kept.columns)


def test_library_function_and_option_validation(rec):
    df = _planted(rec)
    assert _reasons(quality_rules(df, max_repetition=None)) == {
        k: v for k, v in PLANTED.items() if k != "loop"}
    with pytest.raises(Exception):
        QualityRules({"max_repetitions": 0.3})
    with pytest.raises(Exception):
        QualityRules({"min_text_ratio": 1.5})


def _alpaca_eval(shared_data):
    sft, pairs = [], []
    for path in sorted((shared_data / "alpaca_eval").glob("*.model_outputs.json.gz")):
        for r in json.loads(gzip.decompress(path.read_bytes())):
            sft.append({"kind": "sft", "source": r["generator"], "messages": [
                {"role": "user", "content": r["instruction"]},
                {"role": "assistant", "content": r["output"]}]})
    ann = shared_data / "alpaca_eval" / "Mixtral-8x7B-Instruct-v0.1.annotations.json.gz"
    for r in json.loads(gzip.decompress(ann.read_bytes())):
        first = r["preference"] == 1.0
        pairs.append({"kind": "preference", "source": "annotations",
                      "prompt": [{"role": "user", "content": r["instruction"]}],
                      "chosen": [{"role": "assistant",
                                  "content": r["output_1"] if first else r["output_2"]}],
                      "rejected": [{"role": "assistant",
                                    "content": r["output_2"] if first else r["output_1"]}]})
    return sft, pairs


def test_defaults_on_real_alpaca_eval_outputs(rec, shared_data):
    """The defaults keep almost all real model outputs (the shares are in the README notes)."""
    sft, pairs = _alpaca_eval(shared_data)
    result = _run(rec.frame(*sft))
    n = len(sft)
    failures = result.stats["failures"]
    assert n == 2415
    assert failures["junk"] <= 2                   # 1 today: a degenerate "BZBZBZ..." program
    assert failures["repetition"] <= 0.005 * n     # 7 today (0.29%): degenerate loops
    assert failures["role_order"] == 0 and failures["too_long"] == 0
    assert result.rejected.height <= 0.02 * n      # 37 today (1.5%), most are AI disclaimers
    loops = result.rejected.filter(pl.col(DROP_REASON) == "repetition")
    texts = loops["messages"].list.last().struct.field("content").to_list()
    assert any(t.startswith("The cost of fuel for a 14 mile journey") for t in texts)

    result = _run(rec.frame(*pairs))
    assert result.stats["failures"]["junk"] == 0
    assert result.stats["failures"]["repetition"] == 0
    assert result.rejected.height <= 0.02 * len(pairs)


def test_defaults_keep_real_faq_answers(faq_corpus):
    """Real human-written answers (the Python FAQ: prose, lists, code) pass every default rule."""
    df = convert(faq_corpus.path, format="docs").frame
    result = _run(df)
    assert df.height == {"sample": 39, "shared": 177}[faq_corpus.name]
    assert result.stats["failures"] == dict.fromkeys(RULES, 0)
    assert (result.kept.height, result.rejected.height) == (df.height, 0)


def test_a_turn_that_only_calls_a_tool_is_not_empty(rec):
    """An assistant turn whose content is empty but which calls a tool says something (its
    call); a turn with neither is empty."""
    call = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
    tools = {"kind": "sft", "id": "tools", "source": "t", "messages": [
        {"role": "user", "content": GOOD_Q}, call,
        {"role": "tool", "content": "18C", "tool_call_id": "c1"},
        {"role": "assistant", "content": GOOD_A}]}
    blank = {**tools, "id": "blank", "messages": [
        {"role": "user", "content": GOOD_Q}, {"role": "assistant", "content": "  "},
        {"role": "tool", "content": "18C"}, {"role": "assistant", "content": GOOD_A}]}
    result = _run(rec.frame(tools, blank))
    assert result.kept["id"].to_list() == ["tools"]
    assert _reasons(result) == {"blank": "empty_turn"}
    # the call's text: get_weather({"city": "Paris"}) is the shortest turn after "18C"
    assert result.kept["quality_min_turn_chars"].to_list() == [3]
