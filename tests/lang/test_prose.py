from curate.lang.prose import letters, paragraphs, prose, words_with_letters


def test_code_urls_and_paths_are_not_prose():
    text = ("Use a list comprehension:\n\n```python\nsquares = [x * x for x in range(10)]\n```\n\n"
            "Call `sorted()` on it, see https://docs.python.org/3/howto/sorting.html and the "
            "file /usr/share/doc/python3/README.\n\n>>> sorted([3, 1])\n[1, 3]\n\n"
            "An rst literal block follows::\n\n    for i in range(3):\n        print(i)\n\nDone.")
    out = prose(text)
    for gone in ("squares", "sorted()", "docs.python.org", "/usr/share", ">>>", "print(i)"):
        assert gone not in out
    for kept in ("Use a list comprehension:", "Call", "on it, see", "An rst literal block",
                 "Done."):
        assert kept in out


def test_an_unclosed_fence_runs_to_the_end():
    assert prose("Here is the start:\n```\ndef f():\n    return 1").strip() == "Here is the start:"


def test_indented_paragraphs_stay_unless_after_a_colon():
    text = "A quote follows.\n\n    Indented prose, kept.\n\nCode follows:\n\n    x = 1"
    out = prose(text)
    assert "Indented prose, kept." in out and "x = 1" not in out


def test_paragraphs_letters_and_words():
    assert paragraphs("One.\n\n  \n\n42 -- 7\n\nTwo\nlines.") == ["One.", "Two\nlines."]
    assert letters("ab1 日本 é_-") == 5  # any script; digits, marks of punctuation are not
    assert words_with_letters("|1| |5| hello 42 x2 ---\n日本語") == "hello x2 日本語"
