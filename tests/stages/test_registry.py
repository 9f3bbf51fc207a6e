"""Listing the stages (every CLI command does) loads no model library: those are imported
when a stage runs."""

import json
import subprocess
import sys

import pytest

from curate.errors import RecipeError

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


def test_a_command_named_in_its_modules_and_a_stage_by_id_import_only_their_modules():
    """``curate dedup`` lists its stages and looks one up without importing the other stage
    modules (and their helpers); what it finds is what full discovery finds."""
    code = """if True:
        import json, sys
        from curate.stages import registry
        listed = [c.id for c in registry.stages_of("dedup")]
        found = registry.stage_class("dedup.near").__name__
        modules = sorted(m for m in sys.modules if m.startswith("curate.stages."))
        helpers = [m for m in ("curate.llm", "curate.pii", "curate.judge", "curate.lang",
                               "curate.safety") if m in sys.modules]
        registry.discover()
        full = [c.id for c in sorted((c for c in registry.STAGES.values()
                                      if c.command == "dedup"),
                                     key=lambda c: (c.cli_order, c.id))]
        print(json.dumps([listed, full, found, registry.STAGES["dedup.near"].__name__,
                          modules, helpers]))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    listed, full, found, after, modules, helpers = json.loads(out)
    assert listed == full == ["dedup.exact", "dedup.near", "dedup.semantic"]
    assert found == after
    assert modules == ["curate.stages.base", "curate.stages.clusters", "curate.stages.context",
                       "curate.stages.dedup_against",
                       "curate.stages.dedup_exact", "curate.stages.dedup_keep",
                       "curate.stages.dedup_near", "curate.stages.dedup_semantic",
                       "curate.stages.dedup_semantic_ref",
                       "curate.stages.keyed", "curate.stages.known", "curate.stages.marks",
                       "curate.stages.options",
                       "curate.stages.registry", "curate.stages.results",
                       "curate.stages.rows"]
    assert helpers == []


def test_the_lookups_by_module_name_find_what_discovery_finds():
    """Each id is registered by one class only, so the module named after an id (tried
    first) cannot hold another stage than discovery would find; every stage of a command in
    NAMED_AFTER_COMMAND lives in a module named after the command."""
    from curate.stages import registry
    from curate.stages.base import Stage

    registry.discover()

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(Stage)
            if c.__module__.startswith("curate.stages.") and c.__dict__.get("id")]
    assert len(ours) >= 16 and {c.id for c in ours} == {
        i for i, c in registry.STAGES.items() if c.__module__.startswith("curate.stages.")}
    for cls in ours:
        assert registry.STAGES[cls.id] is cls, f"{cls.id} is registered twice"
        if cls.command in registry.NAMED_AFTER_COMMAND:
            assert cls.__module__.startswith(f"curate.stages.{cls.command}_"), cls
    assert registry.stage_class("quality.rules").__module__ == "curate.stages.quality"
    with pytest.raises(RecipeError, match="unknown stage 'no.such'"):
        registry.stage_class("no.such")
    with pytest.raises(RecipeError, match="unknown stage '../x'"):
        registry.stage_class("../x")
