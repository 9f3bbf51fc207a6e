"""Export picks the task from the records' kind and names the flag for rows of the other kind."""

import pytest

from curate.errors import CurateError
from curate.export import export


def _pairs(b, n=6):
    return [b.pref(f"Question {i}?", f"Good answer {i}.", f"Bad answer {i}.") for i in range(n)]


def _sfts(b, n=6):
    return [b.sft(f"Question {i}?", f"Answer {i}.") for i in range(n)]


@pytest.mark.parametrize("target", ["axolotl", "llama-factory", "openai"])
def test_pairs_only_pick_dpo_and_say_so(b, tmp_path, target):
    res = export(b.frame(_pairs(b)), tmp_path / "o", target=target, test_size=1)
    assert res.counts == {"train": 5, "test": 1} and res.skipped == {}
    assert res.notes == ["task dpo: every row is a preference pair (--task sft to choose "
                         "otherwise)"]


def test_sft_only_and_a_given_task_say_nothing(b, tmp_path):
    assert export(b.frame(_sfts(b)), tmp_path / "a", target="axolotl", test_size=1).notes == []
    res = export(b.frame(_pairs(b) + _sfts(b, 2)), tmp_path / "b", target="axolotl",
                 test_size=1, task="dpo")
    assert res.notes == [] and res.skipped == {"wrong_kind": 2}
    assert res.hints == {"wrong_kind": "SFT records: --task sft exports them"}


def test_mixed_kinds_keep_the_default_and_name_the_flag(b, tmp_path):
    res = export(b.frame(_sfts(b) + _pairs(b, 2)), tmp_path / "o", target="llama-factory",
                 test_size=1)
    assert res.notes == [] and res.skipped == {"wrong_kind": 2}
    assert res.hints == {"wrong_kind": "preference pairs: --task dpo exports them"}


@pytest.mark.parametrize("target, records, hint", [
    ("trl-sft", _pairs, "preference pairs: --target trl-dpo (or --sft-from-pairs: prompt + "
                        "chosen) exports them"),
    ("trl-dpo", _sfts, "SFT records: --target trl-sft exports them"),
    ("trl-reward", _sfts, "SFT records: --target trl-sft exports them"),
])
def test_nothing_to_export_names_the_target(b, tmp_path, target, records, hint):
    with pytest.raises(CurateError) as exc:
        export(b.frame(records(b)), tmp_path / "o", target=target)
    assert str(exc.value) == (f"nothing to export to {target}: none of the 6 rows qualifies "
                              f"(wrong_kind: 6); the wrong_kind rows are {hint}")
