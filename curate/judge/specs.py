"""Which judges judge: ``--judge`` specs (``local``, ``local:PATH_OR_NAME``,
``openai:MODEL@BASE_URL``) and the names they go by in the judge columns and the manifest.

Examples:
    >>> [j.name for j in parse_judges(["local", "openai:gpt-x@http://127.0.0.1:8000/v1"])]
    ['local:smollm2-135m-instruct', 'openai:gpt-x']
"""

from __future__ import annotations

from ..errors import CurateError
from ..llm.backends import BackendSpec as JudgeSpec
from ..llm.models import PACKAGED

SPEC_FORMS = "local, local:PATH_OR_NAME or openai:MODEL@BASE_URL"


def _one(spec: str) -> tuple[str, str | None, str | None]:
    spec = spec.strip()
    llm, _, rest = spec.partition(":")
    if llm == "local":
        return "local", rest or None, None
    if llm == "openai":
        model, at, url = rest.partition("@")
        if not model or not at or not url:
            raise CurateError(f"judge {spec!r}: expected openai:MODEL@BASE_URL, e.g. "
                              "openai:my-model@http://127.0.0.1:8000/v1")
        return "openai", model, url
    raise CurateError(f"judge {spec!r}: expected {SPEC_FORMS}")


def parse_judges(specs: list[str]) -> list[JudgeSpec]:
    """The judges of ``specs``; names are ``backend:model``, made unique with ``#2``, ..."""
    out: list[JudgeSpec] = []
    seen: dict[str, int] = {}
    for spec in specs:
        llm, model, url = _one(spec)
        name = f"{llm}:{model or PACKAGED}"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"
        out.append(JudgeSpec(llm, model, url, name))
    if not out:
        raise CurateError(f"no judge given; expected one or more of {SPEC_FORMS}")
    return out


def spec_of(llm: str, model: str | None, base_url: str | None) -> str:
    """The spec text of a single judge given as ``llm``/``model``/``base_url`` options."""
    if llm == "openai":
        return f"openai:{model or ''}@{base_url or ''}"
    return f"local:{model}" if model else "local"
