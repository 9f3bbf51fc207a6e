"""The rows waiting for generation: ``--format prompts`` and ``--format passages``."""

from __future__ import annotations

import json

import pytest

from curate.convert import convert
from curate.errors import InputError
from curate.records import frame_to_records


def test_prompts_from_the_common_shapes(tmp_path):
    path = tmp_path / "p.jsonl"
    rows = [{"prompt": "Name a river."}, {"instruction": "Translate.", "input": "Hallo"},
            {"messages": [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello"}]},
            {"question": "Why?", "topic": "x"}, {"messages": [{"role": "assistant",
                                                                "content": "alone"}]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = convert(path, format="prompts", on_error="skip")
    records = frame_to_records(res.frame)
    assert [r["kind"] for r in records] == ["prompt"] * 4
    assert records[1]["prompt"] == [{"role": "user", "content": "Translate.\n\nHallo"}]
    assert [t["role"] for t in records[2]["prompt"]] == ["system", "user"]  # reply left out
    assert records[3]["meta"]["topic"] == "x"
    assert res.rejected["drop_reason"].to_list() == ["no_user_turn"]
    with pytest.raises(InputError, match="p.jsonl:5: field 'messages'"):
        convert(path, format="prompts")


def test_passages_from_documents_and_text_rows(tmp_path):
    text = ("Bees live in colonies of many thousands of workers, drones and one queen that lays "
            "the eggs of the whole hive through the summer months.")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "bees.md").write_text(f"# Bees\n\n{text}\n")
    res = convert(tmp_path / "d", format="passages")
    [record] = frame_to_records(res.frame)
    assert record["kind"] == "passage" and record["prompt"][0]["content"] == text
    assert record["meta"]["section"] == ["Bees"] and record["meta"]["line"] == 3
    assert f"# Bees\n\n{text}\n"[record["meta"]["start"]:record["meta"]["end"]] == text
    rows = tmp_path / "t.jsonl"
    rows.write_text(json.dumps({"text": text, "url": "u"}) + "\n" + json.dumps({"text": "ok"})
                    + "\n")
    res = convert(rows, format="passages", on_error="skip")
    [record] = frame_to_records(res.frame)
    assert record["meta"]["url"] == "u" and record["source"] == "t.jsonl"
    assert res.rejected["drop_reason"].to_list() == ["no_passage"]
