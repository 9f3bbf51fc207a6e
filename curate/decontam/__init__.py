"""Benchmark decontamination: is any eval set in the training data?

- :mod:`.words`: texts as normalised words (NFKC, lower-cased, ``\\w+`` runs, as near dedup
  sees them), tokenised and hashed over the UTF-8 bytes of a whole batch at once;
- :mod:`.fold`, :mod:`.scan`, :mod:`.verify`: the same words read, hashed, probed and checked
  straight from the UTF-8 bytes of a batch in compiled passes (numba);
- :mod:`.turns`: a batch's record turns by part, straight from its Arrow columns;
- :mod:`.grams`: rolling hashes of every word n-gram of many texts;
- :mod:`.benchmarks`: benchmark files (any format curate reads) to texts, with field detection;
- :mod:`.index`: the benchmarks' n-grams as a sorted array of 64-bit hashes, probed for a
  batch of record texts, every hash hit checked word by word against the benchmark text;
- :mod:`.semantic`: paraphrases, by cosine between record and benchmark prompt embeddings.

The stages are ``decontam.ngram`` (:mod:`curate.stages.decontam_ngram`) and
``decontam.semantic`` (:mod:`curate.stages.decontam_semantic`).
"""
