"""`curate label push | status | pull` against the session's stack; the key never printed."""

import json

import polars as pl
from click.testing import CliRunner

from curate.cli import cli
from curate.records import records_to_frame


def test_push_status_pull(argilla_stack, owner, annotators, answer, record_ids, tmp_path):
    src = tmp_path / "in.parquet"
    records_to_frame([{"id": f"c{i}", "kind": "sft", "source": "cli", "meta": {},
                       "messages": [{"role": "user", "content": f"q{i}"},
                                    {"role": "assistant", "content": f"a{i}"}]}
                      for i in range(3)]).write_parquet(src)
    env = {"ARGILLA_API_URL": argilla_stack.api_url, "ARGILLA_API_KEY": argilla_stack.api_key}
    runner = CliRunner()
    out = runner.invoke(cli, ["label", "push", str(src), "--dataset", "cli-test",
                              "--annotators", "1"], env=env)
    assert out.exit_code == 0, out.output
    assert "pushed 3 sft-review records to cli-test" in out.output
    ids = record_ids(owner, "cli-test")
    answer(annotators["ann1"], ids["c0"], {"quality": 4, "verdict": "accept"})
    answer(annotators["ann2"], ids["c1"], {"quality": 2, "verdict": "reject"}, status="draft")
    st = runner.invoke(cli, ["label", "status", "--dataset", "cli-test"], env=env)
    assert st.exit_code == 0, st.output
    assert "cli-test: 3 records, 1 completed, 2 pending" in st.output
    assert "ann1: submitted 1, discarded 0, draft 0" in st.output
    assert "ann2: submitted 0, discarded 0, draft 1" in st.output
    run = tmp_path / "pulled"
    pulled = runner.invoke(cli, ["label", "pull", "--dataset", "cli-test", "-o", str(run),
                                 "--api-url", argilla_stack.api_url,
                                 "--api-key", argilla_stack.api_key])
    assert pulled.exit_code == 0, pulled.output
    assert "3 records (1 completed, 2 pending, 0 discarded)" in pulled.output
    df = pl.read_parquet(run / "data.parquet").sort("id")
    assert df.get_column("label_quality").to_list() == [4.0, None, None]
    for text in (out.output, st.output, pulled.output, (run / "manifest.json").read_text(),
                 (run / "report.html").read_text()):
        assert argilla_stack.api_key not in text
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["label"]["counts"]["completed"] == 1
    assert "Krippendorff" in (run / "report.html").read_text()


def test_missing_dataset_and_connection_are_clear_errors(argilla_stack, tmp_path):
    env = {"ARGILLA_API_URL": argilla_stack.api_url, "ARGILLA_API_KEY": argilla_stack.api_key}
    res = CliRunner().invoke(cli, ["label", "pull", "--dataset", "absent", "-o",
                                   str(tmp_path / "x")], env=env)
    assert res.exit_code == 1 and "no Argilla dataset named 'absent'" in res.output
