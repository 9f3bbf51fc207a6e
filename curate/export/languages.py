"""The languages of an export, for its card: those a ``lang.id`` stage of the run kept (the
Hub's ``language:`` metadata) and a line with what it kept and dropped per language."""

from __future__ import annotations

from typing import Any

UNDETERMINED = "und"  # records without letters (see curate.stages.lang_id)


def _lang_stage(info: dict) -> dict[str, Any] | None:
    """The stats of the run's last ``lang.id`` stage, if it has one."""
    for stage in reversed(list(info.get("stages") or [])):
        if stage.get("use") == "lang.id" and isinstance(stage.get("stats"), dict):
            return stage["stats"]
    return None


def kept_languages(info: dict) -> list[str]:
    """The languages a ``lang.id`` stage kept, most records first (none without one)."""
    stats = _lang_stage(info) or {}
    return [lang for lang in stats.get("kept_languages") or [] if lang != UNDETERMINED]


def languages_line(info: dict) -> str | None:
    """``Languages kept (lang.id ...): en (802), de (3); dropped: fr (2).``, or None."""
    stats = _lang_stage(info)
    if stats is None:
        return None
    counts = stats.get("languages") or {}

    def listed(key: str) -> str:
        return ", ".join(f"{lang} ({c[key]})" for lang, c in counts.items() if c.get(key)) or "none"

    keep = (stats.get("thresholds") or {}).get("keep")
    detector = (stats.get("detector") or {}).get("detector", "lang.id")
    return (f"Languages kept ({detector}; asked for: {', '.join(keep) if keep else 'any'}): "
            f"{listed('kept')}; dropped: {listed('dropped')}. Records that mix languages: "
            f"{stats.get('mixed', 0)}.")
