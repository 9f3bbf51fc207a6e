import json

import jsonschema

from curate.schemas import SCHEMA_DIR, render, schemas


def test_schema_files_match_the_models():
    for name, schema in schemas().items():
        path = SCHEMA_DIR / f"{name}.json"
        assert path.read_text(encoding="utf-8") == render(schema), (
            f"{path} is out of date: run `python -m curate.schemas`")


def test_sft_schema_accepts_a_record_and_rejects_a_bad_role():
    schema = json.loads((SCHEMA_DIR / "sft_record.json").read_text())
    good = {"id": "a", "source": "s", "meta": {},
            "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    jsonschema.validate(good, schema)
    bad = {**good, "messages": [{"role": "human", "content": "Hi"}]}
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError as exc:
        assert "human" in exc.message
    else:
        raise AssertionError("a role outside the contract validated")


def test_recipe_schema_forbids_unknown_top_level_keys():
    schema = json.loads((SCHEMA_DIR / "recipe.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name"]
    # exactly one of input (one source) and inputs (named sources)
    assert schema["oneOf"] == [{"required": ["input"]}, {"required": ["inputs"]}]
    base = {"name": "x", "stages": []}
    jsonschema.validate({**base, "input": {"path": "a.jsonl"}}, schema)
    jsonschema.validate({**base, "inputs": [{"name": "ours", "path": "a.jsonl",
                                             "license": "mit"}]}, schema)
    for bad in ({**base}, {**base, "input": {"path": "a"}, "inputs": [{"name": "b", "path": "b"}]},
                {**base, "inputs": [{"name": "b", "path": "b", "licence": "mit"}]}):
        try:
            jsonschema.validate(bad, schema)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"{bad} validated")


def test_sft_schema_accepts_tool_calls_and_checks_their_shape():
    schema = json.loads((SCHEMA_DIR / "sft_record.json").read_text())
    call = {"id": "c1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    good = {"id": "a", "source": "s", "meta": {}, "messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "18C", "tool_call_id": "c1"},
        {"role": "assistant", "content": "Warm."}]}
    jsonschema.validate(good, schema)
    bad = json.loads(json.dumps(good))
    bad["messages"][1]["tool_calls"][0]["function"]["arguments"] = {"city": "Paris"}
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError as exc:
        assert "is not of type 'string'" in exc.message
    else:
        raise AssertionError("arguments that are not JSON text validated")
