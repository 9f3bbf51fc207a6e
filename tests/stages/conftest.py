"""Helpers to build small record frames for stage tests."""

from __future__ import annotations

import polars as pl
import pytest

from curate.records import assign_ids, records_to_frame


class Records:
    """Builds SFT / preference record dicts and frames in the unified schema."""

    @staticmethod
    def turns(*pairs: tuple[str, str]) -> list[dict]:
        return [{"role": role, "content": content} for role, content in pairs]

    def sft(self, *pairs: tuple[str, str], id: str | None = None, source: str = "test",
            **extra) -> dict:
        """An SFT record whose messages are the ``(role, content)`` pairs."""
        return {"kind": "sft", "id": id, "source": source, "messages": self.turns(*pairs), **extra}

    def qa(self, question: str, answer: str, **kw) -> dict:
        """An SFT record with one user turn and one assistant turn."""
        return self.sft(("user", question), ("assistant", answer), **kw)

    def pair(self, prompt: str | list, chosen: str | list, rejected: str | list, *,
             id: str | None = None, source: str = "test", **extra) -> dict:
        """A preference record; strings become a user prompt / single assistant replies."""
        def conv(value, role):
            return self.turns((role, value)) if isinstance(value, str) else self.turns(*value)
        return {"kind": "preference", "id": id, "source": source,
                "prompt": conv(prompt, "user"), "chosen": conv(chosen, "assistant"),
                "rejected": conv(rejected, "assistant"), **extra}

    @staticmethod
    def frame(*records: dict) -> pl.DataFrame:
        """A frame in RECORD_SCHEMA; records without an id get a stable one."""
        recs = [dict(r) for r in records]
        for r in recs:
            if r.get("id") is None:
                r.pop("id", None)
        return records_to_frame(assign_ids(recs))


@pytest.fixture
def rec() -> Records:
    return Records()


# The tiny Detoxify checkpoint fixtures of tests/fixtures_detoxify.py (safety.* stage tests).
def _detoxify_fixtures():
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures_detoxify.py"
    return runpy.run_path(str(path))


_fixtures = _detoxify_fixtures()
tiny_detoxify, biased_detoxify = _fixtures["tiny_detoxify"], _fixtures["biased_detoxify"]
