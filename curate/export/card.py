"""The dataset card (README.md) of an export: Hub metadata in YAML front matter, then provenance.

``run_info`` is a plain dict; every key is optional:

    name      str                         the dataset's title (pretty_name)
    license   str                         SPDX-style id for the Hub ("other" when absent)
    language  list[str]                   (["en"] when absent)
    repo_id   str                         used in the loading snippet
    inputs    [{"path", "sha256"}]        input files and their hashes
    stages    [{"name", "rows_in", "rows_out", "dropped": {reason: n}, ...}]
    export    {"rows_in", "rows_out", "dropped", "seed", "test_size", "validation_size", ...}
    versions  {package: version}
    recipe    {...}                       rendered as YAML with secret-looking values redacted
    seed      int

Only these keys are rendered, and nothing is read from the environment.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from .split import SPLITS
from .targets import get_target

SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
                   (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                   (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"),
                   (1_000_000_000_000, "100B<n<1T"))
TAGS = {"sft": ["curate", "trl", "sft"], "dpo": ["curate", "trl", "dpo", "preference"]}
_SECRET_WORDS = {"token", "secret", "password", "passwd", "pwd", "apikey", "credential",
                 "credentials", "auth", "authorization", "cookie"}
_SECRET_PAIRS = re.compile(r"(api|access|private|secret)[_\-. ]?key", re.I)
_SECRET_VALUE = re.compile(
    r"^(hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{20,})$")
REDACTED = "<redacted>"

_COLUMNS = {
    "sft": "- `id`: stable record id\n"
           "- `messages`: the conversation, a list of `{role, content}` turns ending with an "
           "assistant turn",
    "dpo": "- `id`: stable record id\n"
           "- `prompt`: the conversation so far, a list of `{role, content}` turns ending with a "
           "user turn\n"
           "- `chosen`: the preferred reply (assistant turns)\n"
           "- `rejected`: the dispreferred reply (assistant turns)",
}


def size_category(n: int) -> str:
    """The Hub's size category for ``n`` rows."""
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "n>1T"


def redact(value: Any) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if _is_secret(k) and v is not None else redact(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.match(value.strip()):
        return REDACTED
    return value


def _is_secret(key: Any) -> bool:
    """hf_token, api_key, password, ... (but not max_tokens)."""
    if not isinstance(key, str):
        return False
    words = re.split(r"[_\-. ]+", key.lower())
    return bool(_SECRET_WORDS.intersection(words)) or bool(_SECRET_PAIRS.search(key))


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _dropped(dropped: dict | None) -> str:
    if not dropped:
        return "-"
    return ", ".join(f"{k}: {v}" for k, v in dropped.items())


def front_matter(*, target: str, counts: dict[str, int], run_info: dict) -> dict:
    task = get_target(target).task
    splits = [s for s in SPLITS if counts.get(s)]
    meta: dict[str, Any] = {}
    if run_info.get("name"):
        meta["pretty_name"] = str(run_info["name"])
    meta.update({
        "license": str(run_info.get("license") or "other"),
        "language": list(run_info.get("language") or ["en"]),
        "task_categories": ["text-generation"],
        "size_categories": [size_category(sum(counts.values()))],
        "tags": list(TAGS[task]),
        "configs": [{"config_name": "default",
                     "data_files": [{"split": s, "path": f"{s}.parquet"} for s in splits]}],
    })
    return meta


def render_card(*, target: str, counts: dict[str, int], run_info: dict | None = None) -> str:
    """README.md for an export of ``target`` with ``counts`` rows per split."""
    info = run_info or {}
    t = get_target(target)
    meta = front_matter(target=target, counts=counts, run_info=info)
    name = info.get("name") or f"curate {target} export"
    repo = info.get("repo_id") or "path/to/this/folder"
    splits = [s for s in SPLITS if counts.get(s)]
    total = sum(counts.values())
    trainer = "SFTTrainer" if t.task == "sft" else "DPOTrainer"
    parts = [
        "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---",
        f"# {name}",
        f"{total} rows of {t.description}, in TRL's conversational format, exported by "
        f"curate with target `{target}`. Rows that share a normalised "
        "prompt or a near-duplicate cluster are always in the same split.",
        "## Columns\n\n" + _COLUMNS[t.task],
        "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
        f"ds = load_dataset({json.dumps(repo)})\n"
        f"# or: load_dataset(\"parquet\", data_files={{\"train\": \"train.parquet\"}})\n"
        f"# then: trl.{trainer}(..., train_dataset=ds[\"train\"])\n```",
        "## Splits\n\n" + _table(["split", "rows"], [[s, counts[s]] for s in splits]
                                 + [["total", total]]),
    ]
    parts += _provenance(info)
    return "\n\n".join(parts) + "\n"


def _provenance(info: dict) -> list[str]:
    parts = []
    stages = list(info.get("stages") or [])
    export = info.get("export")
    rows = [[s.get("name", "?"), s.get("rows_in", ""), s.get("rows_out", ""),
             _dropped(s.get("dropped"))] for s in stages]
    if export:
        rows.append([f"export ({export.get('target', 'export')})", export.get("rows_in", ""),
                     export.get("rows_out", ""), _dropped(export.get("dropped"))])
    if rows:
        parts.append("## Pipeline\n\nRows in and out of each stage, and why rows were dropped.\n\n"
                     + _table(["stage", "rows in", "rows out", "dropped"], rows))
    given = {"seed": info.get("seed"), **(export or {})}
    settings = [[k, given[k]] for k in ("seed", "test_size", "validation_size", "stratify")
                if given.get(k) is not None]
    if settings:
        parts.append("## Split settings\n\n" + _table(["setting", "value"], settings))
    inputs = info.get("inputs") or []
    if inputs:
        parts.append("## Inputs\n\n" + _table(
            ["path", "sha256"], [[f"`{i.get('path', '?')}`", f"`{i.get('sha256', '')}`"]
                                 for i in inputs]))
    versions = info.get("versions") or {}
    if versions:
        parts.append("## Versions\n\n" + _table(["package", "version"],
                                                [[k, v] for k, v in versions.items()]))
    recipe = info.get("recipe")
    if recipe:
        parts.append("## Recipe\n\n```yaml\n" + yaml.safe_dump(
            redact(recipe), sort_keys=False, allow_unicode=True).rstrip() + "\n```")
    return parts
