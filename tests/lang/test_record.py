import pytest

from curate.lang import Detector, identify

EN = ("The museum is open every day except Monday. Tickets can be bought online or at the "
      "entrance, and children under twelve get in for free.")
DE = ("Das Museum ist jeden Tag außer Montag geöffnet. Eintrittskarten gibt es online oder "
      "am Eingang, und Kinder unter zwölf Jahren haben freien Eintritt.")
FR = ("Le musée est ouvert tous les jours sauf le lundi. Les billets s'achètent en ligne ou à "
      "l'entrée, et les enfants de moins de douze ans entrent gratuitement.")
CODE = "```python\n" + "\n".join(f"def handler_{i}(request):\n    return request.json()['field_{i}']"
                                 for i in range(30)) + "\n```"


@pytest.fixture(scope="module")
def detector():
    return Detector()


def test_one_language(detector):
    found = identify({"prompt": ["When is the museum open?"], "response": [EN]}, detector,
                     mixed_share=0.2)
    assert (found.lang, found.prompt, found.response, found.mixed) == ("en", "en", "en", False)
    assert found.languages == ["en"] and 0.5 < found.score <= 1


def test_a_translation_is_mixed(detector):
    found = identify({"prompt": [f"Translate into German:\n\n{EN}"], "response": [DE]},
                     detector, mixed_share=0.2)
    assert found.prompt == "en" and found.response == "de" and found.mixed
    assert sorted(found.languages) == ["de", "en"] and found.languages[0] == found.lang


def test_paragraphs_of_another_language_make_it_mixed_above_the_share(detector):
    reply = "\n\n".join([EN, EN, EN, FR])
    assert identify({"response": [reply]}, detector, mixed_share=0.2).languages == ["en", "fr"]
    # one paragraph of four is about a quarter of the letters: under a 0.3 share, not mixed
    assert not identify({"response": [reply]}, detector, mixed_share=0.3).mixed


def test_code_does_not_make_english_another_language(detector):
    reply = f"Here is a handler for each field of the request:\n\n{CODE}\n\nEach returns one field."
    found = identify({"prompt": ["Write the handlers."], "response": [reply]}, detector,
                     mixed_share=0.2)
    assert (found.lang, found.response, found.mixed) == ("en", "en", False)


def test_only_code_is_judged_on_the_code(detector):
    found = identify({"prompt": [CODE], "response": [CODE]}, detector, mixed_share=0.2)
    assert found.lang is not None and not found.mixed


def test_a_rejected_reply_in_another_language_counts(detector):
    found = identify({"prompt": ["Is the museum open on Mondays?"], "response": [EN],
                      "rejected": [FR]}, detector, mixed_share=0.2)
    assert found.response == "en" and found.mixed and "fr" in found.languages


def test_no_letters(detector):
    found = identify({"prompt": ["1 + 1"], "response": ["2"]}, detector, mixed_share=0.2)
    assert (found.lang, found.score, found.languages, found.mixed) == (None, None, [], False)
