"""The dataset card (README.md) of an export: Hub metadata in YAML front matter, then provenance.

``run_info`` is a plain dict; every key is optional:

    name      str                         the dataset's title (pretty_name)
    license   str                         SPDX-style id for the Hub ("other" when absent)
    language  list[str]                   (when absent: the languages a lang.id stage kept, else ["en"])
    repo_id   str                         used in the loading snippet
    inputs    [{"path", "sha256"}]        input files and their hashes
    stages    [{"name", "rows_in", "rows_out", "dropped": {reason: n}, ...}]
    export    {"rows_in", "rows_out", "dropped", "seed", "test_size", "validation_size", ...}
    versions  {package: version}
    recipe    {...}                       rendered as YAML with secret-looking values redacted
    seed      int
    run_dir   str                         the run folder, to read removed examples from
    removed_examples [{"stage", "reason", "id", "text", "masked"}]   (see examples.py)
    agreement dict | float                label agreement (also found in stages' stats)
    pair_sources {label: n}               exported pairs per source (judge or annotators),
                                          from curate.judge.sources.pair_sources

Stage entries may also hold ``thresholds`` and ``stats`` (a manifest's do): thresholds are
listed per stage, and the scalar stats (models, scorers, versions, counts) per stage; a bias
audit's flagged groups (``stats.run.flagged`` of ``safety.bias``) get a table of their own.

Only these keys are rendered, and nothing is read from the environment.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ..judge.sources import CARD_INTRO as PAIRS_INTRO
from ..report.sections import card_parts
from .card_inputs import license_of, sources_part
from .markdown import table as _table
from .examples import render_examples
from .languages import kept_languages
from .split import SPLITS
from .targets import TASK_TAGS, get_target

SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
                   (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                   (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"),
                   (1_000_000_000_000, "100B<n<1T"))
_SECRET_WORDS = {"token", "secret", "password", "passwd", "pwd", "apikey", "credential",
                 "credentials", "auth", "authorization", "cookie"}
_SECRET_PAIRS = re.compile(r"(api|access|private|secret)[_\-. ]?key", re.I)
_SECRET_VALUE = re.compile(
    r"^(hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{20,})$")
REDACTED = "<redacted>"

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


def _dropped(dropped: dict | None) -> str:
    if not dropped:
        return "-"
    return ", ".join(f"{k}: {v}" for k, v in dropped.items())


def _options(run_info: dict) -> dict:
    return dict((run_info.get("export") or {}).get("options") or {})


def _data_ext(target: str, run_info: dict) -> str:
    formats = (run_info.get("export") or {}).get("formats") or get_target(target).formats
    return formats[0]


def front_matter(*, target: str, counts: dict[str, int], run_info: dict) -> dict:
    t = get_target(target)
    opts = t.resolve(_options(run_info))
    ext = _data_ext(target, run_info)
    splits = [s for s in SPLITS if counts.get(s)]
    meta: dict[str, Any] = {}
    if run_info.get("name"):
        meta["pretty_name"] = str(run_info["name"])
    meta.update({
        "license": str(run_info.get("license") or license_of(run_info) or "other"),
        "language": list(run_info.get("language") or kept_languages(run_info) or ["en"]),
        "task_categories": ["text-generation"],
        "size_categories": [size_category(sum(counts.values()))],
        "tags": ["curate", *t.tags, *TASK_TAGS[t.task(opts)]],
        "configs": [{"config_name": "default",
                     "data_files": [{"split": s, "path": f"{s}.{ext}"} for s in splits]}],
    })
    return meta


def render_card(*, target: str, counts: dict[str, int], run_info: dict | None = None) -> str:
    """README.md for an export of ``target`` with ``counts`` rows per split."""
    info = run_info or {}
    t = get_target(target)
    opts = t.resolve(_options(info))
    meta = front_matter(target=target, counts=counts, run_info=info)
    ext = _data_ext(target, info)
    name = info.get("name") or f"curate {target} export"
    repo = info.get("repo_id") or "path/to/this/folder"
    splits = [s for s in SPLITS if counts.get(s)]
    total = sum(counts.values())
    builder = "json" if ext == "jsonl" else ext
    columns = "\n".join(f"- `{c}`: {doc}" for c, (_, doc) in t.columns(opts).items())
    parts = [
        "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---",
        f"# {name}",
        f"{total} rows of {t.description}, exported by curate with target `{target}`"
        + (f" ({', '.join(f'{k}: {v}' for k, v in opts.items())})" if opts else "")
        + ". Every row was checked against the target's format and rendered through a chat "
        "template before it was written. Rows that share a normalised prompt, a near-duplicate "
        "cluster or a label group are always in the same split.",
        "## Columns\n\n" + columns,
        "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
        f"ds = load_dataset({json.dumps(repo)})\n"
        f"# or: load_dataset(\"{builder}\", data_files={{\"train\": \"train.{ext}\"}})\n"
        f"{t.usage(opts)}\n```"
        + ("" if info.get("repo_id") else
           "\n\nA local folder is cached by `datasets` under its folder name alone: after "
           "exporting again into a folder of the same name, load it with "
           "`download_mode=\"force_redownload\"` (or with `data_files=` as above, which is "
           "cached by content)."),
        "## Splits\n\n" + _table(["split", "rows"], [[s, counts[s]] for s in splits]
                                 + [["total", total]]),
    ]
    parts += _provenance(info)
    return "\n\n".join(parts) + "\n"


def _scalars(stats: Any) -> list[tuple[str, Any]]:
    """The short scalar entries of a stage's stats (models, scorers, versions, counts)."""
    if not isinstance(stats, dict):
        return []
    out = []
    for k, v in stats.items():
        if isinstance(v, (str, int, float, bool)) and len(str(v)) <= 120:
            out.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, str) for x in v) and len(v) <= 8:
            out.append((k, ", ".join(v)))
    return out


def _flat(prefix: str, value: Any, depth: int = 2) -> list[tuple[str, Any]]:
    """Scalar leaves of nested dicts as ``a.b`` names (lists are left out)."""
    if isinstance(value, dict):
        if depth == 0:
            return []
        return [kv for k, v in value.items()
                for kv in _flat(f"{prefix}.{k}" if prefix else str(k), v, depth - 1)]
    return [] if isinstance(value, list) else [(prefix, value)]


def _read_as(path: str | None, formats: dict, maps: dict) -> str:
    """The format an input file was read as, with its column map (``columns `prompt=q,...```)."""
    if path in maps:
        return f"{formats.get(path, 'columns')} `{maps[path]}`"
    return formats.get(path, "")


def _agreement(info: dict) -> list[list[Any]]:
    """Label agreement from the run (``agreement``) and from stages' stats (keys named like
    agreement, kappa or alpha), e.g. label.pull's per-question Krippendorff's alpha."""
    top = info.get("agreement")
    rows = [] if top is None else [["run", k or "agreement", v] for k, v in _flat("", top)]
    for s in info.get("stages") or []:
        stats = s.get("stats") if isinstance(s.get("stats"), dict) else {}
        for k, v in stats.items():
            if "agreement" in k.lower() or k.lower() in ("kappa", "alpha"):
                rows += [[s.get("name", "?"), name, val] for name, val in _flat(k, v)]
    return rows


def _provenance(info: dict) -> list[str]:
    parts = []
    stages = list(info.get("stages") or [])
    export = info.get("export")
    rows = [[s.get("name", "?"), s.get("rows_in", ""),
             f"{s.get('rows_out', '')} ({s['added']} made by splitting rows)"
             if s.get("added") else s.get("rows_out", ""),
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
    checks = [[k, ", ".join(given[k]) if isinstance(given[k], list) else given[k]]
              for k in ("chat_template", "max_tokens", "tokenizer", "formats")
              if given.get(k) is not None]
    if checks:
        parts.append("## Export checks\n\n" + _table(["setting", "value"], checks))
    thresholds = [[s.get("name", "?"), k, "-" if v is None else v] for s in stages
                  for k, v in (s.get("thresholds") or {}).items()]
    if thresholds:
        parts.append("## Thresholds\n\n" + _table(["stage", "setting", "value"], thresholds))
    models = [[s.get("name", "?"), k, v] for s in stages for k, v in _scalars(s.get("stats"))
              if k not in (s.get("thresholds") or {})]
    if models:
        parts.append("## Models and stage statistics\n\n"
                     + _table(["stage", "name", "value"], models))

    parts += card_parts(stages)  # what each stage's report module says for the card
    sources = info.get("pair_sources")
    if sources:
        parts.append(f"## Preference pairs\n\n{PAIRS_INTRO}\n\n" + _table(
            ["source", "pairs"], [[k, v] for k, v in sources.items()]))
    agreement = _agreement(info)
    if agreement:
        parts.append("## Label agreement\n\n" + _table(["where", "measure", "value"], agreement))

    sources_text = sources_part(info)
    if sources_text:
        parts.append(sources_text)
    inputs = info.get("inputs") or []
    if inputs:
        read = (stages[0].get("stats") or {}) if stages else {}
        formats, maps = read.get("formats") or {}, read.get("columns") or {}
        rows = [[(f"{i['dataset']}: " if i.get("dataset") else "") + f"`{i.get('path', '?')}`",
                 f"`{i.get('sha256', '')}`"] for i in inputs]
        if formats:  # what each file was read as, with its column map
            rows = [[r[0], _read_as(i.get("path"), formats, maps), r[1]]
                    for r, i in zip(rows, inputs)]
        parts.append("## Inputs\n\n" + _table(
            ["path", "read as", "sha256"] if formats else ["path", "sha256"], rows))
    versions = info.get("versions") or {}
    if versions:
        parts.append("## Versions\n\n" + _table(["package", "version"],
                                                [[k, v] for k, v in versions.items()]))
    recipe = info.get("recipe")
    if recipe:
        parts.append("## Recipe\n\n```yaml\n" + yaml.safe_dump(
            redact(recipe), sort_keys=False, allow_unicode=True).rstrip() + "\n```")
    if info.get("removed_examples"):
        parts.append(render_examples(info["removed_examples"]))
    return parts
