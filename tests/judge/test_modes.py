"""The judge modes' registry: curate's three modes in their `--mode` order, each with its
template steps in the shared judge.yaml (version judge-v2: the request cache keys of existing
runs still hit), a mode unknown said with the known ones, and no plugin taking a built-in name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from curate.errors import CurateError
from curate.judge.modes import JudgeMode, mode_class, mode_names, modes_help, template_steps
from curate.llm.templates import load_template
from curate.stages.judge_llm import JudgeLLM, JudgeOptions


def test_the_built_in_modes_in_their_flag_order_with_their_help():
    assert mode_names()[:3] == ["pairwise", "pointwise", "checklist"]
    assert modes_help().startswith(
        "pairwise: every candidate pair judged in both orders (a verdict that flips with the "
        "order is a tie, flagged position_inconsistent); pointwise: a 1-scale rubric score per "
        "aspect and candidate; checklist: a yes/no question per aspect and candidate (score: "
        "the share of yes; what small models answer readably)")
    assert [mode_class(m).min_candidates for m in ("pairwise", "pointwise", "checklist")] == \
        [2, 1, 1]


@pytest.mark.parametrize("mode", ["pairwise", "pointwise", "checklist"])
def test_the_built_in_modes_share_judge_yaml_at_its_version(mode):
    cls = mode_class(mode)
    steps = template_steps(cls)
    assert sorted(steps) == ["checklist", "pairwise", "pointwise"]  # a --template needs all
    template = load_template(cls.template_name, steps, directory=cls.template_dir)
    assert template.version == "judge-v2" and template.file.endswith("templates/judge.yaml")
    stage = JudgeLLM({"mode": mode})
    assert stage.template().version == "judge-v2"
    assert stage.judge_meta()["template_version"] == "judge-v2"


def test_an_unknown_mode_is_refused_with_the_known_ones():
    with pytest.raises(ValidationError, match=r"unknown judge mode 'ternary' \(known: pairwise, "
                                              r"pointwise, checklist"):
        JudgeOptions(mode="ternary")
    with pytest.raises(CurateError, match="unknown judge mode 'ternary'"):
        mode_class("ternary")


def test_a_mode_may_not_take_the_name_of_one_of_curate():
    mode_names()  # curate's own, loaded (as before any plugin's)
    with pytest.raises(CurateError, match=r"judge mode 'pairwise' of tests\..*Mine is curate's "
                                          r"own \(curate\.judge\.modes\.pairwise\)"):
        class Mine(JudgeMode):
            name = "pairwise"
    assert mode_class("pairwise").__module__ == "curate.judge.modes.pairwise"
