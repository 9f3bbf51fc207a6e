from __future__ import annotations

from curate.llm.passages import estimate_tokens, split_passages

DOC = """Title
=====

First paragraph of the introduction, with enough words in it to count as a passage of its own
for the splitter, which leaves out fragments.

Second paragraph of the introduction: it is packed with the first while they fit.

Details
-------

""" + " ".join(f"Sentence number {i} of a long paragraph goes on." for i in range(60)) + "\n"


def test_passages_follow_sections_fit_the_budget_and_keep_offsets():
    passages = split_passages(DOC, max_tokens=80, min_tokens=5)
    assert passages[0].section == ["Title"] and "Second paragraph" in passages[0].text
    assert all(p.section == ["Title", "Details"] for p in passages[1:])
    assert len(passages) > 3  # the long paragraph is cut at sentence ends
    for p in passages:
        assert DOC[p.start:p.end] == p.text
        assert estimate_tokens(p.text) <= 80
    assert all(p.text.rstrip().endswith(".") for p in passages)


def test_short_fragments_are_left_out():
    assert split_passages("Just a title\n\nok.") == []  # under min_tokens (20)
