import polars as pl

from curate.report.html import render_report


def test_report_has_a_funnel_and_removed_examples(tmp_path):
    (tmp_path / "rejected").mkdir()
    pl.DataFrame({"id": ["a", "b"], "kind": ["sft", "sft"],
                  "messages": [[{"role": "user", "content": "hi"},
                                {"role": "assistant", "content": "<b>x</b>"}]] * 2,
                  "drop_reason": ["junk", "junk"]}).write_parquet(tmp_path / "rejected" / "01_q.parquet")
    manifest = {"name": "r", "status": "done", "rows_in": 10, "rows_out": 8, "seed": 0,
                "stages": [
                    {"index": 0, "name": "convert", "status": "done", "rows_in": 10,
                     "rows_out": 10, "dropped": {}},
                    {"index": 1, "name": "q", "status": "done", "rows_in": 10, "rows_out": 8,
                     "dropped": {"junk": 2}, "rejected": "rejected/01_q.parquet"}],
                "exports": [{"target": "trl-sft", "counts": {"train": 7, "test": 1},
                             "skipped": {}}]}
    page = render_report(tmp_path, manifest)
    assert page.count("<svg") == 1
    assert "Rows kept and dropped per stage" in page
    assert "assistant: &lt;b&gt;x&lt;/b&gt;" in page        # removed text shown, escaped
    assert page.count("<td>junk</td>") == 2
    assert "<td>trl-sft</td><td>train: 7, test: 1</td>" in page
