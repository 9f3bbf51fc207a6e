"""LLM generation: backends, the request cache, prompt templates and passages.

- :mod:`~curate.llm.local` (``local``): a Hugging Face causal LM in process, by default the
  packaged SmolLM2-135M-Instruct (:mod:`~curate.llm.models`); batched, left-padded.
- :mod:`~curate.llm.openai` (``openai``): any OpenAI-compatible server over httpx, bounded
  concurrency, retries with backoff and jitter, the key from ``CURATE_LLM_API_KEY`` only.
- :mod:`~curate.llm.client`: a backend behind the SQLite request cache
  (:mod:`~curate.llm.cache`) and the token budget, counting requests, hits and tokens.
- :mod:`~curate.llm.backends`: the backends of a stage (one, or one per judge), set up,
  closed and counted alike.
- :mod:`~curate.llm.templates`: the versioned prompt templates (``templates/*.yaml``).

The stages that use them derive from :class:`curate.stages.llm_base.GenerateStage`.

Examples:
    ```python
    from curate.llm.client import Generator, make_backend
    from curate.llm.requests import Request, Sampling

    gen = Generator(make_backend("local", None), "requests.sqlite")
    [reply] = gen.generate([Request.chat([{"role": "user", "content": "Hi"}], Sampling(), "v1")])
    ```
"""
