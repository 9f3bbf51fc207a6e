"""What a command loads: most of a small command's time is its imports, so libraries it does
not use stay out (plots drawn with matplotlib, progress bars that are off, Arrow, models), and
so do the stage modules of other commands and their helpers."""

import json
import os
import subprocess
import sys

UNUSED = ("matplotlib", "tqdm", "pyarrow", "torch", "transformers", "sentence_transformers",
          "numba", "ray", "scipy", "sklearn", "curate.llm", "curate.pii", "curate.lang",
          "curate.safety")


def test_a_near_dedup_command_loads_no_library_it_does_not_use(tmp_path):
    data = tmp_path / "in.jsonl"
    text = "a reply long enough to be shingled into several word five grams for near dedup"
    data.write_text("".join(json.dumps({"instruction": f"Q{i}?", "output": text}) + "\n"
                            for i in range(3)), encoding="utf-8")
    out = tmp_path / "out"
    code = ("import json, sys\nfrom curate.cli import main\n"
            f"sys.argv = ['curate', 'dedup', {str(data)!r}, '-o', {str(out)!r}, "
            "'--method', 'near', '--on', 'response']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            f"print(json.dumps([m for m in {UNUSED!r} if m in sys.modules]))\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('curate.stages.'))))")
    env = dict(os.environ, CURATE_PROGRESS="0")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert "wrote" in lines[-3] and "1 of 3 rows kept" in lines[-3]
    assert json.loads(lines[-2]) == []
    assert [m for m in json.loads(lines[-1]) if m.startswith("curate.stages.dedup")
            or m.rsplit(".", 1)[-1] not in ("base", "context", "keyed", "known", "plan",
                                            "registry", "results", "rows", "marks", "clusters",
                                            "options")] == [
        "curate.stages.dedup_against", "curate.stages.dedup_exact", "curate.stages.dedup_keep",
        "curate.stages.dedup_near", "curate.stages.dedup_semantic",
        "curate.stages.dedup_semantic_ref"]
    assert "<svg" in (out / "report.html").read_text()  # the report is still written


def test_the_command_collects_cycles_less_often_unless_told_otherwise():
    """main() raises Python's young-generation threshold (700) to GC_YOUNG_THRESHOLD; a
    collector turned off (0) or set higher stays as it was."""
    found = []
    for before in ("", "gc.set_threshold(0)", "gc.set_threshold(50000, 5, 5)"):
        code = (f"import gc, sys\n{before}\nfrom curate.cli import main\n"
                "sys.argv = ['curate', '--version']\n"
                "try:\n    main()\nexcept SystemExit:\n    pass\nprint(list(gc.get_threshold()))")
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        found.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert found == [[20000, 10, 10], [0, 10, 10], [50000, 5, 5]]
