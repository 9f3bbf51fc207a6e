"""Personal data and secrets in every turn: redact, drop or mark (stage ``pii``)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator

from ..errors import StageError
from ..pii import TYPES, redact
from ..pii.detect import detectors_of
from ..pii.patterns import GATES
from .base import RowScorer, StageContext, StageOptions, StageResult

PiiType = Literal["secret", "credit_card", "iban", "us_ssn", "email", "ip_address", "phone"]
TURN_COLUMNS = ("messages", "prompt", "chosen", "rejected")
_ROW = "__pii_row"
_NEW = "__pii_new"


class PiiOptions(StageOptions):
    """Options of ``pii``."""

    action: Literal["redact", "drop", "mark"] = "redact"
    """What to do with a record that holds personal data or secrets: ``redact`` replaces each
    value in every turn (prompt, reply, chosen, rejected) with its type's placeholder
    (``<EMAIL>``, ``<PHONE>``, ``<IP_ADDRESS>``, ``<CREDIT_CARD>``, ``<IBAN>``, ``<US_SSN>``,
    ``<SECRET>``) and keeps the record; ``drop`` removes it (reason ``pii``); ``mark`` keeps it
    unchanged. All three write ``pii_types``."""

    types: list[PiiType] = Field(default_factory=lambda: list(TYPES))
    """The kinds looked for (comma-separated on the command line): secret (AWS, GitHub, GitLab,
    Slack, Stripe, OpenAI, Hugging Face and Google keys, JWTs, private keys, passwords in URLs),
    credit_card (Luhn and issuer checked), iban (mod-97 checked), us_ssn, email, ip_address
    (public IPv4 and IPv6), phone. Documentation and local addresses (example.com, 192.0.2.x,
    127.0.0.1, ::1), private networks, version numbers, placeholders such as YOUR_API_KEY,
    published test card numbers, UUIDs, hashes, dates and plain numbers are not found."""

    @field_validator("types", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)) and not value:
            raise ValueError("name at least one type")
        return value


class Pii(RowScorer):
    """Finds personal data and secrets in every turn of a record, and redacts, drops or marks it.

    Regular expressions find candidates and checks decide (checksums, number plans, public
    addresses only, placeholder shapes; :mod:`curate.pii`). ``redact`` rewrites only the turn
    columns (``pii_types`` says which records changed); ``meta`` and ``source`` are not looked
    at. What counts and what does not: README, "Personal data and secrets".

    Input columns:
        - kind, messages / prompt, chosen, rejected (list[{role, content}]): the records.

    Output columns:
        - messages, prompt, chosen, rejected: with placeholders, for ``action: redact``.
        - pii_types (list[str]): the kinds found in the record (before redaction), in the
          order of :data:`curate.pii.TYPES`; empty when none.
        - pii_counts (list[int]): how many values of each of ``pii_types``.
        - drop_reason (str): ``pii``, on records dropped with ``action: drop``.

    Stats:
        ``{"thresholds": ..., "failures": {"pii": n} (drop only), "action": ...,
        "records_with_pii": n, "records": {type: n}, "values": {type: n}}``: records holding
        each type and values found per type, over all records of the stage's input.

    Examples:
        ```python
        from curate.stages.pii import Pii

        result = Pii({"action": "redact"}).apply(df)
        result.kept["messages"]        # "... mail <EMAIL> or call <PHONE> ..."
        result.stats["values"]         # {"email": 3, "phone": 1}
        ```

        In a recipe, and on the command line:

        ```yaml
        stages:
          - use: pii
            with: {action: redact, types: [email, phone, secret]}
        ```

            curate filter data.jsonl -o out --pii drop --pii-types secret,credit_card
    """

    id = "pii"
    Options = PiiOptions
    summary = "Find e-mails, phones, IPs, cards, IBANs, SSNs and secrets; redact, drop or mark."
    writes = ("pii_types", "pii_counts")
    report_section = "pii"
    command, cli_name, cli_switch, cli_order = "filter", "pii", "action", 50

    options: PiiOptions

    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        clash = [c for c in self.writes if c in df.columns]
        if clash:
            raise StageError(f"{self.id}: the input already has {', '.join(clash)}; a dataset "
                             "is checked once (drop those columns to check it again)")

    def score(self, batch: pl.DataFrame, ctx: StageContext | None = None) -> pl.DataFrame:
        types = [t for t in TYPES if t in self.options.types]
        found: dict[int, Counter] = {}
        for column in TURN_COLUMNS:
            if column in batch.columns:
                batch = self._scan_column(batch, column, types, found)
        rows = [found.get(i) or Counter() for i in range(batch.height)]
        names = [[t for t in types if c[t]] for c in rows]
        return batch.with_columns(
            pl.Series("pii_types", names, dtype=pl.List(pl.String)),
            pl.Series("pii_counts", [[c[t] for t in n] for c, n in zip(rows, names)],
                      dtype=pl.List(pl.Int64)))

    def _scan_column(self, batch: pl.DataFrame, column: str, types: list[str],
                     found: dict[int, Counter]) -> pl.DataFrame:
        """Counts what ``column``'s turns hold into ``found`` (by row); with ``redact``, the
        batch with those turns rewritten. Each detector runs in Python only on the turns its
        gate (a Rust regex, over the whole batch at once) matches."""
        names = detectors_of(types)
        turns = batch.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW),
            pl.col(column).list.eval(pl.element().struct.field("content")).alias("text"),
        ).with_columns(pl.int_ranges(pl.col("text").list.len()).alias("turn")) \
            .explode("text", "turn").drop_nulls("text")
        gates = turns.select(pl.col(_ROW), pl.col("turn"), pl.col("text"),
                             *[pl.col("text").str.contains(GATES[n]).alias(n) for n in names])
        gates = gates.filter(pl.any_horizontal(names))
        if gates.height == 0:
            return batch
        rewritten: dict[int, dict[int, str]] = {}
        for row, turn, text, *fired in gates.iter_rows():
            new, counts = redact(text, types, [n for n, f in zip(names, fired) if f])
            if counts:
                found.setdefault(row, Counter()).update(counts)
                rewritten.setdefault(row, {})[turn] = new
        if self.options.action != "redact" or not rewritten:
            return batch
        rows = list(rewritten)
        changed = [[{**t, "content": rewritten[row].get(i, t["content"])}
                    for i, t in enumerate(old)]
                   for row, old in zip(rows, batch[column].gather(rows).to_list())]
        replaced = pl.DataFrame({_ROW: pl.Series(rows, dtype=pl.UInt32),
                                 _NEW: pl.Series(changed, dtype=batch.schema[column])})
        return (batch.with_row_index(_ROW)
                .join(replaced, on=_ROW, how="left", maintain_order="left")
                .with_columns(pl.coalesce(_NEW, column).alias(column))
                .drop(_ROW, _NEW))

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        """``pii`` for a record with any finding, with ``action: drop``."""
        if self.options.action != "drop":
            return []
        return [("pii", pl.col("pii_types").list.len() > 0)]

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        flat = scored.select("pii_types", "pii_counts").explode("pii_types", "pii_counts") \
            .drop_nulls()
        per_type = flat.group_by("pii_types").agg(pl.len().alias("records"),
                                                  pl.col("pii_counts").sum().alias("values"))
        records = {t: n for t, n in zip(per_type["pii_types"], per_type["records"])}
        values = {t: n for t, n in zip(per_type["pii_types"], per_type["values"])}
        order = [t for t in TYPES if t in records]
        return {"action": self.options.action,
                "records_with_pii": int((scored["pii_types"].list.len() > 0).sum()),
                "records": {t: int(records[t]) for t in order},
                "values": {t: int(values[t]) for t in order}}


def pii(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``pii`` stage; ``options`` as in :class:`PiiOptions`."""
    return Pii(PiiOptions(**options)).apply(df, StageContext(name=Pii.id))
