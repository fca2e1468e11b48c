"""Elasticsearch request bodies against the documented shapes (always runs; no cluster needed).

Shapes from the Elasticsearch reference: index templates (`index_patterns`, `template.settings`,
`template.mappings`), custom analyzers (tokenizer + filter list), the bool query
(must/should/must_not/filter), terms/range queries, terms and date_histogram aggregations, the bulk
API's action lines with `_index`/`_id`, and `_aliases` add/remove actions.
"""

from __future__ import annotations

import datetime as dt

import pytest

from search.backends import es_requests as req
from search.backends.base import SearchParams
from search.query import merge_filters, parse_query


def test_index_template_shape():
    t = req.index_template("wangxun-hits", shards=2, replicas=1)
    assert t["index_patterns"] == ["wangxun-hits-v*"]
    settings = t["template"]["settings"]
    assert settings["number_of_shards"] == 2 and settings["number_of_replicas"] == 1
    bigram = settings["analysis"]["analyzer"]["wx_cjk_bigram"]
    assert bigram == {"type": "custom", "tokenizer": "standard", "filter": ["cjk_width", "lowercase", "cjk_bigram"]}
    props = t["template"]["mappings"]["properties"]
    assert t["template"]["mappings"]["dynamic"] == "strict"
    assert props["title"]["analyzer"] == "wx_cjk_bigram"
    assert props["text"]["fields"]["uni"]["analyzer"] == "wx_cjk_unigram"
    assert {props[k]["type"] for k in ("labels", "platform", "source", "status")} == {"keyword"}
    assert props["location"] == {"type": "geo_point"}
    assert props["detected_at"]["type"] == "date" and props["day"]["format"] == "yyyy-MM-dd"
    # every analyzer a field names is defined, or comes from a plugin asked for explicitly
    defined = set(settings["analysis"]["analyzer"])
    for f in ("title", "text", "account"):
        assert props[f]["analyzer"] in defined and props[f]["fields"]["uni"]["analyzer"] in defined


@pytest.mark.parametrize("plugin, analyzer", [("smartcn", "smartcn"), ("ik", "ik_max_word")])
def test_optional_plugin_subfield(plugin, analyzer):
    props = req.index_template("a", plugin=plugin)["template"]["mappings"]["properties"]
    assert props["text"]["fields"]["smart"] == {"type": "text", "analyzer": analyzer}
    assert "smart" not in req.index_template("a")["template"]["mappings"]["properties"]["text"]["fields"]


def test_search_request_bool_query_filters_sort_aggs_and_highlights():
    q = parse_query(
        '"港澳 跟团" OR 包机 盜版 -招聘 书 label:旅行社 platform:shop date:2026-03-01..2026-03-31 score:>=0.5'
    )
    q.filters.grid_ids = {3, 1}
    body = req.search_request(q, SearchParams(page=3, per_page=20, grid_ids={7}), 10000, 10)
    b = body["query"]["bool"]
    assert set(b) == {"must", "must_not", "filter"}
    group = b["must"][0]["bool"]
    assert group["minimum_should_match"] == 1 and len(group["should"]) == 2
    phrase = group["should"][0]["multi_match"]
    assert phrase["type"] == "phrase" and phrase["query"] == "港澳 跟团"
    assert phrase["fields"] == ["title^5", "text^1", "account^2", "reasons^1"]
    assert b["must"][1]["multi_match"]["query"] == "盗版"  # normalised 繁→简 before it is sent
    assert b["must"][2]["multi_match"]["fields"][0] == "title.uni^5"  # a lone character: unigram fields
    assert b["must_not"][0]["multi_match"]["query"] == "招聘"
    assert {"terms": {"labels": ["unlicensed_travel"]}} in b["filter"]
    assert {"terms": {"platform": ["shop"]}} in b["filter"]
    assert {"terms": {"grid_id": [1, 3]}} in b["filter"] and {"terms": {"grid_id": [7]}} in b["filter"]
    assert {"range": {"day": {"format": "yyyy-MM-dd", "gte": "2026-03-01", "lte": "2026-03-31"}}} in b["filter"]
    assert {"range": {"score": {"gte": 0.5}}} in b["filter"]
    assert body["from_"] == 40 and body["size"] == 20 and body["track_total_hits"] == 10000
    assert body["sort"] == ["_score", {"id": "desc"}]
    assert body["aggs"]["platform"] == {"terms": {"field": "platform", "size": 10}}
    assert body["highlight"]["fields"]["title"] == {"fragment_size": 200, "number_of_fragments": 1}
    hist = body["aggs"]["day"]["date_histogram"]
    assert hist["field"] == "day" and hist["calendar_interval"] == "day"


def test_filter_only_and_time_sorted_queries():
    body = req.search_request(parse_query("status:new"), SearchParams(facets=False), 10000, 10)
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["sort"] == [{"id": "desc"}] and "aggs" not in body and "highlight" not in body  # no words to mark
    body = req.search_request(parse_query("盗版 sort:time"), SearchParams(), 10000, 10)
    assert body["sort"] == [{"id": "desc"}]
    q = merge_filters(parse_query("盗版"), {"date_from": "2026-01-01"})
    assert q.filters.date_from == dt.date(2026, 1, 1)
    body = req.search_request(q, SearchParams(min_hit_id=41), 10000, 10)
    assert {"range": {"id": {"gt": 41}}} in body["query"]["bool"]["filter"]


def test_bulk_actions_use_the_hit_id_and_normalised_text():
    doc = {"id": 42, "title": "盜版書籍", "text": "ＱＱ群", "account": "", "labels": ["illegal_publication"]}
    [action] = req.bulk_index_actions("wangxun-hits", [doc])
    assert action["_op_type"] == "index" and action["_index"] == "wangxun-hits" and action["_id"] == "42"
    assert action["_source"]["title"] == "盗版书籍" and action["_source"]["text"] == "qq群"
    assert action["_source"]["labels"] == ["illegal_publication"]
    assert req.bulk_delete_actions("a", [1, 2]) == [
        {"_op_type": "delete", "_index": "a", "_id": "1"},
        {"_op_type": "delete", "_index": "a", "_id": "2"},
    ]


def test_alias_swap_is_one_atomic_action_list():
    actions = req.alias_swap_actions("wangxun-hits", "wangxun-hits-v2", ["wangxun-hits-v1"])
    assert actions == [
        {"remove": {"index": "wangxun-hits-v1", "alias": "wangxun-hits"}},
        {"add": {"index": "wangxun-hits-v2", "alias": "wangxun-hits", "is_write_index": True}},
    ]
    assert req.index_name("x", dt.datetime(2026, 3, 1, 8, 0, 0)).startswith("x-v20260301080000")


def test_parse_facets_from_an_aggregations_response():
    aggs = {
        "label": {"buckets": [{"key": "unlicensed_travel", "doc_count": 3}]},
        "platform": {"buckets": []},
        "grid": {"buckets": [{"key": 5, "doc_count": 2}]},
        "source": {"buckets": []},
        "day": {
            "buckets": [
                {"key_as_string": "2026-03-02", "key": 1, "doc_count": 1},
                {"key_as_string": "2026-03-01", "key": 0, "doc_count": 4},
            ]
        },
    }
    f = req.parse_facets(aggs)
    assert f["label"] == [("unlicensed_travel", 3)] and f["grid"] == [("5", 2)]
    assert f["day"] == [("2026-03-01", 4), ("2026-03-02", 1)]


def test_documents_carry_the_concepts_the_mapping_knows_and_old_indexes_are_recognised():
    """INDEX_VERSION 2: every field of a real document (search.documents.to_doc) is mapped (the mapping
    is strict), `reasons` is searched like the text fields, and an index without it asks for a reindex."""
    from search.documents import INDEX_VERSION, to_doc

    class Row:  # a hits-table row as search.documents reads it
        id, url, source, platform, title, text, account = (
            7,
            "https://example.invalid/7",
            "s",
            "shop",
            "高仿名著",
            "高仿",
            "",
        )
        labels, score, status, grid_id, venue_id, location_name, lat, lon = (
            ["illegal_publication"],
            0.8,
            "new",
            None,
            None,
            None,
            None,
            None,
        )
        reasons = [
            {"label": "illegal_publication", "code": "piracy_terms", "text": "盗版/高仿", "field": "title"},
            {"label": "illegal_publication", "code": "piracy_terms", "text": "盗版/高仿", "field": "text"},
            {"label": "illegal_publication", "code": "act_offer", "text": "发帖人在招揽或售卖", "field": "text"},
        ]
        published_at = detected_at = dt.datetime(2026, 3, 1, 4, 0)

    doc = to_doc(Row, "Asia/Shanghai")
    t = req.index_template("wangxun-hits")
    props = t["template"]["mappings"]["properties"]
    assert set(doc) <= set(props)
    assert t["meta"]["index_version"] == INDEX_VERSION == 2
    assert props["reasons"]["analyzer"] == "wx_cjk_bigram" and props["reason_codes"]["type"] == "keyword"
    [action] = req.bulk_index_actions("wangxun-hits", [doc])
    assert action["_source"]["reason_codes"] == ["piracy_terms", "act_offer"]  # once, though in title and text
    assert "盗版" in action["_source"]["reasons"] and "非法出版物" in action["_source"]["reasons"]
    assert "发帖人" not in action["_source"]["reasons"]  # who speaks is not a concept (it is on nearly every hit)
    clause = req.term_clause(parse_query("盗版").groups[0][0])
    assert "reasons^1" in clause["multi_match"]["fields"]
    old = {"wangxun-hits-v1": {"mappings": {"properties": {k: v for k, v in props.items() if k != "reasons"}}}}
    assert not req.index_is_current(old) and not req.index_is_current({})
    assert req.index_is_current({"wangxun-hits-v2": {"mappings": {"properties": props}}})
    assert "wangxun reindex" in req.OLD_INDEX
