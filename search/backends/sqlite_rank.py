"""Relevance for the embedded backend: BM25F over the newest matches, computed here.

FTS5's bm25() first counts every row containing each phrase of the query (its IDF), including
the filter tags: on a million hits a common word or `status:new` costs 100+ ms before the first
row is ranked. Ranking the window in Python from the stored normalised text, with document
frequencies counted only up to track_total_hits, keeps relevance queries as fast as time-sorted ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from search.analysis import normalize

WEIGHTS = (5.0, 1.0, 2.0, 1.0)  # title, text, account, reasons — as Elasticsearch's field boosts
K1, B = 1.2, 0.75


def idf(total_docs: int, doc_freq: int) -> float:
    """BM25's (Lucene's) idf; always positive."""
    return math.log(1 + (total_docs - doc_freq + 0.5) / (doc_freq + 0.5))


def surface(term_text: str) -> str:
    """What a term looks like in normalised text (spaces inside a phrase are left out of counting)."""
    return "".join(normalize(term_text).split())


def rank(rows: Iterable[tuple], terms: list[tuple[str, float]]) -> list[tuple[int, float]]:
    """(hit id, score) best first, newest first among equals. rows: (id, title, body, account[, reasons])
    in normalised text; terms: (surface, idf). Column-wise list comprehensions: ~5x faster than per row."""
    rows = list(rows)
    if not rows:
        return []
    columns = len(rows[0]) - 1
    scores = [0.0] * len(rows)
    norms = []
    for i in range(columns):
        lengths = [len(r[i + 1]) for r in rows]
        avg = max(1.0, sum(lengths) / len(rows))
        norms.append([WEIGHTS[i] / (1 - B + B * n / avg) for n in lengths])
    for text, term_idf in terms:
        if not text:
            continue
        tf = [0.0] * len(rows)
        for i in range(columns):
            counts = [r[i + 1].count(text) for r in rows]
            if any(counts):
                tf = [t + c * w for t, c, w in zip(tf, counts, norms[i], strict=True)]
        scores = [s + term_idf * t * (K1 + 1) / (t + K1) if t else s for s, t in zip(scores, tf, strict=True)]
    order = sorted(range(len(rows)), key=lambda k: (-scores[k], -rows[k][0]))
    return [(rows[k][0], scores[k]) for k in order]
