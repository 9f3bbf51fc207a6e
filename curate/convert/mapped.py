"""Rows read through a column map (:mod:`curate.convert.columns`) -> records.

Errors name the input's own field (the map's source, ``answer`` or ``conversation.0.text``) and
the target it is read as. A prompt or reply is a string (one user or assistant turn) or a list of
turns (``{role, content}`` or ShareGPT's ``{from, value}``), a number its text; ``messages``
and ``history`` may also be JSON text (a CSV cell). ``history`` is ``[[query, answer], ...]``
or a list of turns.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import RowError
from . import hh_rlhf, openai, sharegpt
from .alpaca import history as pair_history
from .columns import MISSING_KEY, ColumnMap
from .common import messages, number, preference, sft, text, turn

NAME = "columns"
ROLES = {**sharegpt.ROLES, **openai.ROLES}
ROLE_KEYS, CONTENT_KEYS = ("role", "from"), ("content", "value", "text")


class Mapped:
    """The format of the files read through one column map (``NAME`` is ``columns``)."""

    NAME = NAME

    def __init__(self, columns: ColumnMap, *, given: bool = True):
        self.columns, self.given = columns, given
        self.KIND = "sft" if columns.kind == "docs" else columns.kind

    def matches(self, keys: set[str]) -> bool:
        """A given map reads every row; a detected one the rows that have its fields."""
        return self.given or all(src.split(".", 1)[0] in keys or src in keys
                                 for _, src in self.columns.items)

    def row(self, data: dict) -> dict:
        return self.columns.row(data)

    def _src(self, target: str) -> str:
        return self.columns.source(target)

    def need(self, row: dict, target: str) -> Any:
        value = row.get(target)
        if value is None:
            why = row.get(MISSING_KEY, {}).get(target) or "null"
            raise RowError("missing_field", f"{why}; read as {target}", field=self._src(target))
        return value

    def text(self, row: dict) -> str:
        """The text of a ``text`` row (the docs path)."""
        return text(self.need(row, "text"), self._src("text"))

    def _turns(self, value: Any, target: str, role: str) -> list[dict]:
        src = self._src(target)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # a numeric answer column
        if isinstance(value, str):
            return [turn(role, text(value, src))]
        return messages(value, src, ROLES, role_keys=ROLE_KEYS, content_keys=CONTENT_KEYS,
                        call_roles=("function_call",))

    def _list(self, value: Any, target: str) -> Any:
        """JSON text of a list (a CSV cell) parsed; anything else as it is."""
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise RowError("invalid_json", f"invalid JSON: {exc.msg} at column {exc.colno}",
                               field=self._src(target)) from None
        return value

    def _context(self, row: dict) -> list[dict]:
        """The system turn and the history before the prompt."""
        out = []
        system = row.get("system")
        if system is not None and not (isinstance(system, str) and not system.strip()):
            out.append(turn("system", text(system, self._src("system"))))
        hist = self._list(row.get("history"), "history")
        if isinstance(hist, list) and hist and all(isinstance(t, dict) for t in hist):
            out += self._turns(hist, "history", "user")
        else:
            out += pair_history(hist, self._src("history"))
        return out

    def to_records(self, row: dict) -> list[dict]:
        shape, meta = self.columns.shape_index, dict(row["meta"])
        if shape == 0:  # prompt + response
            msgs = self._context(row) + self._turns(self.need(row, "prompt"), "prompt", "user")
            msgs += self._turns(self.need(row, "response"), "response", "assistant")
            return [sft(msgs, self._src("response"), meta)]
        if shape == 3:  # messages
            msgs = self._turns(self._list(self.need(row, "messages"), "messages"), "messages",
                               "user")
            context = self._context(row)
            if context and msgs[0]["role"] != "system":
                msgs = context + msgs
            return [sft(msgs, self._src("messages"), meta)]
        scores = {k: number(row.get(k), self._src(k)) for k in ("chosen_score", "rejected_score")}
        if shape == 2:  # chosen + rejected, whole conversations
            rec = hh_rlhf.pair(self.need(row, "chosen"), self.need(row, "rejected"), meta,
                               fields=(self._src("chosen"), self._src("rejected")))
            return [{**rec, **scores}]
        prompt = self._context(row) + self._turns(self.need(row, "prompt"), "prompt", "user")
        chosen = self._turns(self.need(row, "chosen"), "chosen", "assistant")
        rejected = self._turns(self.need(row, "rejected"), "rejected", "assistant")
        return [preference(prompt, chosen, rejected, meta, **scores, fields=(
            self._src("prompt"), self._src("chosen"), self._src("rejected")))]
