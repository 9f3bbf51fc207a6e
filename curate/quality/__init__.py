"""Heuristic quality rules: the per-record signals behind the ``quality.rules`` stage."""
