from __future__ import annotations

import pytest

from curate.errors import CurateError
from curate.llm.templates import load_template


def test_packaged_templates_load_with_their_versions():
    for task, version in (("questions", "questions-v1"), ("responses", "responses-v1"),
                          ("evolve", "evolve-v1")):
        assert load_template(task).version == version
    step = load_template("questions")["answer"]
    messages = step.messages(passage="P.", question="Q?")
    assert messages[-1]["content"].startswith("P.") and "Question: Q?" in messages[-1]["content"]


def test_a_users_template_and_its_errors(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("deepen: {user: 'Harder: {prompt}'}\nbroaden: {user: 'Other: {prompt}'}\n")
    t = load_template("evolve", path)
    assert t.version.startswith("t-") and t["deepen"].messages(prompt="x")[0]["content"] == \
        "Harder: x"
    path.write_text("deepen: {user: 'Harder: {passage}'}\nbroaden: {user: '{prompt}'}\n")
    with pytest.raises(CurateError, match=r"deepen.user uses \['passage'\]"):
        load_template("evolve", path)
    path.write_text("version: 1\n")
    with pytest.raises(CurateError, match="deepen: missing"):
        load_template("evolve", path)
