"""The regular expressions of the detectors, and one cheap pre-filter over all of them.

Each detector is a pattern whose candidates :mod:`curate.pii.checks` then accepts or not
(checksum, number plan, documentation range, placeholder). Each detector also has a gate in
:data:`GATES`, written for polars (Rust's regex: no look-around) and looser than its pattern:
the stage runs a detector in Python only on the turns its gate matches, so most text is never
looked at in Python.
"""

from __future__ import annotations

import re

# A boundary that is not inside a word, a number, a dotted name or a hyphenated code.
_B = r"(?<![\w.+-])"

EMAIL = re.compile(
    _B + r"([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])")

# +CC then 2-5 groups (the first may be in parentheses): +1 (415) 555-2671, +44 20 7946 0958
PHONE_INTL = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\)|[ .-]?\d{1,5})(?:[ .-]?\d{2,8}){1,4}"
    r"(?![\w-]|\.\d)")
# North American: (415) 555-2671, 415-555-2671, 415.555.2671, 1-800-555-0199
# (not a part of a longer run of digit groups: a card or account number)
PHONE_NANP = re.compile(
    r"(?<![\w.+-])(?<!\d[ .-])(?:1[ .-])?(?:\((\d{3})\)[ ]?|(\d{3})([-. ]))(\d{3})[-. ]"
    r"(\d{4})(?![\w-]|[ .-]\d)")
# National formats with a trunk 0: 020 7946 0958, 030 12345678, 06 12 34 56 78
PHONE_NATIONAL = re.compile(
    r"(?<![\w.+-])(?<!\d[ .-])"
    r"(?:0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}|0\d{1,4}[ -]\d{5,8}|0[1-9](?:[ .]\d{2}){4})"
    r"(?![\w-]|[ .-]\d)")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(r"(?<![\w.])" + rf"{_OCTET}(?:\.{_OCTET}){{3}}" + r"(?!\w|\.\d)")
# loose on purpose: ipaddress decides
IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:]*[0-9A-Fa-f]:[0-9A-Fa-f]*:)"
                  r"[0-9A-Fa-f:]{3,39}(?![\w:]|\.\d)")

# 13-19 digits in groups of 4 (4-6-5 for Amex, 4-6-4 for Diners), or unbroken
CARD = re.compile(
    r"(?<![\w.-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{4,5}|\d{13,19})"
    r"(?![\w-]|\.\d)")
IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])")
SSN = re.compile(r"(?<![\w.-])(\d{3})-(\d{2})-(\d{4})(?![\w-]|\.\d)")

# Secrets of well-known shapes: (name, pattern, group holding the random part, or 0)
SECRETS: list[tuple[str, re.Pattern, int]] = [
    ("private_key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"([\s\S]*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\n\s*\n|$)"), 1),
    ("aws_access_key", re.compile(
        r"(?<![A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})"
        r"(?![A-Za-z0-9])"), 1),
    ("aws_secret_key", re.compile(
        r"(?i:aws_?secret_?access_?key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"), 1),
    ("github_token", re.compile(
        r"(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{50,255})"), 1),
    ("gitlab_token", re.compile(r"(?<![A-Za-z0-9_-])(gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,})"), 1),
    ("slack_token", re.compile(r"(?<![A-Za-z0-9])(xox[abposr]-[A-Za-z0-9-]{10,})"), 1),
    ("slack_webhook", re.compile(
        r"hooks\.slack\.com/services/(T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,})"), 1),
    ("stripe_key", re.compile(r"(?<![A-Za-z0-9])((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})"), 1),
    ("openai_key", re.compile(r"(?<![A-Za-z0-9_-])(sk-(?:proj-|svcacct-|admin-|ant-)?"
                              r"[A-Za-z0-9_-]{20,})"), 1),
    ("huggingface_token", re.compile(r"(?<![A-Za-z0-9_])(hf_[A-Za-z0-9]{30,40})(?![A-Za-z0-9])"),
     1),
    ("google_api_key", re.compile(r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])"),
     1),
    ("jwt", re.compile(r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."
                       r"[A-Za-z0-9_-]{16,})"), 1),
    # scheme://user:password@host: only the password is the secret
    ("url_password", re.compile(
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@'\"<>]{1,64}:([^\s@/'\"<>]{1,128})@"
        r"[A-Za-z0-9.-]"), 1),
]

# Per detector, what its pattern needs to match, for polars' Rust regex (no look-around;
# looser than the pattern): a detector runs in Python only on the texts its gate matches.
GATES: dict[str, str] = {
    "email": r"[A-Za-z0-9]@[A-Za-z0-9-]+\.",
    "phone_international": r"\+\d",
    "phone_nanp": r"\d{3}(?:\) ?|[\-. ])\d{3}[\-. ]\d{4}",
    "phone_national": r"0\d{1,4}[ .\-]\d",
    "ipv4": r"\d\.\d{1,3}\.\d{1,3}\.\d",
    "ipv6": r"[0-9A-Fa-f]:[0-9A-Fa-f]*:",
    "credit_card": r"\d{4}[ \-]?\d{4}",
    "iban": r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}",
    "us_ssn": r"\d{3}-\d{2}-\d{4}",
    "private_key": r"PRIVATE KEY",
    "aws_access_key": r"A(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|NPA|NVA|IPA)[A-Z0-9]{16}",
    "aws_secret_key": r"(?i:secret_?access_?key)",
    "github_token": r"gh[pousr]_|github_pat_",
    "gitlab_token": r"gl(?:pat|dt|rt|ptt)-",
    "slack_token": r"xox[abposr]-",
    "slack_webhook": r"hooks\.slack\.com/services/",
    "stripe_key": r"[sr]k_(?:live|test)_",
    "openai_key": r"sk-",
    "huggingface_token": r"hf_",
    "google_api_key": r"AIza",
    "jwt": r"eyJ[A-Za-z0-9_-]{8,}\.eyJ",
    "url_password": r"://[^\s:/@]+:[^\s@/]+@",
}
