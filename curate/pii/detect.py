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


def _emails(text: str) -> Iterator[Finding]:
    for m in p.EMAIL.finditer(text):
        if checks.email_is_personal(m.group(1), m.group(2)) and not _in_url(text, m.start()):
            yield Finding(m.start(), m.end(), "email", "email")


def _phone_ok(value: str) -> bool:
    digits = _digits(value)
    return 8 <= len(digits) <= 15 and len(set(digits[-7:])) > 1


def _phones(text: str) -> Iterator[Finding]:
    for m in p.PHONE_INTL.finditer(text):
        if _phone_ok(m.group()):
            yield Finding(m.start(), m.end(), "phone", "phone_international")
    for m in p.PHONE_NANP.finditer(text):
        if checks.nanp_ok((m.group(1) or m.group(2)) + m.group(4) + m.group(5)):
            yield Finding(m.start(), m.end(), "phone", "phone_nanp")
    for m in p.PHONE_NATIONAL.finditer(text):
        if _phone_ok(m.group()):
            yield Finding(m.start(), m.end(), "phone", "phone_national")


def _ips(text: str) -> Iterator[Finding]:
    for m in p.IPV4.finditer(text):
        if checks.ip_is_personal(m.group()) and not checks.looks_like_version(text, m.start()):
            yield Finding(m.start(), m.end(), "ip_address", "ipv4")
    for m in p.IPV6.finditer(text):
        if checks.ip_is_personal(m.group()):
            yield Finding(m.start(), m.end(), "ip_address", "ipv6")


def _cards(text: str) -> Iterator[Finding]:
    for m in p.CARD.finditer(text):
        digits = _digits(m.group())
        if (13 <= len(digits) <= 19 and digits not in checks.EXAMPLE_VALUES
                and checks.card_issuer_ok(digits) and checks.luhn_ok(digits)
                and len(set(digits)) > 2):
            yield Finding(m.start(), m.end(), "credit_card", "credit_card")


def _ibans(text: str) -> Iterator[Finding]:
    for m in p.IBAN.finditer(text):
        compact = m.group().replace(" ", "")
        if compact not in checks.EXAMPLE_VALUES and checks.iban_ok(compact):
            yield Finding(m.start(), m.end(), "iban", "iban")


def _ssns(text: str) -> Iterator[Finding]:
    for m in p.SSN.finditer(text):
        if m.group() not in checks.EXAMPLE_VALUES and checks.ssn_ok(*m.groups()):
            yield Finding(m.start(), m.end(), "us_ssn", "us_ssn")


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


def _secrets(text: str) -> Iterator[Finding]:
    for name, pattern, group in p.SECRETS:
        for m in pattern.finditer(text):
            if _secret_ok(name, m.group(group)):
                # a key block goes whole; of the others only the random part
                start, end = m.span() if name == "private_key" else m.span(group)
                yield Finding(start, end, "secret", name)


DETECTORS: dict[str, Callable[[str], Iterator[Finding]]] = {
    "secret": _secrets, "credit_card": _cards, "iban": _ibans, "us_ssn": _ssns,
    "email": _emails, "ip_address": _ips, "phone": _phones,
}


def find(text: str, types: Iterable[str] = TYPES) -> list[Finding]:
    """The findings in ``text`` of the ``types`` asked for, without overlaps, in text order."""
    found = [f for t in types for f in DETECTORS[t](text)]
    if len(found) > 1:
        found.sort(key=lambda f: (_RANK[f.type], f.start, f.start - f.end))
        kept: list[Finding] = []
        for f in found:
            if all(f.end <= k.start or f.start >= k.end for k in kept):
                kept.append(f)
        found = kept
    return sorted(found, key=lambda f: f.start)


def redact(text: str, types: Iterable[str] = TYPES) -> tuple[str, Counter]:
    """``text`` with every finding replaced by its placeholder (``<EMAIL>``, ...), and the
    number of values replaced per type."""
    found = find(text, types)
    if not found:
        return text, Counter()
    parts, last = [], 0
    for f in found:
        parts += [text[last:f.start], PLACEHOLDERS[f.type]]
        last = f.end
    parts.append(text[last:])
    return "".join(parts), Counter(f.type for f in found)
