import polars as pl

from curate.report.html import render_report
from curate.report.select import coverage_table, section

STATS = {
    "method": "kcenter", "budget": 3, "selected": 3, "n_clusters": 2,
    "embedding": {"model": "all-MiniLM-L6-v2", "on": "prompt", "dim": 384, "from": "model",
                  "precision": "bf16"},
    "coverage": {
        "sample": {"picks": 3, "covering_radius": 0.25, "mean_distance": 0.1, "clusters": 2,
                   "clusters_covered": 2},
        "random": {"picks": 3, "covering_radius": 0.75, "mean_distance": 0.2, "clusters": 2,
                   "clusters_covered": 1},
    },
    "map": "select/01_select.diverse.parquet",
}


def stage_entry():
    return {"index": 1, "name": "select.diverse", "use": "select.diverse", "status": "done",
            "rows_in": 5, "rows_out": 3, "dropped": {"not_selected": 2}, "seconds": 0.1,
            "stats": STATS}


def write_map(out_dir):
    (out_dir / "select").mkdir()
    pl.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0], "y": [1.0, 0.0, 1.0, 0.0, 1.0],
                  "picked": [True, False, True, False, True], "cluster": [0, 0, 1, 1, 1],
                  "id": list("abcde")}).write_parquet(out_dir / STATS["map"])


def test_coverage_table_sets_sample_beside_random():
    html = coverage_table(STATS["coverage"])
    assert "<td class=num>0.25</td><td class=num>0.75</td>" in html
    assert "<td class=num>2 of 2</td><td class=num>1 of 2</td>" in html


def test_section_has_the_table_and_the_map(tmp_path):
    write_map(tmp_path)
    html = section(tmp_path, stage_entry())
    assert ("Method <b>kcenter</b>: 3 of 5 rows selected (budget 3), embeddings of the prompt "
            "by all-MiniLM-L6-v2 (bf16).") in html
    assert html.count("<svg") == 1 and "selected (3 shown)" in html
    assert "not selected (2 shown)" in html


def test_report_includes_the_section_and_survives_a_missing_map(tmp_path):
    manifest = {"name": "t", "status": "done", "rows_in": 5, "rows_out": 3,
                "stages": [stage_entry()]}
    html = render_report(tmp_path, manifest)  # no map file: the table only
    assert "<h2>select.diverse</h2>" in html and "covering radius" in html
    assert html.count("<svg") == 1  # the funnel
    write_map(tmp_path)
    assert render_report(tmp_path, manifest).count("<svg") == 2  # funnel and map


def test_compare_adds_a_row_per_method(tmp_path):
    from curate.report.select import methods_table

    coverage = {**STATS["coverage"], "methods": {
        "kcenter": {"picks": 3, "covering_radius": 0.5, "mean_distance": 0.3, "clusters": 2,
                    "clusters_covered": 2}}}
    html = methods_table("facility", coverage)
    assert ("<tr><td>kcenter</td><td class=num>0.5</td><td class=num>0.3</td>"
            "<td class=num>2 of 2</td></tr>") in html
    assert html.index("facility (this sample)") < html.index("<td>random</td>") < \
        html.index("<td>kcenter</td>")
    write_map(tmp_path)
    entry = stage_entry()
    entry["stats"] = {**STATS, "coverage": coverage}
    assert "Every method at the same budget" in section(tmp_path, entry)
    assert "Every method at the same budget" not in section(tmp_path, stage_entry())
