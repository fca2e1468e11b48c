"""The same search cases against every backend, live: embedded on SQLite and postgres on a throwaway
PostgreSQL server (tests/pg.py) always, Elasticsearch when WANGXUN_TEST_ELASTICSEARCH_URL points at a
cluster (a throwaway alias is used and deleted)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest

import search
from core import db
from core.errors import UserError
from core.models import Grid, Hit
from hits.lifecycle import change_hit
from search import outbox
from search.query import QueryError
from tests.conftest import make_config
from tests.helpers import make_grid, make_hit

ES_URL = os.environ.get("WANGXUN_TEST_ELASTICSEARCH_URL")
BACKENDS = [
    "embedded",
    "postgres",
    pytest.param(
        "elasticsearch",
        marks=[pytest.mark.es, pytest.mark.skipif(not ES_URL, reason="WANGXUN_TEST_ELASTICSEARCH_URL is not set")],
    ),
]


def backend_config(request, tmp_path, backend: str):
    """A migrated database for `backend`: SQLite for embedded and Elasticsearch, a new PostgreSQL
    database (dropped at the end of the test) for postgres."""
    over = {"search.backend": backend}
    if backend == "elasticsearch":
        over.update({"search.es_url": ES_URL, "search.es_index_alias": f"wangxun-test-{uuid.uuid4().hex[:8]}"})
    if backend == "postgres":
        databases = request.getfixturevalue("pg_databases")
        url = databases.create()
        request.addfinalizer(lambda: databases.drop(url))
        over["core.database_url"] = url
    cfg = make_config(tmp_path, **over)
    if backend != "postgres":
        db.upgrade(cfg)
    return cfg


DOCS = [  # (title, text, platform, labels, status, score, day, grid index)
    (
        "港澳跟团游特价",
        "纯玩港澳五日游，无需资质，微信咨询，QQ群88776655",
        "wechat",
        ["unlicensed_travel"],
        "new",
        0.9,
        1,
        0,
    ),
    ("盗版教材低价出", "全套盜版書籍影印，包邮到家", "shop", ["illegal_publication"], "new", 0.8, 2, 1),
    ("正规旅行社招聘导游", "本社招聘导游，持证上岗", "web", ["unlicensed_travel"], "dismissed", 0.3, 3, 0),
    ("书店开业", "新华书店开业，正版图书八折", "note", ["illegal_publication"], "clue", 0.5, 4, 1),
    (
        "代购日本药妆",
        "海外代购，正品保证，不是旅行团",
        "shop",
        ["unlicensed_travel", "illegal_publication"],
        "new",
        0.6,
        5,
        0,
    ),
    ("ＶＩＰ私人定制游", "泰国包机自由行，ＶＩＰ服务", "forum", ["unlicensed_travel"], "new", 0.7, 6, 1),
]


@pytest.fixture(params=BACKENDS)
def env(request, tmp_path):
    backend = request.param
    cfg = backend_config(request, tmp_path, backend)
    with db.session_scope(cfg) as s:
        district = make_grid(s, code="320508", name="姑苏区", level="district")
        grids = [make_grid(s, parent=district), make_grid(s, parent=district)]
        ids = []
        for title, text, platform, labels, status, score, day, gi in DOCS:
            h = make_hit(
                s,
                grids[gi],
                title=title,
                text=text,
                url=f"https://example.invalid/{title}",
                source="测试来源",
                platform=platform,
                account="测试号",
                labels=labels,
                scores={},
                score=score,
                reasons=[],
                status=status,
                detected_at=dt.datetime(2026, 3, day, 4, 0),
            )
            ids.append(h.id)
        grid_ids = [g.id for g in grids]
    assert outbox.drain(cfg) == len(DOCS)
    if backend == "elasticsearch":
        search.get_backend(cfg).es.indices.refresh(index=cfg.search.es_index_alias)
    yield cfg, ids, grid_ids
    if backend == "elasticsearch":
        es = search.get_backend(cfg).es
        es.indices.delete(index=f"{cfg.search.es_index_alias}-v*", ignore_unavailable=True)
        es.indices.delete_index_template(name=cfg.search.es_index_alias)
    db.dispose(cfg)


def found(cfg, q, **kw) -> list[int]:
    return sorted(h.id for h in search.search(cfg, q, **kw).hits)


def test_one_two_character_and_phrase_queries(env):
    cfg, ids, _ = env
    assert found(cfg, "书") == [ids[1], ids[3]]  # 書 (traditional) in 盜版書籍, and 书店
    assert found(cfg, "盗版") == [ids[1]]
    assert found(cfg, "代购") == [ids[4]]
    assert found(cfg, "跟团") == [ids[0]]
    assert found(cfg, '"港澳五日游"') == [ids[0]]
    assert found(cfg, '"港澳七日游"') == []


def test_traditional_simplified_and_full_width(env):
    cfg, ids, _ = env
    assert found(cfg, "盜版書籍") == [ids[1]]  # traditional query, traditional text
    assert found(cfg, "盗版书籍") == [ids[1]]  # simplified query, traditional text
    assert found(cfg, "vip") == [ids[5]]  # full-width ＶＩＰ in the text
    assert found(cfg, "ＱＱ群") == [ids[0]]


def test_or_exclusion_and_filters(env):
    cfg, ids, grid_ids = env
    assert found(cfg, "代购 OR 包机") == [ids[4], ids[5]]
    assert found(cfg, "导游 OR 旅行团 -招聘") == [ids[4]]
    assert found(cfg, "导游 status:dismissed") == [ids[2]]
    assert found(cfg, "label:illegal_publication platform:shop") == [ids[1], ids[4]]
    assert found(cfg, "score:>=0.75") == [ids[0], ids[1]]
    assert found(cfg, "date:2026-03-02..2026-03-03") == [ids[1], ids[2]]
    assert found(cfg, "区县:姑苏区 书") == [ids[1], ids[3]]
    assert found(cfg, "书", grid_ids={grid_ids[0]}) == []  # zone scoping
    assert found(cfg, "-招聘 platform:web") == []


def test_sorting_pagination_facets_and_highlights(env):
    cfg, ids, grid_ids = env
    r = search.search(cfg, "platform:shop,forum,wechat", sort="time", per_page=2, page=1)
    assert r.total == 4 and [h.id for h in r.hits] == [ids[5], ids[4]]
    r2 = search.search(cfg, "platform:shop,forum,wechat", sort="time", per_page=2, page=2)
    assert [h.id for h in r2.hits] == [ids[1], ids[0]]
    facets = {k: {v["value"]: v["count"] for v in vals} for k, vals in r.facets.items()}
    assert facets["platform"] == {"shop": 2, "forum": 1, "wechat": 1}
    assert facets["label"] == {"unlicensed_travel": 3, "illegal_publication": 2}
    assert sum(facets["day"].values()) == 4 and "2026-03-02" in facets["day"]
    assert {v["label"] for v in r.facets["grid"]} <= {"测试网格" + str(n) for n in range(1000)} | set()
    hit = search.search(cfg, "盗版书").hits[0]
    body = next(s for s in hit.snippets if s.field == "text")
    assert [body.text[a:b] for a, b in body.spans] == ["盜版書"]
    assert "<mark>盜版書</mark>" in body.html


PIRACY = "盗版/高仿/翻印或自述未经授权复制：「高仿」"


def test_concepts_find_hits_flagged_for_them_whatever_the_seller_wrote(env):
    """盗版 (the search box's own example) finds a hit the detectors flagged for piracy although its
    seller wrote 高仿; so do the reason's code and the label's names; each reason is shown once."""
    cfg, ids, grid_ids = env
    with db.session_scope(cfg) as s:
        grid = s.get(Grid, grid_ids[1])
        flagged = make_hit(
            s,
            grid,
            title="高仿精装四大名著",
            text="高仿，内容一样，38元包邮",
            platform="shop",
            labels=["illegal_publication"],
            reasons=[  # the same reason from the title and from the text
                {
                    "label": "illegal_publication",
                    "code": "piracy_terms",
                    "text": PIRACY,
                    "field": "title",
                    "spans": [[0, 2]],
                },
                {
                    "label": "illegal_publication",
                    "code": "piracy_terms",
                    "text": PIRACY,
                    "field": "text",
                    "spans": [[0, 2]],
                },
                {
                    "label": "illegal_publication",
                    "code": "on_sale",
                    "text": "售卖或提供：「38元」",
                    "field": "text",
                    "spans": [],
                },
            ],
            detected_at=dt.datetime(2026, 3, 7, 4, 0),
        ).id
    outbox.drain(cfg)
    if cfg.search.backend == "elasticsearch":
        search.get_backend(cfg).es.indices.refresh(index=cfg.search.es_index_alias)
    assert found(cfg, "盗版") == [ids[1], flagged]  # ids[1] says 盗版 itself
    assert found(cfg, "piracy_terms") == [flagged]
    assert found(cfg, "高仿 label:出版物") == [flagged]
    assert flagged in found(cfg, "非法出版物") and ids[0] not in found(cfg, "非法出版物")
    assert found(cfg, "盗版 -高仿") == [ids[1]]
    [hit] = [h for h in search.search(cfg, "盗版").hits if h.id == flagged]
    why = next(s for s in hit.snippets if s.field == "reasons")
    assert why.text == "盗版、高仿、翻印；售卖或提供" and "<mark>盗版</mark>" in why.html


def test_stop_characters_punctuation_and_long_queries(env):
    cfg, _ids, _ = env
    r = search.search(cfg, "的 了")
    assert r.total == 0 and r.hits == [] and "常用字" in str(r.notice)
    r = search.search(cfg, "，。！？")
    assert r.total == 0 and "没有可搜索" in str(r.notice)
    with pytest.raises(UserError, match="查询过长"):
        search.search(cfg, "盗" * 10240)


@pytest.mark.parametrize(
    "attack",
    [
        '"',
        "NEAR(书 书)",
        '书" OR "',
        "* OR *",
        "a:b:c",
        "') OR 1=1 --",
        "书 AND",
        "NOT 书",
        "{title}: 书",
        "^书",
        "书*",
        "\x00书",
    ],
)
def test_fts_and_sql_injection_is_just_text(env, attack):
    """Never an engine error, never rows the words do not match: the words are searched as text, or
    the query is refused with the query language's own message (a dangling OR)."""
    cfg, ids, _ = env
    try:
        r = search.search(cfg, attack)
    except QueryError as exc:  # a malformed query: what and where, never an engine error
        assert exc.parts()["at"] and "查询有误" in str(exc)
        return
    assert {h.id for h in r.hits} <= {ids[1], ids[3]}


def test_reindex_replaces_the_index_and_updates_do_not_duplicate(env):
    cfg, ids, _ = env
    with db.session_scope(cfg) as s:  # a hit changes after it was indexed: the index follows
        change_hit(s, s.get(Hit, ids[3]), status="dismissed")
    outbox.drain(cfg)
    if cfg.search.backend == "elasticsearch":
        search.get_backend(cfg).es.indices.refresh(index=cfg.search.es_index_alias)
    assert found(cfg, "status:dismissed") == [ids[2], ids[3]]
    assert found(cfg, "书 status:clue") == []
    assert search.reindex(cfg, progress_bar=False) == len(DOCS)
    assert search.get_backend(cfg).count() == len(DOCS)
    assert found(cfg, "status:dismissed") == [ids[2], ids[3]]


def test_a_phrase_stays_inside_one_field(env):
    """A title ending in 港澳 and a text starting with 跟团 do not make the phrase "港澳 跟团": every
    backend matches a phrase inside one field (FTS5 columns, PostgreSQL weights, Elasticsearch fields)."""
    cfg, _ids, grid_ids = env
    with db.session_scope(cfg) as s:
        grid = s.get(Grid, grid_ids[0])
        # No account, labels or reasons: nothing between the title and the text.
        split = make_hit(s, grid, title="特价港澳", text="跟团游，报名从速", account="", label=None).id
        inside = make_hit(s, grid, title="特价", text="特价港澳，跟团游", account="", label=None).id
    outbox.drain(cfg)
    if cfg.search.backend == "elasticsearch":
        search.get_backend(cfg).es.indices.refresh(index=cfg.search.es_index_alias)
    assert found(cfg, '"港澳 跟团"') == [inside]
    assert split in found(cfg, "港澳 跟团")  # as two words, both fields count
