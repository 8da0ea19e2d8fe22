"""Finding passages: the Chroma store, the BM25 index, hybrid retrieval, near-duplicate groups and
time words in questions."""
