"""Checks that turn a regex candidate into a finding: checksums (Luhn, IBAN mod 97), number
plans (SSN, NANP), address ranges, and the values that look like personal data but are not
(documentation addresses and numbers, placeholders, version numbers)."""

from __future__ import annotations

import ipaddress
import re

# -- checksums and number plans ---------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer_ok(digits: str) -> bool:
    """A known issuer prefix (IIN) with a length that issuer uses: Visa, Mastercard, Amex,
    Discover, JCB, Diners, UnionPay, Maestro."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p4 == 6011 or p2 == 65 or 644 <= int(digits[:3]) <= 649 or p2 == 62:
        return 16 <= n <= 19
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19
    if p2 in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19
    if p2 in (50, 56, 57, 58, 63, 67):
        return 12 <= n <= 19
    return False


# IBAN length per country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban_ok(iban: str) -> bool:
    """The country's IBAN length and the ISO 7064 mod-97 checksum (spaces removed)."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """A US SSN that could be issued: area not 000, 666 or 9xx, group not 00, serial not
    0000."""
    return (area not in ("000", "666") and area[0] != "9" and group != "00"
            and serial != "0000")


def nanp_ok(digits: str) -> bool:
    """A North American number (10 digits): area code and exchange start with 2-9, neither is
    an N11 service code, and it is not one of the fictional 555-0100 to 555-0199 nor a
    placeholder such as 555-555-5555."""
    return (digits[0] >= "2" and digits[3] >= "2" and digits[1:3] != "11"
            and digits[4:6] != "11" and not digits[3:8].startswith("55501")
            and len(set(digits[3:])) > 1)


# -- what is not personal data ------------------------------------------------------------------

# Published documentation and test values (card test numbers of Stripe, Visa, Adyen, PayPal;
# the IBAN examples of the ECBS and Wikipedia; SSNs the SSA voided after they were used in ads).
EXAMPLE_VALUES = frozenset({
    "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
    "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222",
    "378282246310005", "371449635398431", "378734493671000", "6011111111111117",
    "6011000990139424", "3056930009020004", "36227206271667", "3530111333300000",
    "3566002020360505", "6200000000000005", "4222222222222",
    "GB82WEST12345698765432", "DE89370400440532013000", "GB29NWBK60161331926819",
    "FR1420041010050500013M02606", "NL91ABNA0417164300", "CH9300762011623852957",
    "123-45-6789", "078-05-1120", "219-09-9999",
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
    "208.67.222.222", "208.67.220.220",
    "2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111",
    "2606:4700:4700::1001",
})

# Domains that cannot be anyone's mailbox: reserved for documentation and tests (RFC 2606,
# RFC 6761: example.com/.net/.org, .example, .test, .invalid, .localhost), the non-delegated
# template TLD ``.tld`` (user@domain.tld) and template names (your-domain.com,
# yourcompany.org). ``.local`` and ``.internal`` are not among them: they are real intranet
# mail domains, and ``jane.smith@corp.local`` is someone's address.
_EXAMPLE_DOMAINS = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|your-?(?:domain|company|site|website|email|org|"
    r"organi[sz]ation)\.[a-z]+)$"
    r"|\.(?:example|test|invalid|localhost|tld)$", re.I)
# File names that look like addresses: icon@2x.png, lib@1.2.3.tgz
_FILE_TLDS = frozenset(
    "png jpg jpeg gif svg webp ico bmp tif tiff js mjs cjs ts tsx jsx py rb go rs java kt c h "
    "cpp hpp cs php css scss less html htm json yaml yml toml xml md rst txt csv tsv log lock "
    "zip gz tgz tar bz2 xz whl sh bat ps1 exe dll so dylib wasm pdf doc docx mp3 mp4 wav".split())


def email_is_personal(local: str, domain: str) -> bool:
    """Not a reserved or template domain, nor a file name, nor git's SSH user (git@github.com).
    The local part alone never makes an address a placeholder: at a real mail provider
    ``jane.doe@gmail.com`` may be a real person's."""
    if _EXAMPLE_DOMAINS.search(domain) or domain.rsplit(".", 1)[-1].lower() in _FILE_TLDS:
        return False
    return local.lower() != "git"


_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def ip_is_personal(text: str) -> bool:
    """A global address: private, loopback, link-local, multicast, reserved and the
    documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
    not, nor the public DNS resolvers (8.8.8.8, 1.1.1.1, ...)."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    if not addr.is_global or addr.is_multicast or addr.is_reserved or text in EXAMPLE_VALUES:
        return False
    return addr.version == 4 or addr in _GLOBAL_UNICAST


# A dotted quad right after these is a version, not an address: "version 1.2.3.4", "v1.2.3.4",
# "==1.2.3.4", "Chrome/120.0.6099.109".
_VERSION_BEFORE = re.compile(
    r"(?:\bv|\bver\.?[ \t]?|version[ \t]*[:=]?[ \t]*|versions?[ \t]+|release[ \t]*|build[ \t]*|"
    r"==|>=|<=|~=|!=|[a-z]/|@|\b(?:python|node|java|chrome|firefox|windows|ios|android|net|sdk|"
    r"kernel|update|patch|api|os)[ \t]*)\Z", re.I)


def looks_like_version(text: str, start: int) -> bool:
    """Whether the dotted quad starting at ``start`` follows a version word or operator."""
    return bool(_VERSION_BEFORE.search(text[max(0, start - 24):start]))


# Token bodies that are placeholders: sk-xxxx..., hf_YOUR_TOKEN, AKIAIOSFODNN7EXAMPLE, ...
_PLACEHOLDER_WORDS = re.compile(
    r"x{4}|\*{3}|\.\.\.|example|your|placeholder|redacted|dummy|fake|sample|secret_?key|"
    r"api_?key|token_?here|insert|replace|changeme|<|>|\{|\}|\$|123456|abcdef|(.)\1{4}", re.I)


def token_is_real(body: str) -> bool:
    """A token body (what follows the prefix) with no placeholder words or runs and enough
    distinct characters to be random."""
    if _PLACEHOLDER_WORDS.search(body):
        return False
    return len(set(body)) >= min(12, len(body) // 2)


_PLACEHOLDER_PASSWORDS = re.compile(
    r"^(?:pass(?:word|wd)?|pwd|secret|changeme|admin|root|test|guest|user|x+|\*+)$|password|"
    r"your|<|>|\{|\}|\$|%s|\.\.\.|\*{3}|x{3}", re.I)


def password_is_real(password: str) -> bool:
    """A URL password that is not a placeholder (``password``, ``${DB_PASS}``, ``****``)."""
    return not _PLACEHOLDER_PASSWORDS.search(password)
