"""A run's funnel per named input, read from its manifest: the ``datasets`` counts that
:mod:`curate.accounting` writes into each stage's entry, totalled over the run (for
``curate show``, the report and the dataset card)."""

from __future__ import annotations

from typing import Any

DATASETS = "datasets"  # the per-input counts in a stage's manifest entry
TOKENS = "tokens"


def input_totals(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per named input over the whole run: name, licence, rows read, rows out,
    tokens out (when counted), dropped by reason; [] for a run without named inputs."""
    stages = [s for s in manifest.get("stages") or [] if DATASETS in s]
    if not stages:
        return []
    licences = {}
    for spec in (manifest.get("recipe") or {}).get("inputs") or []:
        licences[spec["name"]] = spec.get("license")
    first, last = stages[0][DATASETS], stages[-1][DATASETS]
    out = []
    for name in dict.fromkeys([*licences, *first, *last]):
        dropped: dict[str, int] = {}
        for s in stages:
            for reason, n in s[DATASETS].get(name, {}).get("dropped", {}).items():
                dropped[reason] = dropped.get(reason, 0) + n
        row = {"name": name, "license": licences.get(name),
               "rows_in": first.get(name, {}).get("rows_in", 0),
               "rows_out": last.get(name, {}).get("rows_out", 0), "dropped": dropped}
        tokens = next((s[DATASETS][name][TOKENS] for s in reversed(stages)
                       if TOKENS in s[DATASETS].get(name, {})), None)
        if tokens is not None:
            row[TOKENS] = tokens
        added = sum(s[DATASETS].get(name, {}).get("added", 0) for s in stages)
        if added:
            row["added"] = added
        out.append(row)
    return out
