import pytest

from curate.convert import convert, hh_rlhf
from curate.errors import RowError
from curate.io import write_jsonl
from curate.records import frame_to_records

PROMPT = "\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: And 3+3?"


def test_hh_rlhf_file(tmp_path):
    p = tmp_path / "hh.jsonl"
    write_jsonl([{"chosen": PROMPT + "\n\nAssistant: 6.", "rejected": PROMPT + "\n\nAssistant: 7."},
                 {"chosen": "Human: hi\r\n\r\nAssistant: hello", "rejected": "Human: hi\n\nAssistant: go away"}], p)
    res = convert(p)
    assert res.formats == {str(p): "hh-rlhf"}
    first, second = frame_to_records(res.frame)
    assert first["kind"] == "preference"
    assert first["prompt"] == [{"role": "user", "content": "What is 2+2?"},
                               {"role": "assistant", "content": "4."},
                               {"role": "user", "content": "And 3+3?"}]
    assert first["chosen"] == [{"role": "assistant", "content": "6."}]
    assert first["rejected"] == [{"role": "assistant", "content": "7."}]
    assert second["prompt"] == [{"role": "user", "content": "hi"}]
    assert second["meta"] == {"file": "hh.jsonl", "line": 2, "format": "hh-rlhf"}


def test_message_lists_with_implicit_prompt():
    q = [{"role": "user", "content": "q"}]
    rec = hh_rlhf.to_records({"chosen": q + [{"role": "assistant", "content": "good"}],
                              "rejected": q + [{"role": "assistant", "content": "bad"}]})[0]
    assert rec["prompt"] == q and rec["chosen"][0]["content"] == "good"


@pytest.mark.parametrize("chosen,rejected,reason,field", [
    (PROMPT + "\n\nAssistant: 6.", PROMPT + "\n\nAssistant: 6.", "identical_pair", "chosen"),
    (PROMPT + "\n\nAssistant: 6.", "\n\nHuman: other\n\nAssistant: 7.", "prompt_mismatch", "rejected"),
    (PROMPT + "\n\nAssistant:", PROMPT + "\n\nAssistant: 7.", "empty_turn", "chosen"),
    (PROMPT, PROMPT + "\n\nAssistant: 7.", "no_assistant_turn", "chosen"),
    ("just text", PROMPT + "\n\nAssistant: 7.", "invalid_transcript", "chosen"),
    (PROMPT + "\n\nAssistant: 6.", 3, "wrong_type", "rejected"),
    (PROMPT + "\n\nAssistant: 6.", None, "missing_field", "rejected"),
])
def test_bad_pairs(chosen, rejected, reason, field):
    with pytest.raises(RowError) as exc:
        hh_rlhf.to_records({"chosen": chosen, "rejected": rejected})
    assert (exc.value.reason, exc.value.field) == (reason, field)
