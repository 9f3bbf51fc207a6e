"""Near- and semantic-duplicate search, vectorised over a whole corpus.

    shingles.py    word n-gram shingle hashes of texts (polars tokenising, numpy n-grams)
    minhash.py     MinHash signatures (rensa) and LSH band hashes
    lsh.py         bands/rows from a threshold, candidate pairs from band hashes
    jaccard.py     exact Jaccard of candidate pairs on their shingle sets
    cosine.py      blocked cosine search and k-means blocking for embeddings
    components.py  connected components of duplicate pairs and the survivor of each
    reference.py   reference datasets (``against``): content digest, cached index, key lookup
    cross.py       embedding search of new rows in a reference's embeddings

The stages ``dedup.near`` and ``dedup.semantic`` (``curate/stages/``) put these together.
"""
