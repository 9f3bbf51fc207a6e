"""The package's imports point one way, down these layers (a layer imports only layers below it):

    cli          curate.cli, curate.__main__
    runner       curate.runner and its parts (checkpoints, run_export, finished_run), recipe
    engines      curate.engines: run a stage on local or Ray workers
    stages       curate.stages: one module per stage, and the shared infrastructure (STAGE_INFRA)
    algorithms   dedup, select, safety, decontam, pii, lang, quality, likelihood, llm, judge,
                 argilla
    data         io, convert, export, report (the report and the dataset card read a run folder)
    base         columns, text, records, errors and the other top-level modules

Checked: no import cycle between curate modules, neither at import time (module-level imports)
nor through imports inside functions (those under ``if TYPE_CHECKING:`` never run: a type named
in an annotation is no dependency); no module of an algorithm or data package imports the
stages, engines, runner, recipe or CLI (imports inside functions count too), but for the few
listed with their reason; a stage module imports no other stage module, only STAGE_INFRA. An
import of a package's module counts as one of that module only.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import curate

PACKAGE = Path(curate.__file__).parent

LOWER = ("dedup", "select", "safety", "decontam", "pii", "lang", "quality", "likelihood", "llm",
         "judge", "argilla", "io", "convert", "export", "report")
UPPER = ("stages", "engines", "runner", "checkpoints", "run_export", "finished_run", "recipe",
         "recipe_files",
         "cli", "__main__")
# curate.stages modules that every stage may import: they define no stage
STAGE_INFRA = {"base", "context", "known", "results", "rows", "marks", "keyed", "clusters",
               "options", "registry", "plan", "bias_run", "llm_base", "dedup_against",
               "dedup_keep", "dedup_semantic_ref"}
# Known upward imports, late, each with its reason:
ALLOWED = {
    # a stage names the report module that shows it (report_section): the report (and the
    # dataset card through it) finds that module through the stage registry
    "curate.report.sections -> curate.stages.registry",
}

@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "curate.dedup.components"
    target: str  # the curate module it imports
    line: int
    top: bool  # runs when the module is imported (not inside a function, not TYPE_CHECKING)
    typing: bool = False  # under ``if TYPE_CHECKING:``: never runs


def _modules(root: Path, package: str) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([package, *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, top: bool, typing: bool = False):
    """Each import statement under ``node`` with whether it runs at import time and whether it
    is under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, top, typing
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _walk(child, False, typing)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), False, True)
            for stmt in child.orelse:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), top, typing)
        else:
            yield from _walk(child, top, typing)


def imports(root: Path, package: str) -> list[Import]:
    """Every import of a module of ``package`` (at ``root``) by another of its modules."""
    modules = _modules(root, package)
    found = []
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, top, typing in _walk(tree, True):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[:len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # ``from pkg import sub`` imports the submodule when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in dict.fromkeys(targets):
                # ``import curate.a.b`` where only curate.a exists: the nearest module
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append(Import(name, target, node.lineno, top, typing))
    return found


def cycles(found: list[Import]) -> list[list[str]]:
    """The groups of modules that import each other at import time (Tarjan's strongly
    connected components with more than one module), each sorted."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.top:
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def late_cycles(found: list[Import]) -> list[list[str]]:
    """:func:`cycles` with the imports inside functions counted as if they ran at import
    time (those under TYPE_CHECKING still never run)."""
    return cycles([Import(i.source, i.target, i.line, True) for i in found if not i.typing])


def _under(module: str, package: str, names) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == package and parts[1] in names else None


def upward(found: list[Import], package: str) -> list[str]:
    """``source:line -> target`` for each import of an upper layer by a lower package."""
    return sorted(f"{i.source}:{i.line} -> {i.target}" for i in found
                  if _under(i.source, package, LOWER) and _under(i.target, package, UPPER))


def sibling_stages(found: list[Import], package: str) -> list[str]:
    """``source:line -> target`` for each stage module importing another stage module."""
    stages = f"{package}.stages."

    def stage_module(m: str) -> bool:
        return m.startswith(stages) and m[len(stages):].split(".")[0] not in STAGE_INFRA

    return sorted(f"{i.source}:{i.line} -> {i.target}" for i in found
                  if stage_module(i.source) and stage_module(i.target))


def _strip_lines(found: list[str]) -> set[str]:
    return {f"{f.split(':')[0]} -> {f.split(' -> ')[1]}" for f in found}


def test_no_import_cycles():
    assert cycles(imports(PACKAGE, "curate")) == []


def test_no_cycles_through_imports_inside_functions():
    assert late_cycles(imports(PACKAGE, "curate")) == []


def test_algorithm_and_data_packages_import_no_upper_layer():
    found = upward(imports(PACKAGE, "curate"), "curate")
    known = ALLOWED
    assert [f for f in found if _strip_lines([f]) - known] == []
    # a listed import that is gone is taken off its list
    assert known - _strip_lines(found) == set()


def test_stages_import_no_sibling_stage():
    assert sibling_stages(imports(PACKAGE, "curate"), "curate") == []


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_the_checks_find_planted_violations(tmp_path):
    root = _fake_package(tmp_path, {
        "__init__.py": "",
        "runner.py": "from .dedup import near\n",
        "dedup/__init__.py": "",
        # a cycle through a package's __init__, with a relative import two levels up
        "dedup/near.py": "from ..io import read\n",
        "io/__init__.py": "from .read import read\n",
        "io/read.py": "from pkg import io\n\ndef read():\n    pass\n",
        # upward, late: inside a function still counts; under TYPE_CHECKING too
        "select/pick.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from ..stages.base import Stage\n\n"
                           "def pick():\n    from pkg.runner import run\n"),
        "stages/__init__.py": "",
        "stages/base.py": "",
        "stages/a.py": "from .base import X\nfrom . import b\n",
        "stages/b.py": "def f():\n    from .a import Y\n",
        # a cycle only under TYPE_CHECKING or inside functions is no cycle
        "text.py": "import typing\nif typing.TYPE_CHECKING:\n    from .columns import C\n",
        "columns.py": "from .text import norm\n\ndef g():\n    from . import text\n",
    })
    found = imports(root, "pkg")
    assert cycles(found) == [["pkg.io", "pkg.io.read"]]
    # an import inside a function closes a cycle too; one under TYPE_CHECKING does not
    assert late_cycles(found) == [["pkg.io", "pkg.io.read"], ["pkg.stages.a", "pkg.stages.b"]]
    assert upward(found, "pkg") == ["pkg.select.pick:3 -> pkg.stages.base",
                                    "pkg.select.pick:6 -> pkg.runner"]
    assert sibling_stages(found, "pkg") == ["pkg.stages.a:2 -> pkg.stages.b",
                                            "pkg.stages.b:2 -> pkg.stages.a"]
    # once planted into a cycle, the runner's import shows up too
    (root / "io" / "read.py").write_text("from ..runner import x\n", encoding="utf-8")
    assert cycles(imports(root, "pkg")) == [["pkg.dedup.near", "pkg.io.read", "pkg.runner"]]
    assert "pkg.io.read:1 -> pkg.runner" in upward(imports(root, "pkg"), "pkg")
