"""一户一档, recording inspections, assigning hits, exports and the audit log search."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest

from core import db
from core.models import AuditLog, Hit, Inspection
from tests.helpers import make_grade
from tests.webmap.conftest import csrf_from, login


def _audit(cfg, action):
    with db.session_scope(cfg) as s:
        return [
            (a.username, a.object_type, a.object_id, a.detail)
            for a in s.query(AuditLog).filter_by(action=action).order_by(AuditLog.id)
        ]


@pytest.fixture
def graded(cfg, users_world):
    factors = {
        "violations": {"value": 1.0, "weight": 3.0, "points": 30.0, "basis": 1},
        "licence": {"value": 0.0, "weight": 1.0, "points": 0.0, "basis": "2027-12-31"},
    }
    with db.session_scope(cfg) as s:
        make_grade(s, users_world.venue_own, "D", 30.0, factors)
    return users_world


def test_venue_page_shows_record_grade_factors_inspections_and_hits(client, graded):
    login(client, "gm_own")
    html = client.get(f"/venues/{graded.venue_own}").text
    assert "平江网吧" in html and "一户一档" in html and "TEST" in html  # licence number
    assert "违规记录" in html and "30.0" in html  # the factor behind the grade, in Chinese
    assert "责令整改" in html and "未核验身份证" in html  # inspection history
    assert "平江路低价一日游" in html  # linked hit
    assert "录入检查" in html


def test_recording_an_inspection_needs_csrf_and_is_audited(client, users_world, cfg):
    login(client, "gm_own")
    page = client.get(f"/venues/{users_world.venue_own}").text
    form = {
        "date": "2026-06-02",
        "inspectors": "赵执法、钱执法",
        "result": "立案查处",
        "violations": "接纳未成年人",
        "penalty_yuan": "5000",
        "notes": "现场检查",
    }
    assert client.post(f"/venues/{users_world.venue_own}/inspections", data=form).status_code == 400  # no token
    r = client.post(f"/venues/{users_world.venue_own}/inspections", data={**form, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    html = client.get(r.location).text
    assert "检查记录已保存" in html and "接纳未成年人" in html
    with db.session_scope(cfg) as s:
        insp = s.query(Inspection).filter_by(result="立案查处").one()
        assert insp.penalty_yuan == 5000 and insp.created_by is not None
    assert _audit(cfg, "create") == [
        (
            "gm_own",
            "inspection",
            str(insp.id),
            {"venue_id": users_world.venue_own, "result": "立案查处", "date": "2026-06-02"},
        )
    ]


def test_inspection_in_the_future_is_refused_with_a_message(client, users_world, cfg):
    login(client, "gm_own")
    page = client.get(f"/venues/{users_world.venue_own}").text
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    r = client.post(
        f"/venues/{users_world.venue_own}/inspections",
        data={"date": future, "inspectors": "赵执法", "result": "未发现问题", "csrf_token": csrf_from(page)},
    )
    assert "检查日期不能晚于今天" in client.get(r.location).text
    with db.session_scope(cfg) as s:
        assert s.query(Inspection).count() == 2  # only the two from the fixture


def test_patrol_assigns_a_hit_to_another_grid(client, users_world, cfg, app):
    login(client, "patrol")
    page = client.get(f"/hits/{users_world.hit_other}").text
    assert "分配到网格" in page
    r = client.post(
        f"/hits/{users_world.hit_other}/assign", data={"grid_id": users_world.grid_own, "csrf_token": csrf_from(page)}
    )
    assert r.status_code == 302
    with db.session_scope(cfg) as s:
        assert s.get(Hit, users_world.hit_other).grid_id == users_world.grid_own
    assert _audit(cfg, "assign") == [
        (
            "patrol",
            "hit",
            str(users_world.hit_other),
            {"from_grid": users_world.grid_other, "to_grid": users_world.grid_own},
        )
    ]
    gm = app.test_client()
    login(gm, "gm_own")
    assert gm.get(f"/hits/{users_world.hit_other}").status_code == 200  # now in their zone
    assert "分配到网格" not in gm.get(f"/hits/{users_world.hit_other}").text


def test_assigning_to_a_street_is_refused(client, users_world, cfg):
    login(client, "admin")
    page = client.get(f"/hits/{users_world.hit_own}").text
    r = client.post(
        f"/hits/{users_world.hit_own}/assign", data={"grid_id": users_world.street_other, "csrf_token": csrf_from(page)}
    )
    assert "请选择一个网格" in client.get(r.location).text
    with db.session_scope(cfg) as s:
        assert s.get(Hit, users_world.hit_own).grid_id == users_world.grid_own


def test_exports_hold_only_the_zone_and_are_audited(client, users_world, cfg):
    login(client, "gm_own")
    r = client.get("/export/venues.csv")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read UTF-8 Chinese
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row["名称"] for row in rows] == ["平江网吧"] and rows[0]["经度(WGS-84)"] == "120.61"
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/export/hits.xlsx").data))
    sheet = list(wb.active.values)
    assert sheet[0][:3] == ("编号", "标题", "类型") and [r[1] for r in sheet[1:]] == ["平江路低价一日游"]
    fc = json.loads(client.get("/export/venues.geojson").data)
    assert [f["properties"]["name"] for f in fc["features"]] == ["平江网吧"]
    assert fc["features"][0]["geometry"]["coordinates"] == [120.61, 31.31]
    exports = _audit(cfg, "export")
    assert [(e[0], e[1], e[3]["format"], e[3]["count"]) for e in exports] == [
        ("gm_own", "venues", "csv", 1),
        ("gm_own", "hits", "xlsx", 1),
        ("gm_own", "venues", "geojson", 1),
    ]


def test_admin_searches_the_audit_log(client, users_world):
    gm = client.application.test_client()
    login(gm, "gm_own")
    gm.get(f"/venues/{users_world.venue_own}")
    gm.get(f"/venues/{users_world.venue_other}")  # refused, and recorded
    login(client, "admin")
    html = client.get("/admin/?username=gm_own&action=denied").text
    assert "越权访问被拒" in html and f"场所 {users_world.venue_other}" in html and "共 1 条" in html
    html = client.get("/admin/?object_type=venue&action=view").text
    assert "共 1 条" in html and "gm_own" in html
    assert client.get("/admin/?date_from=bad").status_code == 400
