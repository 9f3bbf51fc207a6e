"""The ``docs`` converter: real Python FAQ files and small documents in each heading style."""

from __future__ import annotations

from collections import Counter

import pytest

from curate.convert.docs import doc_to_records, is_markdown
from curate.convert.docs_headings import clean_title, is_question
from curate.errors import RowError
from curate.io import Document
from curate.records import assign_ids, validate_record

from ..conftest import FAQ_SAMPLE


def convert(name: str, text: str) -> list[tuple[int, dict | RowError]]:
    return doc_to_records(Document(file=name, text=text))


def faq(folder, name: str) -> list[tuple[int, dict | RowError]]:
    path = folder / name
    return doc_to_records(Document(file=str(path), text=path.read_text(encoding="utf-8")))


@pytest.fixture
def whole_faq(shared_data):
    """The whole Python FAQ (../shared/data): programming and library are not vendored."""
    return shared_data / "raw" / "python_faq"


def records(rows) -> list[dict]:
    return [r for _, r in rows if isinstance(r, dict)]


def errors(rows) -> list[tuple[int, str, str]]:
    return [(line, r.reason, r.message) for line, r in rows if isinstance(r, RowError)]


def qa(rows) -> list[tuple[int, str, str]]:
    return [(line, r["messages"][0]["content"], r["messages"][1]["content"])
            for line, r in rows if isinstance(r, dict)]


# --- the real Python FAQ -----------------------------------------------------------------------
# general, gui, index, installed and windows are vendored in tests/data/python_faq (FAQ_SAMPLE);
# the tests on programming.rst.txt and library.rst.txt read the whole FAQ in ../shared/data.
# Counted by hand with grep, independently of the converter: every title in these files is a
# single line with an underline exactly as long (two are one longer); questions are underlined
# with "-" (gui.rst.txt also has one "=" question), categories with "=", the page title has an
# overline. `grep -B1 -E '^-{3,}$' F | grep -c '?$'` gives the titles ending in "?"; the rest were
# read one by one: "How do you remove multiple items from a list" and "How do I delete a file?
# (And other file questions...)" start with a question word; "I try to use __spam ..." and "My
# class defines __del__ ..." are statements.
FAQ_RECORDS = {"design.rst.txt": 28, "extending.rst.txt": 17, "general.rst.txt": 23,
               "gui.rst.txt": 4, "index.rst.txt": 0, "installed.rst.txt": 3,
               "library.rst.txt": 28, "programming.rst.txt": 65, "windows.rst.txt": 9}
FAQ_HEADINGS = {"design.rst.txt": 29, "extending.rst.txt": 18, "general.rst.txt": 26,
                "gui.rst.txt": 7, "index.rst.txt": 1, "installed.rst.txt": 4,
                "library.rst.txt": 36, "programming.rst.txt": 75, "windows.rst.txt": 10}


def test_programming_faq_counts_and_rejected_headings(whole_faq):
    rows = faq(whole_faq, "programming.rst.txt")
    assert len(rows) == 75
    assert len(records(rows)) == 65
    assert [(line, r.reason, r.field) for line, r in rows if isinstance(r, RowError)] == [
        (3, "not_a_question", "heading"), (11, "not_a_question", "heading"),
        (113, "not_a_question", "heading"), (802, "not_a_question", "heading"),
        (1069, "not_a_question", "heading"), (1156, "not_a_question", "heading"),
        (1460, "not_a_question", "heading"), (1735, "not_a_question", "heading"),
        (1750, "not_a_question", "heading"), (2045, "not_a_question", "heading")]
    assert errors(rows)[0][2] == "heading 'Programming FAQ' is not a question"
    assert errors(rows)[7][2] == ("heading 'I try to use __spam and I get an error about "
                                  "_SomeClassName__spam.' is not a question")
    assert [line for line, _ in rows] == sorted(line for line, _ in rows)


def test_general_faq_counts():
    rows = faq(FAQ_SAMPLE, "general.rst.txt")
    assert len(records(rows)) == 23
    assert errors(rows) == [
        (3, "not_a_question", "heading 'General Python FAQ' is not a question"),
        (12, "not_a_question", "heading 'General Information' is not a question"),
        (292, "not_a_question", "heading 'Python in the real world' is not a question")]
    first = records(rows)[0]
    assert first["messages"][0] == {"role": "user", "content": "What is Python?"}
    assert first["meta"] == {"file": "general.rst.txt", "line": 15, "format": "docs",
                             "section": ["General Python FAQ", "General Information"],
                             "heading": "What is Python?"}
    assert first["source"] == "general.rst.txt"
    last = records(rows)[-1]
    assert last["meta"]["section"] == ["General Python FAQ", "Python in the real world"]


def test_every_faq_file(faq_corpus):
    """Every file of the vendored sample, then (../shared/data) of the whole FAQ."""
    got = {name: faq(faq_corpus.path, name) for name in faq_corpus.files}
    assert {name: len(records(rows)) for name, rows in got.items()} == {
        name: FAQ_RECORDS[name] for name in faq_corpus.files}
    assert {name: len(rows) for name, rows in got.items()} == {
        name: FAQ_HEADINGS[name] for name in faq_corpus.files}
    reasons = Counter(r.reason for rows in got.values() for _, r in rows
                      if isinstance(r, RowError))
    assert reasons == {"not_a_question": {"sample": 9, "shared": 29}[faq_corpus.name]}
    # Every record is a valid SFT record once it has an id.
    for rec in assign_ids([r for rows in got.values() for r in records(rows)]):
        validate_record(rec)


def test_known_question_cleaned_with_answer(whole_faq):
    rows = faq(whole_faq, "programming.rst.txt")
    (line, rec), = [(n, r) for n, r in rows
                    if isinstance(r, dict) and "id()" in r["meta"]["heading"]]
    assert line == 1802
    assert rec["messages"][0]["content"] == "Why does the result of `id()` appear to be not unique?"
    assert rec["meta"]["heading"] == "Why does the result of ``id()`` appear to be not unique?"
    assert rec["meta"]["section"] == ["Programming FAQ", "Objects"]
    assert rec["messages"][1]["content"].startswith(
        "The `id` builtin returns an integer that is guaranteed to be unique during\n"
        "the lifetime of the object.  Since in CPython, this is the object's memory\n"
        "address, it happens frequently that after an object is deleted from memory, the\n"
        "next freshly created object is allocated at the same position in memory.  This\n"
        "is illustrated by this example:\n\n"
        ">>> id(1000) # doctest: +SKIP\n13901272\n")


def test_first_programming_answer_roles_links_and_lists(whole_faq):
    line, question, answer = qa(faq(whole_faq, "programming.rst.txt"))[0]
    assert line == 14
    assert question == ("Is there a source code level debugger with breakpoints, "
                        "single-stepping, etc.?")
    assert answer.startswith(
        "Yes.\n\nSeveral debuggers for Python are described below, and the built-in function\n"
        "`breakpoint` allows you to drop into any of them.\n\n"
        "The pdb module is a simple but adequate console-mode debugger for Python. It is\n"
        "part of the standard Python library, and is documented in the Library\n"
        "Reference Manual. You can also write your own debugger by using the code\n"
        "for pdb as an example.\n\n"
        "The IDLE interactive development environment, which is part of the standard\n"
        "Python distribution (normally available as\n"
        "[Tools/scripts/idle3](https://github.com/python/cpython/blob/main/Tools/scripts/idle3)),"
        "\nincludes a graphical debugger.\n\n")
    assert answer.endswith("* [Wing IDE](https://wingware.com/)\n"
                           "* [Komodo IDE](https://www.activestate.com/products/komodo-ide/)\n"
                           "* [PyCharm](https://www.jetbrains.com/pycharm/)")


def test_literal_block_after_double_colon(whole_faq):
    rows = faq(whole_faq, "programming.rst.txt")
    question = "Why did changing list 'y' also change list 'x'?"
    (answer,) = [a for _, q, a in qa(rows) if q == question]
    assert answer.startswith("If you wrote code like:\n\n   >>> x = []\n   >>> y = x\n"
                             "   >>> y.append(10)\n   >>> y\n   [10]\n   >>> x\n   [10]\n\n"
                             "you might be wondering why appending an element to `y` changed "
                             "`x` too.\n")


def test_rst_comment_with_indented_body_is_dropped(whole_faq):
    rows = faq(whole_faq, "library.rst.txt")
    (answer,) = [a for _, q, a in qa(rows) if q == "How do I get a single keypress at a time?"]
    assert answer == ("For Unix variants there are several solutions.  It's straightforward to "
                      "do this\nusing curses, but curses is a fairly large module to learn.")


def test_question_at_category_level_stops_at_next_category():
    rows = faq(FAQ_SAMPLE, "gui.rst.txt")
    assert [(line, q) for line, q, _ in qa(rows)] == [
        (17, "What GUI toolkits exist for Python?"),
        (38, "How do I freeze Tkinter applications?"),
        (60, "Can I have Tk events handled while waiting for I/O?"),
        (70, "I can't get key bindings to work in Tkinter: why?")]
    answer = qa(rows)[0][2]
    assert answer.startswith("Standard builds of Python include an object-oriented interface "
                             "to the Tcl/Tk\nwidget set, called tkinter.  This")
    assert answer.endswith("frameworks can be found on the python wiki.")
    assert records(rows)[1]["meta"]["section"] == ["Graphic User Interface FAQ",
                                                   "Tkinter questions"]


def test_literal_markup_in_question():
    windows = qa(faq(FAQ_SAMPLE, "windows.rst.txt"))
    assert (147, "Is a `*.pyd` file the same as a DLL?") in [(n, q) for n, q, _ in windows]


def test_note_in_answer(whole_faq):
    library = qa(faq(whole_faq, "library.rst.txt"))
    (answer,) = [a for _, q, a in library if q == "How do I read (or write) binary data?"]
    assert answer.endswith(
        "Note: To read and write binary data, it is mandatory to open the file in\n"
        "binary mode (here, passing `\"rb\"` to `open`).  If you use\n"
        "`\"r\"` instead (the default), the file will be open in text mode\n"
        "and `f.read()` will return `str` objects rather than\n`bytes` objects.")


# --- heading styles ----------------------------------------------------------------------------

MARKDOWN = """\
Intro text is not a row.

# Project FAQ

## Installing

### How do I install it?

Run:

```bash
# a comment, not a heading
pip install x
```

#### Example

Some *example*.

### What's new

Stuff.

Why is the sky blue?
--------------------

Rayleigh scattering.

## Empty?

### Deeper question?

Answer.
"""


def test_markdown_headings():
    rows = convert("docs/faq.md", MARKDOWN)
    assert errors(rows) == [
        (3, "not_a_question", "heading 'Project FAQ' is not a question"),
        (5, "not_a_question", "heading 'Installing' is not a question"),
        (20, "not_a_question", "heading \"What's new\" is not a question"),
        (29, "empty_answer", "question 'Empty?' has no answer text")]
    assert qa(rows) == [
        (7, "How do I install it?", "Run:\n\n```bash\n# a comment, not a heading\npip install x\n"
                                    "```\n\n#### Example\n\nSome *example*."),
        (24, "Why is the sky blue?", "Rayleigh scattering."),
        (31, "Deeper question?", "Answer.")]
    recs = records(rows)
    assert recs[0]["meta"] == {"file": "faq.md", "line": 7, "format": "docs",
                               "section": ["Project FAQ", "Installing"],
                               "heading": "### How do I install it?"}
    assert recs[1]["meta"]["section"] == ["Project FAQ"]
    assert recs[2]["meta"]["section"] == ["Project FAQ", "Empty?"]
    assert [r.field for _, r in rows if isinstance(r, RowError)] == [
        "heading", "heading", "heading", "answer"]


def test_numbered_headings():
    text = ("Numbered FAQ\n============\n\n"
            "1) What is it?\n\nA tool.\n\n"
            "Steps:\n\n1. Is it installed?\n2. Is it on PATH?\n\n"
            "1.1. Why does it fail?\n\nBecause.\n\n"
            "2) how do I fix it?\n\nReinstall.\n\n"
            "2. Not a question\n\nMore text.\n")
    rows = convert("faq.txt", text)
    assert errors(rows) == [(1, "not_a_question", "heading 'Numbered FAQ' is not a question")]
    assert qa(rows) == [
        (4, "What is it?", "A tool.\n\nSteps:\n\n1. Is it installed?\n2. Is it on PATH?"),
        (13, "Why does it fail?", "Because."),
        (17, "how do I fix it?", "Reinstall.\n\n2. Not a question\n\nMore text.")]
    recs = records(rows)
    assert [r["meta"]["heading"] for r in recs] == [
        "1) What is it?", "1.1. Why does it fail?", "2) how do I fix it?"]
    assert [r["meta"]["section"] for r in recs] == [
        ["Numbered FAQ"], ["Numbered FAQ", "What is it?"], ["Numbered FAQ"]]


def test_q_and_a_pairs():
    text = ("Support FAQ\n\nQ: How do I reset\n   my password?\nA: Open the settings and\n"
            "   click reset::\n\n       reset --all\n\n   Then log in again.\n"
            "Q: Is it free?\nA: Yes.\n\nQ: Why\nis this wrapped?\n\nA:\n\nQ: Empty?\n\n"
            "Q: Anything else\n\nNo A: prefix here.\n")
    rows = convert("support.txt", text)
    assert qa(rows) == [
        (3, "How do I reset my password?",
         "Open the settings and\nclick reset:\n\n    reset --all\n\nThen log in again."),
        (11, "Is it free?", "Yes."),
        (21, "Anything else", "No A: prefix here.")]
    assert errors(rows) == [
        (14, "empty_answer", "question 'Why is this wrapped?' has no answer text"),
        (19, "empty_answer", "question 'Empty?' has no answer text")]
    assert records(rows)[0]["meta"]["heading"] == "Q: How do I reset my password?"
    assert records(rows)[2]["meta"]["section"] == []


def test_rst_levels_overline_and_wrapped_title():
    text = ("=====\nGuide\n=====\n\nIntro.\n\nGuide\n=====\n\n"
            "What is a very long question that\nwas wrapped over two lines?\n"
            "-------------------------------------------------------------\n\nIt was.\n\n"
            "Details\n~~~~~~~\n\nMore detail.\n\n"
            "Which one?\n----------\n\nThis one.\n")
    rows = convert("guide.rst", text)
    assert errors(rows) == [(1, "not_a_question", "heading 'Guide' is not a question"),
                            (7, "not_a_question", "heading 'Guide' is not a question")]
    assert qa(rows) == [
        (10, "What is a very long question that was wrapped over two lines?",
         "It was.\n\nDetails\n\nMore detail."),
        (21, "Which one?", "This one.")]
    assert records(rows)[0]["meta"]["section"] == ["Guide", "Guide"]
    assert records(rows)[0]["meta"]["heading"] == ("What is a very long question that was "
                                                   "wrapped over two lines?")


def test_short_underline_is_not_an_rst_title():
    rows = convert("a.rst", "Why not?\n---\n\nBecause.\n\nWhy yes?\n--------\n\nOK.\n")
    assert qa(rows) == [(6, "Why yes?", "OK.")]


@pytest.mark.parametrize("file, text, expected", [
    ("a.md", "plain", True), ("a.MARKDOWN", "plain", True), ("a.rst", "# x\n", False),
    ("faq.rst.txt", "```\n", False), ("notes.txt", "## How?\n", True),
    ("notes.txt", "x\n```py\n", True), ("notes.txt", "Why?\n----\n", False),
    ("notes.txt", "#####\nTitle\n#####\n", False),
])
def test_markdown_or_rst(file, text, expected):
    assert is_markdown(file, text) is expected


def test_markdown_txt_answer_kept_as_written():
    text = "# FAQ\n\n## How do I *emphasise*?\n\nUse *stars*::\n\n```\n``x``\n```\n"
    rows = convert("notes.txt", text)
    assert qa(rows) == [(3, "How do I emphasise?", "Use *stars*::\n\n```\n``x``\n```")]


def test_atx_line_above_dashes_is_not_a_setext_title():
    rows = convert("a.md", "## Why?\n---\n\nBecause.\n")
    assert qa(rows) == [(1, "Why?", "---\n\nBecause.")]


def test_text_before_first_heading_and_no_headings():
    assert convert("plain.txt", "Just text.\n\nNo headings here?\n") == []
    assert convert("empty.md", "") == []


# --- cleaning ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, question", [
    (":ref:`Why is it slow <why-slow>`?", "Why is it slow?"),
    ("How do I use :func:`foo` and :meth:`~pkg.Cls.bar`?", "How do I use foo and bar?"),
    ("What does ``x += 1`` do?", "What does `x += 1` do?"),
    ("When can I rely on the *is* operator?", "When can I rely on the is operator?"),
    ("Is **this** a `link <https://example.com>`_?", "Is this a link?"),
    ("How do I read :pep:`8`::", "How do I read PEP 8"),
    ("Where is the [manual](https://example.com)?", "Where is the manual?"),
    ("Q: Why   so\tmuch space?", "Why so much space?"),
    ("3.1.2. Why numbers?", "Why numbers?"),
])
def test_markup_removed_from_questions(raw, question):
    assert clean_title(raw) == question


@pytest.mark.parametrize("title, expected", [
    ("Why?", True), ("Really?!", True), ('Did he say "why?"', True), ("What (really?)", True),
    ("How to install", True), ("what is new", True), ("Can't we?", True),
    ("I try to use __spam and I get an error.", False), ("What's new", False),
    ("Common tasks", False), ('"Why is Python Installed on my Computer?" FAQ', False),
    ("Howto guides", False), ("", False),
])
def test_question_rule(title, expected):
    assert is_question(title) is expected


def test_markup_in_rst_heading_is_cleaned():
    text = ("Why does :func:`len` use ``__len__``::\n"
            "--------------------------------------\n\nBecause.\n")
    (rec,) = records(convert("x.rst", text))
    assert rec["messages"][0]["content"] == "Why does len use `__len__`"
    assert rec["meta"]["heading"] == "Why does :func:`len` use ``__len__``::"


def test_nbsp_and_crlf():
    text = ("Intro\r\n\r\nWhat\u00a0is\u00a0NBSP?\r\n----------------\r\n\r\n"
            "A\u00a0non-breaking space.\r\n\r\nSecond\u00a0paragraph.\r\n")
    (line, rec), = convert("n.rst.txt", text)
    assert line == 3
    assert rec["messages"] == [
        {"role": "user", "content": "What is NBSP?"},
        {"role": "assistant", "content": "A non-breaking space.\n\nSecond paragraph."}]
    assert rec["meta"]["heading"] == "What is NBSP?"
    assert rec["source"] == "n.rst.txt"


RST = """\
:tocdepth: 2

.. _top:

=====
Title
=====

.. only:: html

   .. contents::

How do I do it?
---------------

.. index:: single: doing

Like this::

    do(it)

Or like this ::

    do(it, twice=True)

::

    do(nothing)

.. code-block:: python
   :linenos:

   print("hi")

.. note::
   Be *careful* with :class:`~a.Thing`
   objects.

.. versionchanged:: 3.3
   It got faster.

.. seealso:: :ref:`the guide <guide>`.

.. XXX a comment
   that goes on

.. only:: html

   Only in HTML.

.. _next-target:


Why is it empty?
----------------

.. _label:

.. contents::
"""


def test_rst_answer_cleaning():
    rows = convert("guide.rst", RST)
    assert errors(rows) == [(5, "not_a_question", "heading 'Title' is not a question"),
                            (54, "empty_answer", "question 'Why is it empty?' has no answer text")]
    assert qa(rows) == [(13, "How do I do it?",
                         "Like this:\n\n    do(it)\n\nOr like this\n\n    do(it, twice=True)\n\n"
                         "    do(nothing)\n\n   print(\"hi\")\n\n"
                         "Note: Be careful with `Thing`\nobjects.\n\n"
                         "Changed in version 3.3: It got faster.\n\n"
                         "See also: the guide.\n\nOnly in HTML.")]


def test_answer_is_dedented():
    text = "Why indent?\n===========\n\n    Indented paragraph.\n\n        deeper\n\n\n\n"
    assert qa(convert("i.rst", text)) == [(1, "Why indent?", "Indented paragraph.\n\n    deeper")]


def test_deeper_non_question_sections_stay_in_the_answer():
    text = ("Why nest?\n=========\n\nTop.\n\nBackground\n----------\n\nSome history.\n\n"
            "Which part?\n-----------\n\nThis part.\n\nNotes\n-----\n\nA note.\n\n"
            "Why else?\n=========\n\nBecause.\n")
    rows = convert("n.rst", text)
    assert errors(rows) == [(16, "not_a_question", "heading 'Notes' is not a question")]
    assert qa(rows) == [(1, "Why nest?", "Top.\n\nBackground\n\nSome history."),
                        (11, "Which part?", "This part."),
                        (21, "Why else?", "Because.")]
    assert [r["meta"]["section"] for r in records(rows)] == [[], ["Why nest?"], []]


def test_a_document_without_a_question_leaves_a_rejected_row(tmp_path):
    from curate.convert import convert as convert_path

    (tmp_path / "notes.txt").write_text("Just some prose.\nNo headings at all.\n")
    (tmp_path / "faq.md").write_text("# Why tea?\n\nIt is warm.\n")
    res = convert_path(tmp_path)  # whatever on_error says, as for a text row without one
    assert res.rows_in == 2 == res.frame.height + res.rejected.height
    assert res.rejected.select("file", "line", "field", "drop_reason", "detail").rows() == [
        (str(tmp_path / "notes.txt"), 1, None, "no_question",
         "no question heading or Q:/A: pair in the document")]
