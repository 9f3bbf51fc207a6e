"""Listing the stages (every CLI command does) loads no model library: those are imported
when a stage runs."""

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "sentence_transformers", "detoxify", "numba", "ray")


def test_discovering_the_stages_imports_no_heavy_library():
    code = ("import json, sys; from curate.stages.registry import discover, stage_ids; "
            "discover(); print(json.dumps([sorted(stage_ids()), "
            f"[m for m in {HEAVY!r} if m in sys.modules]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    ids, loaded = json.loads(out)
    assert {"decontam.ngram", "judge.llm", "judge.pairs", "generate.responses"} <= set(ids)
    assert loaded == []
