"""lang.id on Ray (an actor pool, one detector per actor) keeps, rejects and counts exactly
what the local engine does."""

from __future__ import annotations

from curate.engines import get_engine
from curate.records import records_to_frame
from curate.stages.base import StageContext
from curate.stages.lang_id import LangId

from ..lang.test_detector import PARAGRAPHS
from ..lang.test_record import DE, EN, FR


def corpus(n: int = 240):
    """Records in eight languages, some mixing two, a pair with a French rejected reply."""
    langs = sorted(PARAGRAPHS)
    records = []
    for i in range(n):
        lang = langs[i % len(langs)]
        reply = PARAGRAPHS[lang] + (f"\n\n{FR}\n\n{DE}" if i % 7 == 0 else "")
        records.append({"id": f"r{i}", "kind": "sft", "source": "t", "messages": [
            {"role": "user", "content": f"Question {i}: where is the library?"},
            {"role": "assistant", "content": reply}]})
    records.append({"id": "pair", "kind": "preference", "source": "t",
                    "prompt": [{"role": "user", "content": "When is the museum open?"}],
                    "chosen": [{"role": "assistant", "content": EN}],
                    "rejected": [{"role": "assistant", "content": FR}]})
    return records_to_frame(records)


def test_lang_id_same_on_both_engines(ray_local):
    df = corpus()
    options = {"keep": ["en", "de", "fr"], "mixed": "all"}
    ctx = StageContext(name="lang.id")
    local = get_engine("local").apply(LangId(options), df, ctx)
    stage = LangId(options)
    ray = get_engine("ray").apply(stage, df, ctx)
    assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
    assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
    assert ray.stats["engine"] == "ray: actor pool (1 node)"
    assert 0 < ray.rejected.height < df.height and local.stats["mixed"] > 0
    assert stage.texts_detected == local.stats["texts_detected"] > df.height  # from the actors
