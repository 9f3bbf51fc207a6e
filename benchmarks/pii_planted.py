"""A planted corpus for PII detection: instruction-style replies of prose and code blocks, with
generated personal data and secrets (which must be found) and look-alikes (which must stay).

Every value is generated (random names, valid checksums, random tokens); nothing is a real
person's. Each document records the spans of what was planted in it:
``{"text": str, "planted": [[start, end, type]], "lookalikes": [[start, end, kind]]}``.
"""

from __future__ import annotations

import base64
import json
import random
import string

FIRST = ["anna", "bruno", "chen", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas",
         "kwame", "lena", "mateo", "nadia", "omar", "priya", "quentin", "rosa", "sven", "tamar"]
LAST = ["almeida", "berg", "costa", "dubois", "eriksen", "fischer", "garcia", "haddad", "ito",
        "jansen", "kowalski", "lindqvist", "moreau", "novak", "okafor", "petrov", "rossi"]
DOMAINS = ["gmail.com", "outlook.com", "proton.me", "web.de", "acme-corp.io", "uni-koeln.de",
           "mail.ru", "yahoo.co.uk", "fastmail.fm", "stanford.edu", "orange.fr"]
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# -- planted values: type -> generator ----------------------------------------------------------

def email(rng):
    f, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice([f"{f}.{last}", f"{f[0]}{last}", f"{f}_{last}{rng.randint(1, 99)}",
                        f"{last}.{f}", f"{f}{rng.randint(1970, 2005)}"])
    return local + "@" + rng.choice(DOMAINS)


def phone(rng):
    a, e, n = rng.randint(201, 989), rng.randint(201, 989), rng.randint(1000, 9999)
    while str(a)[1:] == "11" or str(e)[1:] == "11":
        a, e = rng.randint(201, 989), rng.randint(201, 989)
    return rng.choice([
        f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 {a} {e} {n}", f"+1-{a}-{e}-{n}",
        f"+1{a}{e}{n}", f"+44 20 {rng.randint(7000, 8999)} {n}", f"+44 7{rng.randint(100, 999)} "
        f"{rng.randint(100000, 999999)}", f"+49 30 {rng.randint(1000000, 99999999)}",
        f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}", f"020 {rng.randint(7000, 8999)} {n}",
        f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}", f"+91 {rng.randint(70000, 99999)} {rng.randint(10000, 99999)}",
        f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"])


def ipv4(rng):
    while True:
        first = rng.choice([3, 13, 18, 23, 34, 35, 44, 52, 54, 64, 81, 91, 104, 142, 151, 185,
                            193, 212, 217])
        ip = f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if ip not in ("8.8.8.8", "1.1.1.1"):
            return ip


def ipv6(rng):
    groups = [rng.choice(["2a00", "2a01", "2600", "2607", "2a02", "2c0f", "2406"])] + [
        f"{rng.randint(0, 0xffff):x}" for _ in range(7)]
    if rng.random() < 0.5:  # compressed
        return ":".join(groups[:4]) + "::" + groups[7]
    return ":".join(groups)


def _luhn_complete(prefix: str, length: int, rng) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def credit_card(rng):
    kind = rng.choice(["visa", "mc", "amex", "discover", "mc2"])
    if kind == "amex":
        d = _luhn_complete(rng.choice(["34", "37"]), 15, rng)
        sep = rng.choice([" ", "-", ""])
        return f"{d[:4]}{sep}{d[4:10]}{sep}{d[10:]}"
    prefix = {"visa": "4", "mc": str(rng.randint(51, 55)), "discover": "6011",
              "mc2": str(rng.randint(2221, 2720))}[kind]
    d = _luhn_complete(prefix, 16, rng)
    sep = rng.choice([" ", "-", ""])
    return sep.join(d[i:i + 4] for i in range(0, 16, 4))


IBAN_BBAN = {"DE": "n18", "GB": "a4n14", "FR": "n10c11n2", "NL": "a4n10", "ES": "n20",
             "IT": "a1n10c12", "CH": "n5c12", "AT": "n16", "BE": "n12", "PL": "n24"}


def iban(rng):
    country = rng.choice(sorted(IBAN_BBAN))
    spec, bban, i = IBAN_BBAN[country], "", 0
    while i < len(spec):
        kind = spec[i]
        j = i + 1
        while j < len(spec) and spec[j].isdigit():
            j += 1
        alphabet = {"n": string.digits, "a": string.ascii_uppercase,
                    "c": string.digits + string.ascii_uppercase}[kind]
        bban += _rand(rng, alphabet, int(spec[i + 1:j]))
        i = j
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    value = f"{country}{98 - number % 97:02d}{bban}"
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if rng.random() < 0.6 \
        else value


def us_ssn(rng):
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _pem(rng):
    lines = "\n".join(_rand(rng, ALNUM + "+/", 64) for _ in range(rng.randint(4, 8)))
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"


def _jwt(rng):
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    head = b64({"alg": "HS256", "typ": "JWT"})
    body = b64({"sub": str(rng.randint(10 ** 6, 10 ** 9)), "name": rng.choice(FIRST),
                "iat": rng.randint(1.5e9, 1.8e9)})
    return f"{head}.{body}.{_rand(rng, B64URL, 43)}"


SECRET_SHAPES = {
    "aws": lambda r: "AKIA" + _rand(r, string.ascii_uppercase + "234567", 16),
    "github": lambda r: "ghp_" + _rand(r, ALNUM, 36),
    "github_pat": lambda r: "github_pat_" + _rand(r, ALNUM, 22) + "_" + _rand(r, ALNUM, 59),
    "gitlab": lambda r: "glpat-" + _rand(r, ALNUM + "_-", 20),
    "slack": lambda r: f"xoxb-{r.randint(10**10, 10**11)}-{r.randint(10**11, 10**12)}-"
                       + _rand(r, ALNUM, 24),
    "stripe": lambda r: "sk_live_" + _rand(r, ALNUM, 24),
    "openai": lambda r: "sk-proj-" + _rand(r, ALNUM + "_-", 48),
    "openai_legacy": lambda r: "sk-" + _rand(r, ALNUM, 48),
    "hf": lambda r: "hf_" + _rand(r, ALNUM, 34),
    "jwt": _jwt,
    "pem": _pem,
}


def secret(rng):
    return SECRET_SHAPES[rng.choice(sorted(SECRET_SHAPES))](rng)


def url_password(rng):
    """(prefix, password, suffix): only the password is the secret."""
    scheme = rng.choice(["postgres", "mysql", "redis", "mongodb+srv", "https", "amqp"])
    user = rng.choice(FIRST)
    host = rng.choice(["db.acme-corp.io", "cache.prod.internal.net", "10.2.0.15",
                       "cluster0.ab1cd.mongodb.net"])
    pw = _rand(rng, ALNUM, rng.randint(10, 20)) + rng.choice(["!", "#", "9", "x"])
    return f"{scheme}://{user}:", pw, f"@{host}/app"


PLANTED = {"email": email, "phone": phone, "ip_address": lambda r: rng_ip(r),
           "credit_card": credit_card, "iban": iban, "us_ssn": us_ssn, "secret": secret}


def rng_ip(rng):
    return ipv4(rng) if rng.random() < 0.7 else ipv6(rng)


# -- look-alikes that must stay ------------------------------------------------------------------

def lookalike(rng) -> tuple[str, str]:
    hexs = "0123456789abcdef"
    choices = [
        ("version", f"version {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}."
                    f"{rng.randint(0, 99)}"),
        ("version", f"==2.{rng.randint(0, 30)}.{rng.randint(0, 9)}.{rng.randint(1, 9)}"),
        ("version", f"Chrome/120.0.{rng.randint(1000, 6999)}.{rng.randint(10, 199)}"),
        ("version", f"v{rng.randint(1, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}."
                    f"{rng.randint(0, 9)}"),
        ("localhost", rng.choice(["127.0.0.1", "0.0.0.0", "::1", "localhost:8080",
                                  "127.0.0.1:5432"])),
        ("private_ip", rng.choice([f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                                   f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1",
                                   f"172.16.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                                   "255.255.255.0", "fe80::1"])),
        ("doc_ip", rng.choice([f"192.0.2.{rng.randint(1, 254)}",
                               f"198.51.100.{rng.randint(1, 254)}",
                               f"203.0.113.{rng.randint(1, 254)}",
                               f"2001:db8::{rng.randint(1, 0xffff):x}"])),
        ("public_dns", rng.choice(["8.8.8.8", "1.1.1.1", "8.8.4.4"])),
        ("doc_email", rng.choice(["user@example.com", "admin@example.org",
                                  f"{rng.choice(FIRST)}@example.net", "you@yourdomain.com",
                                  "john.doe@example.com", "noreply@test.invalid"])),
        ("placeholder_key", rng.choice([
            "YOUR_API_KEY", "sk-...xxxx", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AKIAIOSFODNN7EXAMPLE",
            "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "<your-token>", "sk-your-key-here",
            "postgres://user:password@localhost/db", "sk_test_1234567890abcdef12345678"])),
        ("uuid", "-".join(_rand(rng, hexs, n) for n in (8, 4, 4, 4, 12))),
        ("git_sha", _rand(rng, hexs, rng.choice([7, 40]))),
        ("hex_colour", "#" + _rand(rng, hexs, rng.choice([3, 6]))),
        ("date", rng.choice([f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                             f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/2024",
                             f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2022",
                             f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"])),
        ("number", rng.choice([str(rng.randint(10 ** 9, 10 ** 10)), "3.14159265358979",
                               f"{rng.randint(1, 999)},{rng.randint(100, 999)},000",
                               str(rng.randint(10 ** 12, 2 * 10 ** 12)), "4294967296",
                               f"{rng.randint(1, 9)}.{rng.randint(0, 9)}e-{rng.randint(3, 9)}",
                               "978-3-16-148410-0", "123-456-7890"])),
        ("test_card", rng.choice(["4242 4242 4242 4242", "4111111111111111",
                                  "5555 5555 5555 4444"])),
        ("mac", ":".join(_rand(rng, "0123456789ABCDEF", 2) for _ in range(6))),
    ]
    return rng.choice(choices)


# -- documents ------------------------------------------------------------------------------------

PROSE = [
    "Here is a short answer to your question about the deployment.",
    "The function below reads the configuration and connects to the service.",
    "Make sure the environment variables are set before you start the worker.",
    "You can adapt the timeout and the retry count to your network.",
    "This approach keeps the secrets out of the repository, which is good practice.",
    "In the table, each row is one customer and each column one attribute.",
    "Let me know if anything is unclear and I will explain it in more detail.",
]
PROSE_SLOTS = ["Please contact {v} for the details.", "My number is {v}, call me after six.",
               "The value was {v} according to the form.", "Send it to {v} before Friday.",
               "We saw requests from {v} in the logs.", "Use {v} when you fill in the form."]
CODE_SLOTS = ['    value = "{v}"', "VALUE={v}", '  "value": "{v}",', "curl -H 'X-Key: {v}' "
              "https://api.acme-corp.io", "INSERT INTO people VALUES ('{v}');",
              "# reach the owner at {v}", "{v} - - [10/Oct/2023:13:55:36] \"GET / HTTP/1.1\" 200"]


def make_document(rng: random.Random) -> dict:
    """One reply: prose sentences and a code block, with 0-3 planted values and 0-3
    look-alikes in prose or code slots."""
    parts: list[str] = []
    planted, lookalikes = [], []

    def put(template: str, value: str, tag: tuple[str, str] | None, before="", after=""):
        pre, post = template.split("{v}")
        start = sum(len(p) for p in parts) + len(pre) + len(before)
        parts.append(pre + before + value + after + post + "\n")
        if tag:
            (planted if tag[0] == "planted" else lookalikes).append(
                [start, start + len(value), tag[1]])

    items = [("planted", rng.choice(sorted(PLANTED))) for _ in range(rng.randint(0, 3))]
    items += [("lookalike", None) for _ in range(rng.randint(0, 3))]
    rng.shuffle(items)
    parts.append(rng.choice(PROSE) + "\n")
    in_code = False
    for role, kind in items:
        code = rng.random() < 0.5
        if code != in_code:
            parts.append("```python\n" if code else "```\n")
            in_code = code
        template = rng.choice(CODE_SLOTS if code else PROSE_SLOTS)
        if role == "lookalike":
            look_kind, value = lookalike(rng)
            put(template, value, ("lookalike", look_kind))
        elif kind == "secret" and rng.random() < 0.15:
            pre, pw, post = url_password(rng)
            put(template, pw, ("planted", "secret"), before=pre, after=post)
        else:
            put(template, PLANTED[kind](rng), ("planted", kind))
        if not code:
            parts.append(rng.choice(PROSE) + "\n")
    if in_code:
        parts.append("```\n")
    parts.append(rng.choice(PROSE))
    return {"text": "".join(parts), "planted": planted, "lookalikes": lookalikes}


def make_corpus(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [make_document(rng) for _ in range(n)]
