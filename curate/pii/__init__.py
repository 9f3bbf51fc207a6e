"""Personal data and secrets in text: e-mail addresses, phone numbers, IP addresses, credit card
numbers (Luhn), IBANs (mod 97), US SSNs and secrets of well-known shapes (cloud and API keys,
tokens, JWTs, private keys, passwords in URLs), found by regular expressions and checks, and
redacted with typed placeholders.

Examples:
    >>> redact("Mail jane.roe@gmx.de or call +49 30 901820.")[0]
    'Mail <EMAIL> or call <PHONE>.'
    >>> find("See https://example.com or 192.0.2.1, version 1.2.3.4.")
    []
"""

from .detect import PLACEHOLDERS, TYPES, Finding, find, redact
from .patterns import GATES

__all__ = ["GATES", "PLACEHOLDERS", "TYPES", "Finding", "find", "redact"]
