"""One vocabulary on the pages (#15 item 8): the clue history, the audit log, grade factors, the jobs
page and error messages show words, never stored codes, key=value pairs or JSON."""

import re

from sqlalchemy import select

from core import db
from core.models import AuditLog, Grid, User
from hits import clues
from tests.helpers import make_grade, make_hit
from tests.webmap.conftest import csrf_from, login
from webmap import create_app


def _visible(html: str) -> str:
    """The page's text as a user reads it: no tags, scripts, styles, attribute values or folded raw
    records (<details class="raw">)."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r'(?s)<details class="raw">.*?</details>', " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, element_id: str) -> str:
    return _visible(html.split(f'id="{element_id}"', 1)[1].split("</table>", 1)[0])


def test_clue_history_reads_as_sentences_on_the_clue_and_hit_pages(cfg, users_world, tmp_path):
    with db.session_scope(cfg) as s:
        patrol = s.scalar(select(User).where(User.username == "patrol"))
        hit = make_hit(s, s.get(Grid, users_world.grid_own), None, "周末一日游", 120.61, 31.31)
        clue = clues.confirm_hit(s, hit.id, patrol)
        clues.record_inspection(
            s,
            clue.id,
            patrol,
            "立案查处",
            photos=[("a.jpg", b"\xff\xd8x")],
            attachments_dir=tmp_path,
            venue_id=users_world.venue_own,
        )
        clues.close_clue(s, clue.id, patrol, "case", case_no="立字12号")
        clue_id, hit_id = clue.id, hit.id
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "admin")
    for url in (f"/clues/{clue_id}", f"/hits/{hit_id}"):
        history = _section(client.get(url).text, "history")
        assert "派发至网格 平江一网格（按发现所属网格分派）" in history, url
        assert "现场照片 1 张" in history and "办结结果：已立案" in history, url
        assert not re.search(r"=|routed|hit_grid|photos|outcome|\bcase\b", history), history


def test_audit_log_names_actions_and_details_without_json(cfg, users_world):
    with db.session_scope(cfg) as s:
        fresh = make_hit(s, s.get(Grid, users_world.grid_own), None, "周末一日游", 120.61, 31.31).id
        s.add_all(
            [
                AuditLog(
                    username="admin",
                    action="export",
                    object_type="search",
                    detail={
                        "format": "xlsx",
                        "count": 3,
                        "filters": {"platform": "shop,wechat", "label": "illegal_publication"},
                    },
                ),
                AuditLog(
                    username="patrol",
                    action="bulk_dismiss",
                    object_type="hit",
                    detail={"hit_ids": [4, 5], "reason": "重复"},
                ),
                AuditLog(
                    username="x", action="login_failed", object_type="user", detail={"username": "x", "status": 429}
                ),
                AuditLog(
                    username="admin",
                    action="update",
                    object_type="user",
                    detail={"field": "locale", "old": "zh_CN", "new": "en"},
                ),
                AuditLog(action="alert_delivery_failed", object_type="saved_search", detail={"alerts": 2}),
            ]
        )
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "patrol")
    client.get(f"/hits/{fresh}")  # audited: view, via hits.show
    page = client.get(f"/hits/{fresh}").text
    client.post(f"/hits/{fresh}/confirm", data={"csrf_token": csrf_from(page)})
    login(client, "admin")
    html = client.get("/admin/").text
    table = _section(html, "audit")
    for raw in ("{", "}", "routed", "hit_grid", "hits.show", "bulk_dismiss", "illegal_publication", "wechat", "xlsx"):
        assert raw not in table, raw
    assert "转为线索" in table and "分派方式：按发现所属网格分派" in table and "网格：平江一网格#" in table
    assert "查看" in table and "页面：发现详情页" in table
    assert "批量排除" in table and "发现：#4、#5；理由：重复" in table
    assert "格式：Excel" in table and "平台：网店、微信公众号，类型：非法出版物" in table
    assert "失败次数过多，已暂时锁定" in table
    assert "设置项：界面语言；原值：中文；新值：English" in table and "locale" not in table
    assert "关键词监控通知发送失败" in table and "提醒条数：2" in table and "alert_" not in table
    raw = html.split('id="audit"', 1)[1]  # the raw JSON stays at hand, folded away, for admins
    assert '<summary>原始记录</summary><code translate="no">{&#34;' in raw


def test_exports_name_the_crawl_source_and_the_status(cfg, users_world):
    with db.session_scope(cfg) as s:
        make_hit(s, s.get(Grid, users_world.grid_own), None, "盗版教辅", 120.61, 31.31, source="shop_search")
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "admin")
    body = client.get("/export/hits.csv").data.decode("utf-8-sig")
    assert "电商平台商品搜索（盗版书、电子版、旅游线路）" in body and "新发现" in body  # crawlers/sources.toml
    assert "shop_search" not in body and ",new," not in body


def test_grade_factors_on_the_venue_page_are_sentences(cfg, users_world):
    factors = {
        "licence": {"value": 1.0, "weight": 1.0, "points": 10.0, "basis": "expired 2026-11-02"},
        "penalties": {"value": 0.4, "weight": 1.0, "points": 4.0, "basis": 20000.0},
        "industry": {"value": 0.8, "weight": 1.0, "points": 8.0, "basis": "网吧"},
    }
    with db.session_scope(cfg) as s:
        make_grade(s, users_world.venue_own, factors=factors)
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "admin")
    html = client.get(f"/venues/{users_world.venue_own}").text
    assert "许可证已于 2026-11-02 过期" in html and "统计期内罚款 20000 元" in html and "行业：网吧" in html
    assert "expired" not in _visible(html)


def test_a_refused_evidence_package_and_a_refused_dismissal_say_why_in_chinese(cfg, users_world):
    with db.session_scope(cfg) as s:
        fresh = make_hit(s, s.get(Grid, users_world.grid_own), None, "周末一日游", 120.61, 31.31).id
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "patrol")
    page = client.get(f"/hits/{fresh}/evidence.zip", follow_redirects=True).text
    assert f"发现 #{fresh} 没有固定的证据，无可导出" in page and "no stored evidence" not in page
    token = csrf_from(client.get(f"/hits/{fresh}").text)
    api = client.post(
        f"/api/hits/{users_world.hit_own}/dismiss", json={"reason": "误报"}, headers={"X-CSRFToken": token}
    )
    assert api.status_code == 400
    assert api.get_json()["error"] == f"发现 #{users_world.hit_own} 已是“已转线索”，只有新发现可以排除"
