"""Prompt templates of the LLM stages: versioned YAML files (``curate/llm/templates/<task>.yaml``
for the packaged stages, beside a plugin's module for its own) or a user's own (``--template
FILE``, the same keys).

A template has a ``version`` (written into every generated row's provenance and into the
request cache key: edit the wording, bump the version) and one entry per step its stage
declares (``template_steps``: step -> the fields its user text may use), each with ``system``
(optional), ``user`` (a ``str.format`` text with the step's fields) and ``max_tokens``.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import CurateError

TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Step:
    system: str | None
    user: str | None
    max_tokens: int

    def messages(self, **fields: Any) -> list[dict[str, str]]:
        out = [{"role": "system", "content": self.system}] if self.system else []
        if self.user is not None:
            out.append({"role": "user", "content": self.user.format(**fields)})
        return out


@dataclass(frozen=True)
class Template:
    task: str
    version: str
    steps: dict[str, Step]
    file: str

    def __getitem__(self, step: str) -> Step:
        return self.steps[step]


def load_template(task: str, steps: dict[str, set[str]], file: str | Path | None = None, *,
                  directory: Path = TEMPLATE_DIR) -> Template:
    """``directory``/``task``.yaml, or the user's ``file``, checked against ``steps`` (step ->
    the fields its user text may use)."""
    path = Path(file) if file else directory / f"{task}.yaml"
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise CurateError(f"--template {where}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CurateError(f"--template {where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CurateError(f"--template {where}: expected a mapping with version and "
                          f"{', '.join(steps)}")
    version = data.get("version") or f"{path.stem}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    loaded = {}
    for step, allowed in steps.items():
        spec = data.get(step)
        if not isinstance(spec, dict):
            raise CurateError(f"--template {where}: {step}: missing; a {task} template has "
                              f"{', '.join(steps)}, each with system, user, max_tokens")
        unknown = set(spec) - {"system", "user", "max_tokens"}
        if unknown:
            raise CurateError(f"--template {where}: {step}: unknown keys {sorted(unknown)} "
                              "(expected system, user, max_tokens)")
        user = spec.get("user")
        if allowed and not isinstance(user, str):
            raise CurateError(f"--template {where}: {step}.user: expected a text using "
                              f"{', '.join('{' + f + '}' for f in sorted(allowed))}")
        if isinstance(user, str):
            used = {name for _, name, _, _ in string.Formatter().parse(user) if name}
            if used - allowed:
                raise CurateError(f"--template {where}: {step}.user uses "
                                  f"{sorted(used - allowed)}; it may use {sorted(allowed)}")
        max_tokens = spec.get("max_tokens", 256)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise CurateError(f"--template {where}: {step}.max_tokens: expected a positive "
                              "integer")
        loaded[step] = Step(spec.get("system"), user, max_tokens)
    return Template(task, str(version), loaded, where)
