import json

from curate.report.decontam import highlight, section
from curate.stages.decontam_ngram import decontam_ngram


def test_highlight_marks_the_words_whatever_the_punctuation_and_case():
    text = "Please: WHAT ARE the names, of some <famous> actors? Thanks"
    out = highlight(text, "what are the names of some famous actors")
    assert out == ("Please: <mark>WHAT ARE the names, of some &lt;famous&gt; actors</mark>? "
                   "Thanks")
    assert highlight("Straße", "strasse") == "Straße\n<mark>strasse</mark>"  # shown beside
    assert highlight("a < b", None) == "a &lt; b"


def test_section_shows_counts_a_plot_and_examples(tmp_path):
    from curate.records import records_to_frame

    def qa(q, i):
        return {"id": i, "kind": "sft", "source": "t", "messages": [
            {"role": "user", "content": q}, {"role": "assistant", "content": "x"}]}

    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"question": "one two three four five six seven"}) + "\n")
    df = records_to_frame([qa("So: One two three, four five six seven!", "hit"),
                           qa("nothing to see", "clean")])
    res = decontam_ngram(df, benchmarks={"b": str(bench)})
    (tmp_path / "rejected").mkdir()
    res.rejected.write_parquet(tmp_path / "rejected" / "01.parquet")
    entry = {"use": "decontam.ngram", "rejected": "rejected/01.parquet", "stats": res.stats}
    html = section(tmp_path, entry)
    assert "1 records contain a benchmark item (shared 13-word sequences); 1 removed." in html
    assert "<svg" in html
    assert "<mark>One two three, four five six seven</mark>" in html
    assert section(tmp_path, {"use": "decontam.ngram", "stats": {
        "mode": "ngram", "contaminated": 0, "removed": 0}}).count("<svg") == 0
