"""Who made a pair, as the dataset card names it (meta.pair written by judge.pairs, by a pull
from Argilla, or by hand in an input file)."""

from curate.judge.sources import NOT_RECORDED, source_label


def test_source_labels():
    judge = {"source": "judge", "template_version": "judge-v2",
             "judges": [{"name": "local", "model": "smollm2"}, {"name": "q", "model": "qwen"}]}
    assert source_label(judge) == "judge qwen, smollm2 (template judge-v2)"
    # an input file's own meta.pair may name its judges as plain strings
    assert source_label({**judge, "judges": ["gpt-4"]}) == "judge gpt-4 (template judge-v2)"
    assert source_label({"source": "annotators", "annotators": ["ann1"]}) == "annotators"
    assert source_label(None) == NOT_RECORDED and source_label({"x": 1}) == NOT_RECORDED
