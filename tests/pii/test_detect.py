"""Personal data and secrets planted in prose and in code blocks are found with their type and
exact span; look-alikes that are not personal data stay."""

from __future__ import annotations

import pytest

from curate.pii import PLACEHOLDERS, find, redact
from curate.pii.checks import iban_ok, luhn_ok

# (type, value): generated values, none a real person's (cards Luhn-valid, IBANs mod-97-valid)
PLANTED = [
    ("email", "priya.okafor@proton.me"),
    ("email", "s.lindqvist@uni-koeln.de"),
    ("phone", "(415) 867-2301"),
    ("phone", "+1-646-732-9981"),
    ("phone", "+44 20 7946 3120"),
    ("phone", "+49 30 90182455"),
    ("phone", "06 12 34 56 79"),
    ("ip_address", "52.14.201.3"),
    ("ip_address", "2a00:1450:4001:81b::200e"),
    ("credit_card", "4532 0151 1283 0366"),
    ("credit_card", "5425-2334-3010-9903"),
    ("credit_card", "3752 601815 90834"),
    ("credit_card", "4016613186091397"),
    ("iban", "DE44 5001 0517 5407 3249 31"),
    ("iban", "GB33BUKB20201555555555"),
    ("us_ssn", "536-22-1234"),
    ("secret", "AKIAZ7Q4N2XK5P3WLM8R"),
    ("secret", "ghp_aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5"),
    ("secret", "glpat-Rld_ptg_MGurNhPWGvnx"),
    ("secret", "xoxb-2048120937-1123581321345-Qz8vLw3NkRt5YpHs2XmJd7Fc"),
    ("secret", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("secret", "sk-proj-Ab3De5Gh7Jk9Mn1Pq3Rs5Tu7Vw9Xy1Za3Bc5De7Fg9"),
    ("secret", "hf_QwErTy8UiOp2AsDfGh4JkLzXcVbNm6Pq7Rs"),
    ("secret", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MjQyIiwibmFtZSI6ImFubmEifQ."
               "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
]

LOOKALIKES = [
    "version 1.2.3.4", "pip install requests==2.31.0.1", "Chrome/120.0.6099.109",
    "127.0.0.1", "0.0.0.0", "::1", "localhost:8080", "192.168.1.10", "10.0.0.1",
    "255.255.255.0", "fe80::1", "192.0.2.15", "198.51.100.7", "203.0.113.9", "2001:db8::42",
    "8.8.8.8", "user@example.com", "admin@example.org", "you@yourdomain.com", "git@github.com",
    "jane.doe@example.net", "dev@api.test", "noreply@test.invalid", "me@your-company.com",
    "user@domain.tld", "root@box.localhost", "ann@shop.example",
    "YOUR_API_KEY", "sk-...xxxx", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AKIAIOSFODNN7EXAMPLE",
    "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "postgres://user:password@localhost/db",
    "123e4567-e89b-12d3-a456-426614174000", "9fceb02d0ae598e95dc970b74767f19372d61af8",
    "#ff5733", "2023-10-15", "10/15/2023", "12:30:45", "1234567890", "3.14159265",
    "4294967296", "1,000,000", "978-3-16-148410-0", "123-456-7890", "4242 4242 4242 4242",
    "00:1A:2B:3C:4D:5E", "std::vector<int>", "icon@2x.png", "1700000000000",
]


def _prose(value: str) -> str:
    return f"Sure. You can reach the owner at {value} if anything goes wrong.\n"


def _code(value: str) -> str:
    return f"Here is the config:\n```python\nSETTINGS = {{\n    \"value\": \"{value}\",\n}}\n```\n"


@pytest.mark.parametrize("where", [_prose, _code], ids=["prose", "code"])
@pytest.mark.parametrize("kind,value", PLANTED, ids=[f"{k}:{v[:14]}" for k, v in PLANTED])
def test_planted_values_are_found_with_their_span_and_type(where, kind, value):
    text = where(value)
    found = find(text)
    assert [(f.type, f.value(text)) for f in found] == [(kind, value)]
    assert redact(text) == (text.replace(value, PLACEHOLDERS[kind]), {kind: 1})


@pytest.mark.parametrize("where", [_prose, _code], ids=["prose", "code"])
@pytest.mark.parametrize("value", LOOKALIKES)
def test_lookalikes_stay(where, value):
    text = where(value)
    assert find(text) == [] and redact(text)[0] == text


def test_password_in_a_url_is_redacted_not_the_rest():
    text = "DATABASE_URL=postgres://anna:Tr0ub4dor3xQ@db.acme-corp.io:5432/app"
    assert redact(text)[0] == "DATABASE_URL=postgres://anna:<SECRET>@db.acme-corp.io:5432/app"


def test_a_private_key_block_goes_whole():
    body = "\n".join("MIIEowIBAAKCAQEA" + "q7Zr3xW9" * 6 for _ in range(4))
    text = f"key:\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\nend"
    assert redact(text)[0] == "key:\n<SECRET>\nend"
    placeholder = "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"
    assert find(placeholder) == []


def test_checksums_decide_cards_and_ibans():
    assert luhn_ok("4532015112830366") and not luhn_ok("4532015112830367")
    assert iban_ok("DE44500105175407324931") and not iban_ok("DE45500105175407324931")
    assert find("card 4532 0151 1283 0367, iban DE45 5001 0517 5407 3249 31") == []


def test_only_the_types_asked_for():
    text = "mail priya.okafor@proton.me from 52.14.201.3"
    assert redact(text, ["ip_address"]) == ("mail priya.okafor@proton.me from <IP_ADDRESS>",
                                            {"ip_address": 1})


def test_a_version_before_a_dotted_quad_is_a_version_but_a_log_line_is_not():
    assert find("Upgrade to version 52.14.201.3 now") == []
    text = "```\n52.14.201.3 - - [10/Oct/2023:13:55:36] \"GET /\"\n```"
    assert [f.value(text) for f in find(text)] == ["52.14.201.3"]


# Placeholder-looking local parts at domains where mailboxes are real: someone's address (a
# mail provider's, a registered company's, an intranet's), so redacted.
REAL_DOMAIN_ADDRESSES = ["jane.doe@gmail.com", "john.doe@yahoo.com", "johndoe@university.edu",
                         "user@mail.com", "name@domain.com", "email@company.com",
                         "jane.smith@corp.local", "ops@build.internal", "admin@example.edu",
                         "someone@mydomain.com"]


@pytest.mark.parametrize("value", REAL_DOMAIN_ADDRESSES)
def test_a_placeholder_name_at_a_real_domain_is_redacted(value):
    text = _prose(value)
    assert [(f.type, f.value(text)) for f in find(text)] == [("email", value)]
    assert redact(text)[0] == text.replace(value, "<EMAIL>")


def test_a_message_id_inside_a_url_is_not_an_email():
    text = "https://groups.google.com/groups?selm=34A04430.CF9@ohioee.com"
    assert find(text) == []
    assert [f.type for f in find("mailto:priya.okafor@proton.me")] == ["email"]
