from __future__ import annotations

import pytest

from curate.errors import CurateError
from curate.llm.templates import load_template
from curate.stages.generate_evolve import GenerateEvolve
from curate.stages.generate_questions import GenerateQuestions
from curate.stages.generate_responses import GenerateResponses
from curate.stages.judge_llm import JudgeLLM

EVOLVE = GenerateEvolve.template_steps


def test_packaged_templates_load_with_their_versions():
    for cls, version in ((GenerateQuestions, "questions-v1"),
                         (GenerateResponses, "responses-v1"), (GenerateEvolve, "evolve-v1"),
                         (JudgeLLM, "judge-v2")):
        assert cls().template().version == version
    step = load_template("questions", GenerateQuestions.template_steps)["answer"]
    messages = step.messages(passage="P.", question="Q?")
    assert messages[-1]["content"].startswith("P.") and "Question: Q?" in messages[-1]["content"]


def test_a_users_template_and_its_errors(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("deepen: {user: 'Harder: {prompt}'}\nbroaden: {user: 'Other: {prompt}'}\n")
    t = load_template("evolve", EVOLVE, path)
    assert t.version.startswith("t-") and t["deepen"].messages(prompt="x")[0]["content"] == \
        "Harder: x"
    path.write_text("deepen: {user: 'Harder: {passage}'}\nbroaden: {user: '{prompt}'}\n")
    with pytest.raises(CurateError, match=r"deepen.user uses \['passage'\]"):
        load_template("evolve", EVOLVE, path)
    path.write_text("version: 1\n")
    with pytest.raises(CurateError, match="deepen: missing"):
        load_template("evolve", EVOLVE, path)
