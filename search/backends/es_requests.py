"""Elasticsearch request bodies, built by pure functions so unit tests can hold them against the
documented shapes (index template, bool query, aggregations, bulk actions) without a cluster.

Text fields receive the text already normalised by search.analysis (full width folded, 繁→简,
lower case, same length), so both backends see the same characters. Each text field is indexed twice:
with CJK bigrams (standard tokenizer + cjk_width + lowercase + cjk_bigram, Elasticsearch's `cjk`
chain, no plugin needed) and as unigrams in `.uni`, which answers terms ending in a lone CJK
character ("书", "qq群") the way the embedded backend's prefix query does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from search.analysis import ANALYZER_VERSION, normalize
from search.backends.base import SearchParams
from search.documents import INDEX_VERSION
from search.query import Query, QueryFilters, Term

# field → boost (as the embedded backend's BM25F weights); `reasons` is the concept text of
# search.documents.concepts: reason names and codes, label names.
TEXT_FIELDS = {"title": 5.0, "text": 1.0, "account": 2.0, "reasons": 1.0}
OLD_INDEX = (
    "Elasticsearch 检索索引是旧版本（没有 reasons 字段，判定依据和类型名称不能检索），请运行 `wangxun reindex` 重建；"
    "重建前检索照常，新发现的线索在队列中等待。search index predates this version: run `wangxun reindex`"
)
PLUGIN_ANALYZERS = {"smartcn": "smartcn", "ik": "ik_max_word"}
FACET_FIELDS = {"label": "labels", "platform": "platform", "grid": "grid_id", "source": "source"}


def index_name(alias: str, when: dt.datetime | None = None) -> str:
    """A versioned index behind the alias; a reindex builds the next one and swaps the alias."""
    when = when or dt.datetime.now(dt.timezone.utc)
    return f"{alias}-v{when.strftime('%Y%m%d%H%M%S%f')}"


def _text_field(plugin: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"uni": {"type": "text", "analyzer": "wx_cjk_unigram"}}
    if plugin:
        fields["smart"] = {"type": "text", "analyzer": PLUGIN_ANALYZERS[plugin]}
    return {"type": "text", "analyzer": "wx_cjk_bigram", "fields": fields}


def index_template(alias: str, shards: int = 1, replicas: int = 0, plugin: str | None = None) -> dict[str, Any]:
    """Named arguments of indices.put_index_template(name=<alias>, …) (PUT _index_template/<alias>):
    settings with the CJK analysis chain, explicit mappings. `meta` is the request's `_meta`."""
    text = _text_field(plugin)
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": 200,
        "meta": {"analyzer_version": ANALYZER_VERSION, "index_version": INDEX_VERSION, "managed_by": "wangxun"},
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "analysis": {
                    "analyzer": {
                        "wx_cjk_bigram": {
                            "type": "custom",
                            "tokenizer": "standard",
                            "filter": ["cjk_width", "lowercase", "cjk_bigram"],
                        },
                        "wx_cjk_unigram": {
                            "type": "custom",
                            "tokenizer": "standard",
                            "filter": ["cjk_width", "lowercase"],
                        },
                    }
                },
            },
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "id": {"type": "long"},
                    "url": {"type": "keyword", "ignore_above": 2000},
                    "source": {"type": "keyword"},
                    "platform": {"type": "keyword"},
                    "labels": {"type": "keyword"},
                    "status": {"type": "keyword"},
                    "title": text,
                    "text": text,
                    "account": text,
                    "reasons": text,
                    "reason_codes": {"type": "keyword"},
                    # Indexed for the highlighter only (searches use `reasons`): an index built before
                    # has it unindexed, and its results show the reasons without marks.
                    "reason_names": text,
                    "score": {"type": "float"},
                    "grid_id": {"type": "integer"},
                    "venue_id": {"type": "integer"},
                    "location_name": {"type": "keyword"},
                    "location": {"type": "geo_point"},
                    "published_at": {"type": "date"},
                    "detected_at": {"type": "date"},
                    "day": {"type": "date", "format": "yyyy-MM-dd"},
                },
            },
        },
    }


def index_is_current(mappings: Any) -> bool:
    """Whether every index in a GET <alias>/_mapping answer has this version's fields (INDEX_VERSION 2:
    `reasons`). An older index answers searches without them and refuses the new documents
    (`dynamic: strict`), so the backend asks for a reindex instead of writing to it."""
    mappings = getattr(mappings, "body", mappings) or {}
    return bool(mappings) and all(
        "reasons" in ((m or {}).get("mappings", {}).get("properties") or {}) for m in mappings.values()
    )


def es_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The indexed body of a search document: text fields normalised, everything else as is."""
    body = dict(doc)
    for f in TEXT_FIELDS:
        body[f] = normalize(doc.get(f) or "")
    return body


def bulk_index_actions(index: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions for helpers.bulk / the _bulk API: the hit id is the document _id, so re-crawls and
    replays of the outbox overwrite instead of duplicating."""
    return [{"_op_type": "index", "_index": index, "_id": str(d["id"]), "_source": es_document(d)} for d in docs]


def bulk_delete_actions(index: str, hit_ids: list[int]) -> list[dict[str, Any]]:
    return [{"_op_type": "delete", "_index": index, "_id": str(i)} for i in hit_ids]


def term_clause(term: Term) -> dict[str, Any]:
    """A word or phrase as a phrase query over all text fields (the analysed form is a phrase).

    A term ending in a lone CJK character matches as the start of a longer word in the embedded
    backend ("书" in 书籍); on unigram fields a phrase does exactly that."""
    suffix = ".uni" if term.pattern.prefix else ""
    return {
        "multi_match": {
            "query": normalize(term.text),
            "type": "phrase",
            "fields": [f"{f}{suffix}^{b:g}" for f, b in TEXT_FIELDS.items()],
        }
    }


def filter_clauses(f: QueryFilters, params: SearchParams) -> list[dict[str, Any]]:
    """Dates filter on `day`, the hit's local day computed at indexing (search.documents)."""
    out: list[dict[str, Any]] = []
    for field, values in (
        ("labels", f.labels),
        ("platform", f.platforms),
        ("source", f.sources),
        ("status", f.statuses),
    ):
        if values:
            out.append({"terms": {field: list(values)}})
    for ids in (f.grid_ids, params.grid_ids):
        if ids is not None:
            out.append({"terms": {"grid_id": sorted(ids)}})
    if f.date_from or f.date_to:
        rng: dict[str, Any] = {"format": "yyyy-MM-dd"}
        if f.date_from:
            rng["gte"] = f.date_from.isoformat()
        if f.date_to:
            rng["lte"] = f.date_to.isoformat()
        out.append({"range": {"day": rng}})
    if f.score_min is not None or f.score_max is not None:
        rng = {}
        if f.score_min is not None:
            rng["gte"] = f.score_min
        if f.score_max is not None:
            rng["lte"] = f.score_max
        out.append({"range": {"score": rng}})
    if params.min_hit_id:
        out.append({"range": {"id": {"gt": params.min_hit_id}}})
    return out


# Highlighted fields (the shown field, its fragment size as search.highlight uses them): ES marks the
# matches of the query in the normalised text it holds; search.highlight.snippets_from_fragments maps
# each fragment back onto the hit's own text (traditional characters, full width), masks contacts and
# adds the ellipses, so the page looks as with the other backends.
HIGHLIGHT_FIELDS = {"title": ("title", 200), "text": ("text", 120), "reason_names": ("reasons", 400)}


def highlight_section(q: Query) -> dict[str, Any] | None:
    """The search request's `highlight`: one fragment per field (and per `.uni` sub-field, which matches
    a term ending in a lone CJK character), `<mark>` around matches, HTML-escaped text. The query's
    terms are matched whatever field they were searched in (reason_names is not searched itself)."""
    if not q.groups:
        return None
    fields: dict[str, Any] = {}
    for name, (_shown, size) in HIGHLIGHT_FIELDS.items():
        for field in (name, f"{name}.uni"):
            fields[field] = {"fragment_size": size, "number_of_fragments": 1}
    return {
        "type": "unified",
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "encoder": "html",
        "require_field_match": False,
        "boundary_scanner": "sentence",
        "boundary_scanner_locale": "zh-CN",
        "fields": fields,
    }


def parse_highlight(hit: dict[str, Any]) -> dict[str, list[str]]:
    """A search hit's `highlight` answer → {shown field: fragments}, the field's own first, then its
    `.uni` sub-field's."""
    answer = hit.get("highlight") or {}
    out: dict[str, list[str]] = {}
    for name, (shown, _size) in HIGHLIGHT_FIELDS.items():
        frags = [*answer.get(name, []), *answer.get(f"{name}.uni", [])]
        if frags:
            out[shown] = frags
    return out


def search_request(
    q: Query, params: SearchParams, track_total_hits: int, facet_size: int, highlight: bool = True
) -> dict[str, Any]:
    """Named arguments of Elasticsearch.search(index=<alias>, …) (POST <alias>/_search)."""
    must = []
    for group in q.groups:
        clauses = [term_clause(t) for t in group]
        must.append(clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}})
    boolq: dict[str, Any] = {
        "must": must or [{"match_all": {}}],
        "must_not": [term_clause(t) for t in q.excluded],
        "filter": filter_clauses(q.filters, params),
    }
    ranked = bool(q.groups) and (q.sort or params.sort) != "time"
    kwargs: dict[str, Any] = {
        "query": {"bool": boolq},
        "sort": ["_score", {"id": "desc"}] if ranked else [{"id": "desc"}],
        "from_": (max(1, params.page) - 1) * params.per_page,
        "size": params.per_page,
        "track_total_hits": track_total_hits,
        "source": ["id"],
    }
    if params.facets:
        kwargs["aggs"] = facet_aggs(facet_size)
    section = highlight_section(q) if highlight else None
    if section:
        kwargs["highlight"] = section
    return kwargs


def facet_aggs(size: int) -> dict[str, Any]:
    aggs: dict[str, Any] = {name: {"terms": {"field": field, "size": size}} for name, field in FACET_FIELDS.items()}
    aggs["day"] = {
        "date_histogram": {
            "field": "day",
            "calendar_interval": "day",
            "format": "yyyy-MM-dd",
            "min_doc_count": 1,
            "order": {"_key": "desc"},
        }
    }
    return aggs


def parse_facets(aggs: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    out = {
        name: [(str(b["key"]), int(b["doc_count"])) for b in aggs.get(name, {}).get("buckets", [])]
        for name in FACET_FIELDS
    }
    days = aggs.get("day", {}).get("buckets", [])[:31]
    out["day"] = sorted((b.get("key_as_string") or str(b["key"]), int(b["doc_count"])) for b in days)
    return out


def alias_swap_actions(alias: str, new_index: str, old_indexes: list[str]) -> list[dict[str, Any]]:
    """Body "actions" of POST _aliases: one atomic switch, so searches never see a missing index."""
    actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in old_indexes]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    return actions
