#!/usr/bin/env python3
"""Make the n-gram oracle: scikit-learn's TfidfVectorizer(ngram_range=(MIN, MAX)) on the
seed passages, with the tokenizer of ../shared/tools/sklearn_baseline.py (the tool that made
../shared/oracles/; its docstring is the specification).

    python scripts/make_ngram_oracle.py OUT_DIR [--ngrams 1 2] [--corpus corpus/khamenei]

The seed passages are rebuilt as ../shared/oracles/README.md describes them: one document
per line of at least 40 characters (after trimming) of the example's three files, named
`<file stem>/<nnn>.txt`. The tokenizer's stems go to TfidfVectorizer as its `tokenizer`
(lowercase=False, no stop list: the tokenizer has dropped scikit-learn's), so n-grams are
formed by scikit-learn itself (`_word_ngrams`: consecutive kept tokens joined by one space).
Settings as the oracle's: smooth_idf=True, norm='l2', sublinear_tf=False, min_df=1.

Writes docs.parquet (doc_id, path, n_tokens), vocab.parquet (term_id, term, df, idf) and
tfidf.parquet (doc_id, term_id, count, weight) in the oracle's format (Parquet, zstd), and
prints a one-line summary. Needs scikit-learn 1.9.1, snowballstemmer 2.2.0, regex, uniseg
and pyarrow, as the oracle did.
"""
import argparse
from importlib import metadata
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "..", "shared", "tools"))
from sklearn_baseline import Tokenizer  # noqa: E402


def seed_passages(corpus):
    """(path, text) of every line of at least 40 characters, in path order."""
    docs = []
    for name in sorted(os.listdir(corpus)):
        stem = os.path.splitext(name)[0]
        with open(os.path.join(corpus, name), encoding="utf-8") as f:
            lines = [l.strip() for l in f.read().split("\n")]
        kept = [l for l in lines if len(l) >= 40]
        docs += [(f"{stem}/{i:03}.txt", l + "\n") for i, l in enumerate(kept)]
    return sorted(docs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--ngrams", nargs=2, type=int, default=[1, 2])
    ap.add_argument("--corpus", default=os.path.join(ROOT, "corpus", "khamenei"))
    a = ap.parse_args()
    docs = seed_passages(a.corpus)
    tok = Tokenizer()
    cv = CountVectorizer(
        tokenizer=tok,
        lowercase=False,
        token_pattern=None,
        ngram_range=tuple(a.ngrams),
        min_df=1,
        dtype=np.int64,
    )
    counts = cv.fit_transform([t for _, t in docs]).tocsr()
    X = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=False)
    tft = X.fit(counts)
    W = tft.transform(counts).tocsr()
    counts.sort_indices()
    W.sort_indices()
    terms = cv.get_feature_names_out().tolist()
    # vocabulary in code-point order (get_feature_names_out is sorted by Python's str order,
    # which is code-point order)
    assert terms == sorted(terms)
    os.makedirs(a.out, exist_ok=True)
    n_tokens = [len(tok(t)) for _, t in docs]
    pq.write_table(pa.table({
        "doc_id": pa.array(range(len(docs)), pa.int32()),
        "path": [p for p, _ in docs],
        "n_tokens": pa.array(n_tokens, pa.int32()),
    }), os.path.join(a.out, "docs.parquet"), compression="zstd")
    df = np.bincount(counts.indices, minlength=len(terms))
    pq.write_table(pa.table({
        "term_id": pa.array(range(len(terms)), pa.int32()),
        "term": terms,
        "df": pa.array(df, pa.int32()),
        "idf": pa.array(tft.idf_, pa.float64()),
    }), os.path.join(a.out, "vocab.parquet"), compression="zstd")
    rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
    assert (counts.indices == W.indices).all()
    pq.write_table(pa.table({
        "doc_id": pa.array(rows, pa.int32()),
        "term_id": pa.array(W.indices, pa.int32()),
        "count": pa.array(counts.data, pa.int32()),
        "weight": pa.array(W.data, pa.float64()),
    }), os.path.join(a.out, "tfidf.parquet"), compression="zstd")
    phrases = sum(" " in t for t in terms)
    print(f"{len(docs)} documents, {len(terms)} terms ({phrases} of several words), "
          f"{W.nnz} non-zeros; scikit-learn {sklearn.__version__}, "
          f"snowballstemmer {metadata.version('snowballstemmer')}")


if __name__ == "__main__":
    main()
