"""研判台 (#15 item 4): open hits counted, filtered, sorted and paged, with text and reasons inline, and
bulk confirm, dismiss and 移送 that first say how many hits they will change, then change all or none."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import db
from core.models import Clue, Hit
from core.vocabulary import HIT_LABEL
from tests.helpers import make_grid, make_hit, make_user
from tests.webmap.conftest import PASSWORD, csrf_from, login
from webmap import create_app

# The same reason found in the title and in the text (detection keeps them apart for highlighting).
REASON = [
    {"label": "illegal_publication", "code": "pirated", "text": "盗版", "field": "title"},
    {"label": "illegal_publication", "code": "pirated", "text": "盗版", "field": "text"},
]


@pytest.fixture
def world(cfg):
    with db.session_scope(cfg) as s:
        g1 = make_grid(s, code="320508001001", name="平江一网格", bounds=(120.60, 31.30, 120.62, 31.32))
        g2 = make_grid(s, code="320508002001", name="沧浪一网格", bounds=(120.62, 31.30, 120.64, 31.32))
        start = dt.datetime(2026, 11, 1)
        ids = {"travel": [], "books": [], "far": []}
        for n in range(45):
            grid = g1 if n % 3 else g2
            h = make_hit(
                s,
                grid,
                None,
                f"低价一日游{n:02d}",
                120.61 if grid is g1 else 120.63,
                31.31,
                text="纯玩一日游，含车费门票导游，" * 40,
                score=0.5 + n / 100,
                detected_at=start + dt.timedelta(hours=n),
                source="wechat_search",
                platform="wechat",
            )
            ids["travel"].append(h.id)
        for n in range(5):
            h = make_hit(
                s,
                g1,
                None,
                f"教辅复印本{n}",
                120.61,
                31.31,
                label="illegal_publication",
                reasons=REASON,
                text="全套教辅复印本",
                score=0.99,
                detected_at=start + dt.timedelta(days=10),
                source="shop_search",
                platform="shop",
            )
            ids["books"].append(h.id)
        ids["far"].append(
            make_hit(
                s, None, None, "杭州一日游", 120.15, 30.25, score=0.7, detected_at=start + dt.timedelta(days=11)
            ).id
        )
        make_user(s, "patrol", role="patrol", password=PASSWORD)
        make_user(s, "gm", role="grid_manager", password=PASSWORD, grids=[g1])
    return ids


@pytest.fixture
def client(cfg, world):
    c = create_app({"TESTING": True}, config=cfg).test_client()
    login(c, "patrol")
    return c


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-hit="(\d+)">', page)]


def test_counts_filters_sorting_and_paging(client, world):
    # Hit by hit (group=0): the world's hits of one family share their text, so they would group.
    first = client.get("/triage?group=0").text
    assert "待研判 51 条" in first and "第 1 / 2 页，共 51 条" in first
    assert len(_ids(first)) == 50
    assert _ids(first)[:5] == world["books"][::-1]  # highest score first (0.99 > travel's), then newest id
    travel, books = HIT_LABEL["unlicensed_travel"], HIT_LABEL["illegal_publication"]
    assert f"{travel}（46）" in first and f"{books}（5）" in first  # each label's count beside its name
    second = client.get("/triage?group=0&page=2").text
    assert len(_ids(second)) == 1 and not set(_ids(second)) & set(_ids(first))
    by_date = _ids(client.get("/triage?group=0&sort=date&order=asc&per_page=20").text)
    assert by_date[:3] == world["travel"][:3]
    books = client.get("/triage?group=0&label=illegal_publication").text
    assert sorted(_ids(books)) == world["books"] and "待研判 5 条" in books
    assert sorted(_ids(client.get("/triage?group=0&platform=shop").text)) == world["books"]
    assert _ids(client.get("/triage?group=0&grid=none").text) == world["far"]
    assert client.get("/triage?group=0&page=99").text.count("<tr data-hit") == 1  # past the end: the last page
    assert client.get("/triage?group=0&sort=nonsense").status_code == 400


def test_text_and_reasons_are_inline(client, world):
    page = client.get("/triage?label=illegal_publication&group=0").text
    assert "盗版" in page and "全套教辅复印本" in page
    assert page.count("<li>盗版 <span") == 5  # each book hit shows its reason, once


def test_bulk_dismiss_says_how_many_then_changes_every_one(client, cfg, world):
    page = client.get("/triage?label=illegal_publication").text
    token = csrf_from(page)
    form = {
        "csrf_token": token,
        "action": "dismiss",
        "reason": "经核实为正版",
        "hit_ids": [str(i) for i in world["books"]],
    }
    confirm = client.post("/triage/bulk", data=form)
    assert confirm.status_code == 200 and "确认：排除 5 条发现" in confirm.text
    with db.session_scope(cfg) as s:
        assert {s.get(Hit, i).status for i in world["books"]} == {"new"}  # nothing changed yet
    done = client.post("/triage/bulk", data={**form, "confirmed": "1"})
    assert done.status_code == 302
    with db.session_scope(cfg) as s:
        hits = [s.get(Hit, i) for i in world["books"]]
        assert {(h.status, h.dismiss_reason) for h in hits} == {("dismissed", "经核实为正版")}
    assert "待研判 46 条" in client.get("/triage").text


def test_a_bulk_action_is_all_or_nothing(client, cfg, world):
    token = csrf_from(client.get("/triage").text)
    # Confirming routes each hit to its grid; the far hit has none, so nothing may change.
    chosen = [str(world["travel"][0]), str(world["far"][0])]
    form = {"csrf_token": token, "action": "confirm", "hit_ids": chosen, "confirmed": "1"}
    r = client.post("/triage/bulk", data=form, follow_redirects=True)
    assert f"发现 #{world['far'][0]}" in r.text and "未做任何更改" in r.text
    with db.session_scope(cfg) as s:
        assert s.get(Hit, world["travel"][0]).status == "new" and s.query(Clue).count() == 0
    moved = client.post(
        "/triage/bulk",
        data={
            "csrf_token": token,
            "action": "transfer",
            "authority": "杭州市执法队",
            "hit_ids": chosen[1:],
            "confirmed": "1",
        },
    )
    assert moved.status_code == 302
    with db.session_scope(cfg) as s:
        assert s.get(Hit, world["far"][0]).status == "transferred"


def test_grid_managers_do_not_triage(cfg, world):
    c = create_app({"TESTING": True}, config=cfg).test_client()
    login(c, "gm")
    assert c.get("/triage").status_code == 403
    assert "研判</a>" not in c.get("/clues").text  # and the navigation does not offer it


def test_reposts_show_as_one_group_and_a_bulk_action_takes_the_whole_group(client, cfg, world):
    first = client.get("/triage").text
    # 45 travel hits share their text (their titles differ by digits only), the 5 book hits too.
    assert "待研判 51 条，合并相似内容后 3 组" in first and len(_ids(first)) == 3
    assert "相似 45 条" in first and "相似 5 条" in first
    rep = _ids(first)[0]  # the book group's representative (highest score)
    form = {
        "csrf_token": csrf_from(first),
        "action": "dismiss",
        "reason": "正版",
        "hit_ids": [str(rep)],
        "expand": "1",
        "back": "/triage",
    }
    confirm = client.post("/triage/bulk", data=form)
    assert "确认：排除 5 条发现" in confirm.text  # the confirmation counts the whole group
    ids = [int(i) for i in re.findall(r'name="hit_ids" value="(\d+)"', confirm.text)]
    assert sorted(ids) == world["books"]
    done = client.post("/triage/bulk", data={**form, "hit_ids": [str(i) for i in ids], "confirmed": "1"})
    assert done.status_code == 302
    with db.session_scope(cfg) as s:
        assert {s.get(Hit, i).status for i in world["books"]} == {"dismissed"}
