"""The Elasticsearch backend's requests, as the real client (elasticsearch-py, pinned) sends them, without
a cluster: the named arguments bind to the client's own method signatures (a misspelt one fails
here), and the requests the client writes reach a listener on 127.0.0.1 that records them and then
closes the connection without answering. Nothing here pretends to be Elasticsearch: no response is
invented; the backend sees a dropped connection and says the index is unavailable. What a cluster
answers is checked only by the live cases (test_backends.py with WANGXUN_TEST_ELASTICSEARCH_URL)."""

from __future__ import annotations

import inspect
import json
import socket
import threading

import pytest
from elasticsearch import Elasticsearch

from search.analysis import normalize
from search.backends import es_requests as req
from search.backends.base import IndexUnavailable, SearchParams
from search.backends.elastic import ElasticBackend
from search.highlight import find_spans, mark, parse_fragment, snippets_from_fragments
from search.query import parse_query
from tests.conftest import make_config


class Recorder:
    """A TCP listener on 127.0.0.1 that reads each HTTP request whole and hangs up without a reply."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[dict] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
                length = int(headers.get("content-length", 0))
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                method, path, _ = lines[0].split(" ", 2)
                self.requests.append({"method": method, "path": path, "headers": headers, "body": body})

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


@pytest.fixture
def backend(tmp_path, recorder):
    cfg = make_config(
        tmp_path,
        **{
            "search.backend": "elasticsearch",
            "search.es_url": f"http://127.0.0.1:{recorder.port}",
            "search.es_max_retries": 0,
            "search.es_request_timeout_s": 5,
            "search.es_plugin_analyzer": "none",
            "search.es_index_alias": "wx-test",
        },
    )
    return ElasticBackend(cfg)


def _bind(method, **kwargs) -> None:
    """Raises TypeError when the client's method has no such parameter (it takes no **kwargs)."""
    inspect.signature(method).bind(None, **kwargs)


def test_every_request_the_backend_builds_binds_to_the_clients_signatures():
    q = parse_query('"港澳 跟团" OR 包机 盗版 -招聘 书 label:旅行社 date:2026-03-01..2026-03-31')
    for params in (SearchParams(page=3, facets=True), SearchParams(sort="time", facets=False, highlight=False)):
        _bind(Elasticsearch.search, index="a", **req.search_request(q, params, 10000, 10))
    indices = type(Elasticsearch(["http://127.0.0.1:9"]).indices)  # no connection is made
    _bind(indices.put_index_template, name="a", **req.index_template("a", 1, 0, "ik"))
    _bind(indices.create, index="a-v1", settings={"refresh_interval": "-1"})
    with pytest.raises(TypeError):  # the check itself: a misspelt argument does not bind
        _bind(Elasticsearch.search, index="a", form_=40)
    with pytest.raises(TypeError):  # …nor does the raw body's spelling of a parameter
        _bind(Elasticsearch.search, index="a", **{"from": 40})


def test_the_search_request_the_client_sends_asks_for_highlights_facets_and_the_page(backend, recorder):
    q = parse_query("盜版 -招聘 platform:shop")
    with pytest.raises(IndexUnavailable, match="Elasticsearch"):
        backend.search(q, SearchParams(page=3, per_page=20))
    [sent] = recorder.requests
    assert sent["method"] == "POST" and sent["path"] == "/wx-test/_search"
    body = json.loads(sent["body"])
    assert set(body) == {"query", "sort", "from", "size", "track_total_hits", "_source", "aggs", "highlight"}
    assert body["from"] == 40 and body["size"] == 20 and body["_source"] == ["id"]
    assert body["query"]["bool"]["must"][0]["multi_match"]["query"] == "盗版"  # normalised before it is sent
    hl = body["highlight"]
    assert hl["pre_tags"] == ["<mark>"] and hl["post_tags"] == ["</mark>"] and hl["encoder"] == "html"
    assert hl["fields"]["text"] == {"fragment_size": 120, "number_of_fragments": 1}
    assert {"title", "title.uni", "text", "text.uni", "reason_names", "reason_names.uni"} == set(hl["fields"])
    assert set(body["aggs"]) == {"label", "platform", "grid", "source", "day"}


def test_a_filter_only_or_zone_wide_search_asks_for_no_highlights(backend, recorder):
    for q, params in (
        (parse_query("platform:shop"), SearchParams()),
        (parse_query("盗版"), SearchParams(per_page=10000, facets=False, highlight=False)),  # zone.candidates
    ):
        with pytest.raises(IndexUnavailable):
            backend.search(q, params)
    assert all("highlight" not in json.loads(r["body"]) for r in recorder.requests) and len(recorder.requests) == 2


def test_the_index_template_and_bulk_requests_the_client_sends(backend, recorder):
    with pytest.raises(Exception):  # noqa: B017 - the listener hangs up: the client's connection error
        backend.put_template()
    with pytest.raises(IndexUnavailable):
        backend.index(
            [{"id": 42, "title": "盜版書籍", "text": "ＱＱ群", "account": "", "labels": ["illegal_publication"]}]
        )
    template, bulk = recorder.requests
    assert template["method"] == "PUT" and template["path"] == "/_index_template/wx-test"
    body = json.loads(template["body"])
    assert set(body) == {"index_patterns", "priority", "_meta", "template"} and body["index_patterns"] == ["wx-test-v*"]
    assert body["template"]["mappings"]["properties"]["reason_names"]["analyzer"] == "wx_cjk_bigram"
    assert bulk["method"] in ("PUT", "POST") and bulk["path"].startswith("/_bulk")
    action, source = [json.loads(line) for line in bulk["body"].decode().splitlines() if line.strip()]
    assert action == {"index": {"_index": "wx-test", "_id": "42"}}
    assert source["title"] == "盗版书籍" and source["text"] == "qq群"


def test_highlighted_fragments_become_the_same_snippets_as_the_embedded_backends():
    """Fragments in the format the highlight section asks for (pre_tags <mark>, encoder html), made here
    by search.highlight.mark over the normalised text the index holds, are shown in the hit's own
    characters with the same spans, contacts masked and ellipses, as search.highlight marks them."""
    doc = {
        "title": "全套盜版書籍 <包邮>",
        "text": "本店出售全套盜版書籍影印，加微信13812345678咨询",
        "reason_names": "盗版、高仿、翻印；售卖或提供",
    }
    pattern = parse_query("盗版书").groups[0][0].pattern
    fragments = {}
    for field, key in (("title", "title"), ("text", "text"), ("reasons", "reason_names")):
        norm = normalize(doc[key])
        spans = find_spans(norm, [pattern])
        if spans:
            fragments[field] = [mark(norm[2:], [(s - 2, e - 2) for s, e in spans])]  # a fragment cut after 2 chars
    title, text, reasons = snippets_from_fragments(doc, fragments)
    assert title.text == "…盜版書籍 <包邮>" and [title.text[a:b] for a, b in title.spans] == ["盜版書"]
    assert "&lt;包邮&gt;" in title.html and "<mark>盜版書</mark>" in title.html
    assert [text.text[a:b] for a, b in text.spans] == ["盜版書"] and "13812345678" not in text.text
    assert reasons.spans == [] and reasons.text == doc["reason_names"]  # no match there: its opening
    assert parse_fragment(mark("a<b>&c", [(1, 4)])) == ("a<b>&c", [(1, 4)])
    assert parse_fragment("<mark>盗版</mark><mark>版书</mark>") == ("盗版版书", [(0, 4)])  # adjacent marks merge
