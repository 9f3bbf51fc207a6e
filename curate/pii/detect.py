"""Finding personal data and secrets in one text, and replacing them with typed placeholders.

Each detector's regex gives candidates; :mod:`curate.pii.checks` keeps those that pass their
checksum or number plan and are not documentation values, placeholders or version numbers.
Where findings overlap, the more specific type wins (secret, credit card, IBAN, SSN, e-mail,
IP address, phone), then the earlier and the longer one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from . import checks
from . import patterns as p

# In the order in which overlapping findings are preferred.
TYPES = ("secret", "credit_card", "iban", "us_ssn", "email", "ip_address", "phone")
PLACEHOLDERS = {t: f"<{t.upper()}>" for t in TYPES}
_RANK = {t: i for i, t in enumerate(TYPES)}


@dataclass(frozen=True)
class Finding:
    """One value found: its span in the text, its type, and which detector found it."""

    start: int
    end: int
    type: str
    detector: str

    def value(self, text: str) -> str:
        return text[self.start:self.end]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _in_url(text: str, start: int) -> bool:
    """Whether ``start`` is inside a URL other than ``mailto:`` (an e-mail-shaped part of a
    URL is a message id or a user name: ``groups?selm=34A0.CF9@ohioee.com``)."""
    before = text[max(0, start - 200):start]
    if not before or before[-1].isspace():
        return False
    word = before.rsplit(None, 1)[-1]
    return "://" in word and not word.endswith("mailto:")


def _emails(text: str) -> Iterator[tuple[int, int]]:
    for m in p.EMAIL.finditer(text):
        if checks.email_is_personal(m.group(1), m.group(2)) and not _in_url(text, m.start()):
            yield m.span()


def _phone_ok(value: str) -> bool:
    digits = _digits(value)
    return 8 <= len(digits) <= 15 and len(set(digits[-7:])) > 1


def _phones(pattern: re.Pattern) -> Callable[[str], Iterator[tuple[int, int]]]:
    def detect(text: str) -> Iterator[tuple[int, int]]:
        for m in pattern.finditer(text):
            if _phone_ok(m.group()):
                yield m.span()
    return detect


def _nanp(text: str) -> Iterator[tuple[int, int]]:
    for m in p.PHONE_NANP.finditer(text):
        if checks.nanp_ok((m.group(1) or m.group(2)) + m.group(4) + m.group(5)):
            yield m.span()


def _ips(pattern: re.Pattern) -> Callable[[str], Iterator[tuple[int, int]]]:
    def detect(text: str) -> Iterator[tuple[int, int]]:
        for m in pattern.finditer(text):
            if checks.ip_is_personal(m.group()) and not checks.looks_like_version(text,
                                                                                  m.start()):
                yield m.span()
    return detect


def _cards(text: str) -> Iterator[tuple[int, int]]:
    for m in p.CARD.finditer(text):
        digits = _digits(m.group())
        if (13 <= len(digits) <= 19 and digits not in checks.EXAMPLE_VALUES
                and checks.card_issuer_ok(digits) and checks.luhn_ok(digits)
                and len(set(digits)) > 2):
            yield m.span()


def _ibans(text: str) -> Iterator[tuple[int, int]]:
    for m in p.IBAN.finditer(text):
        compact = m.group().replace(" ", "")
        if compact not in checks.EXAMPLE_VALUES and checks.iban_ok(compact):
            yield m.span()


def _ssns(text: str) -> Iterator[tuple[int, int]]:
    for m in p.SSN.finditer(text):
        if m.group() not in checks.EXAMPLE_VALUES and checks.ssn_ok(*m.groups()):
            yield m.span()


def _secret_ok(name: str, body: str) -> bool:
    if name == "url_password":
        return checks.password_is_real(body)
    if name == "private_key":  # a real key's body is hundreds of base64 characters
        return len(re.findall(r"[A-Za-z0-9+/=]", body)) >= 64 and "..." not in body
    if name == "jwt":
        body = body.rsplit(".", 1)[-1]  # the signature
        if body == "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c":  # jwt.io's example
            return False
    else:
        body = re.sub(r"^(?:sk|rk|gh[pousr]|github_pat|gl\w+|xox\w|hf)[_-](?:live_|test_|proj-|"
                      r"svcacct-|admin-|ant-)?", "", body)
    if not checks.token_is_real(body):
        return False
    # "sk-" alone is a weak prefix (sk-learn-style slugs): a key also has digits
    return name != "openai_key" or (any(c.isdigit() for c in body)
                                    and any(c.isalpha() for c in body))


def _secret(name: str, pattern: re.Pattern, group: int
            ) -> Callable[[str], Iterator[tuple[int, int]]]:
    def detect(text: str) -> Iterator[tuple[int, int]]:
        for m in pattern.finditer(text):
            if _secret_ok(name, m.group(group)):
                # a key block goes whole; of the others only the random part
                yield m.span() if name == "private_key" else m.span(group)
    return detect


# name -> (type, detector); names are those of :data:`curate.pii.patterns.GATES`
DETECTORS: dict[str, tuple[str, Callable[[str], Iterator[tuple[int, int]]]]] = {
    **{name: ("secret", _secret(name, pattern, group)) for name, pattern, group in p.SECRETS},
    "credit_card": ("credit_card", _cards), "iban": ("iban", _ibans),
    "us_ssn": ("us_ssn", _ssns), "email": ("email", _emails),
    "ipv4": ("ip_address", _ips(p.IPV4)), "ipv6": ("ip_address", _ips(p.IPV6)),
    "phone_international": ("phone", _phones(p.PHONE_INTL)), "phone_nanp": ("phone", _nanp),
    "phone_national": ("phone", _phones(p.PHONE_NATIONAL)),
}


def detectors_of(types: Iterable[str]) -> list[str]:
    """The detectors that find ``types``."""
    wanted = set(types)
    return [name for name, (t, _) in DETECTORS.items() if t in wanted]


def find(text: str, types: Iterable[str] = TYPES,
         detectors: Iterable[str] | None = None) -> list[Finding]:
    """The findings in ``text`` of the ``types`` asked for, without overlaps, in text order;
    ``detectors`` (names of :data:`DETECTORS`) limits which run, e.g. to those whose gate
    matched the text."""
    names = detectors_of(types)
    if detectors is not None:
        allowed = set(detectors)
        names = [n for n in names if n in allowed]
    found = [Finding(start, end, DETECTORS[n][0], n)
             for n in names for start, end in DETECTORS[n][1](text)]
    if len(found) > 1:
        found.sort(key=lambda f: (_RANK[f.type], f.start, f.start - f.end))
        kept: list[Finding] = []
        for f in found:
            if all(f.end <= k.start or f.start >= k.end for k in kept):
                kept.append(f)
        found = kept
    return sorted(found, key=lambda f: f.start)


def redact(text: str, types: Iterable[str] = TYPES,
           detectors: Iterable[str] | None = None) -> tuple[str, Counter]:
    """``text`` with every finding replaced by its placeholder (``<EMAIL>``, ...), and the
    number of values replaced per type."""
    found = find(text, types, detectors)
    if not found:
        return text, Counter()
    parts, last = [], 0
    for f in found:
        parts += [text[last:f.start], PLACEHOLDERS[f.type]]
        last = f.end
    parts.append(text[last:])
    return "".join(parts), Counter(f.type for f in found)
