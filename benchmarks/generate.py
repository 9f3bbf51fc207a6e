"""LLM generation throughput: the local backend batched vs one prompt at a time (plain
``generate()`` per prompt, the same model), the openai backend at concurrency 1 vs 8 against
the same local ``transformers serve`` (with continuous batching), and a rerun answered by the
request cache.

    .venv/bin/python -m benchmarks.generate                  # 16 prompts, 32 new tokens
    .venv/bin/python -m benchmarks.generate --prompts 8 --tokens 16 --no-http

Tokens/s counts completion tokens. Run on an idle machine for absolute numbers; on a shared one
read the ratios of one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

TOPICS = ("rivers", "bread", "bees", "volcanoes", "trains", "glass", "tea", "maps", "clocks",
          "bridges", "paper", "salt", "wool", "kites", "ice", "copper")


def prompts(n: int) -> list:
    from curate.llm.requests import Request, Sampling

    # lengths vary, as real prompts do
    return [Request.chat([{"role": "user", "content": f"Write about {TOPICS[i % 16]}"
                           + " in detail" * (i % 4) + "."}],
                         Sampling(max_tokens=ARGS.tokens), f"bench-{time.time_ns()}")
            for i in range(n)]


def tokens_per_s(backend, requests) -> tuple[float, float, int]:
    start = time.perf_counter()
    out = [r for _, r in backend.complete(requests, lambda: True)]
    seconds = time.perf_counter() - start
    tokens = sum(r.completion_tokens for r in out)
    assert all(r.ok for r in out), [r.error for r in out if not r.ok][:1]
    return tokens / seconds, seconds, tokens


def one_at_a_time(backend, requests) -> tuple[float, float, int]:
    """Plain transformers: one ``generate()`` per prompt, no batching."""
    import torch

    tokenizer, model = backend.load()
    start, tokens = time.perf_counter(), 0
    for request in requests:
        enc = tokenizer(backend.render(request), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=ARGS.tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        tokens += out.shape[1] - enc.input_ids.shape[1]
    seconds = time.perf_counter() - start
    return tokens / seconds, seconds, tokens


def row(name, result, base) -> str:
    rate, seconds, tokens = result
    return f"| {name:<34} | {tokens:>6} | {seconds:>8.1f} | {rate:>8.1f} | {rate / base:>5.2f} |"


def main() -> None:
    from curate.llm.client import Generator
    from curate.llm.local import LocalBackend
    from curate.llm.models import converted_packaged
    from curate.llm.openai import OpenAIBackend

    requests = prompts(ARGS.prompts)
    local = LocalBackend(batch_size=ARGS.batch, device="cpu")
    local.load()
    print(f"{ARGS.prompts} prompts, {ARGS.tokens} new tokens each, SmolLM2-135M on CPU\n")
    print("| run                                | tokens |  seconds | tokens/s | ratio |")
    print("|------------------------------------|-------:|---------:|---------:|------:|")
    single = one_at_a_time(local, requests)
    print(row("transformers generate(), 1 at a time", single, single[0]))
    print(row(f"curate local, batch {ARGS.batch}", tokens_per_s(local, requests), single[0]))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "requests.sqlite"
        first = Generator(local, cache)
        t0 = time.perf_counter()
        first.generate(requests)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = Generator(local, cache)
        again.generate(requests)
        warm = time.perf_counter() - t0
        print(f"\nrequest cache: first run {cold:.2f} s ({first.usage.requests} requests), "
              f"rerun {warm:.3f} s ({again.usage.requests} requests, "
              f"{again.usage.cache_hits} cache hits): {cold / max(warm, 1e-9):.0f}x")
    if not ARGS.http:
        return
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.llm.packaged import start_serve

    folder = converted_packaged()
    proc, url = start_serve(folder, continuous_batching=True)
    try:
        print("\n| transformers serve --continuous-batching | tokens | seconds | tokens/s | ratio |")
        print("|------------------------------------|-------:|---------:|---------:|------:|")
        warm = OpenAIBackend(str(folder), base_url=url, concurrency=1)
        tokens_per_s(warm, prompts(1))  # the server loads the model on its first request
        base = None
        for concurrency in (1, 8):
            backend = OpenAIBackend(str(folder), base_url=url, concurrency=concurrency)
            result = tokens_per_s(backend, prompts(ARGS.prompts))
            base = base or result[0]
            print(row(f"curate openai, concurrency {concurrency}", result, base))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--no-http", dest="http", action="store_false")
    ARGS = parser.parse_args()
    main()
