"""The clue loop from hit to case through the JSON API and the pages, with zones and the audit log."""

import hashlib
import io

from sqlalchemy import select

from core import db
from core.models import Attachment, AuditLog, Clue, Hit, Inspection
from tests.jobs.conftest import logged_in

PHOTO = b"\xff\xd8\xff\xe0" + b"scene photo" * 20


def _post(client, url, json=None, data=None):
    return client.post(url, json=json, data=data, headers={"X-CSRFToken": client.csrf})


def _audit(cfg):
    with db.session_scope(cfg) as s:
        return [
            (a.username, a.action, a.object_type, a.object_id)
            for a in s.scalars(select(AuditLog).order_by(AuditLog.id))
        ]


def test_api_loop_from_hit_to_case(cfg, app, world):
    patrol, gm, stranger = logged_in(app, "patrol"), logged_in(app, "gm_own"), logged_in(app, "gm_other")
    resp = _post(patrol, f"/api/hits/{world['hit']}/confirm", json={"note": "疑似无证经营出境游"})
    assert resp.status_code == 201, resp.text
    clue = resp.get_json()
    cid = clue["id"]
    assert clue["grid"]["id"] == world["own"] and clue["venue"]["id"] == world["venue"]
    assert clue["history"][0]["routed"] == "location" and clue["hit"]["status"] == "clue"
    assert _post(patrol, f"/api/hits/{world['hit']}/confirm", json={}).status_code == 400  # only once

    assert stranger.get(f"/api/clues/{cid}").status_code == 403
    assert _post(stranger, f"/api/clues/{cid}/start", json={}).status_code == 403
    assert stranger.get("/api/clues").get_json() == []
    assert _post(gm, f"/api/hits/{world['hit2']}/confirm", json={}).status_code == 403  # triage is patrol's

    assert [c["id"] for c in gm.get("/api/clues?status=open").get_json()] == [cid]
    assert _post(gm, f"/api/clues/{cid}/start", json={}).get_json()["status"] == "inspecting"
    resp = _post(
        gm,
        f"/api/clues/{cid}/inspection",
        data={
            "result": "立案查处",
            "violations": "未经许可经营出境旅游业务",
            "penalty": "30000",
            "notes": "现场核实",
            "photos": (io.BytesIO(PHOTO), "现场1.jpg"),
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.get_json()
    assert (
        body["inspection"]["result"] == "立案查处" and body["photos"][0]["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    )
    missing_case_no = _post(gm, f"/api/clues/{cid}/close", json={"outcome": "case"})
    assert missing_case_no.status_code == 400 and "立案号" in missing_case_no.get_json()["error"]
    closed = _post(
        gm, f"/api/clues/{cid}/close", json={"outcome": "case", "case_no": "苏姑文执罚〔2026〕7号"}
    ).get_json()
    assert (closed["status"], closed["outcome"], closed["case_no"]) == ("closed", "case", "苏姑文执罚〔2026〕7号")
    assert [h["step"] for h in closed["history"]] == ["confirmed", "inspecting", "inspected", "closed"]

    photo = gm.get(f"/clues/attachments/{body['photos'][0]['id']}")
    assert photo.status_code == 200 and photo.data == PHOTO
    assert stranger.get(f"/clues/attachments/{body['photos'][0]['id']}").status_code == 403
    with db.session_scope(cfg) as s:
        c = s.get(Clue, cid)
        insp = s.get(Inspection, c.inspection_id)
        assert insp.clue_id == cid and insp.venue_id == world["venue"] and insp.penalty_yuan == 30000
        assert s.get(Hit, world["hit"]).status == "clue"
        att = s.scalar(select(Attachment).where(Attachment.inspection_id == insp.id))
        assert (cfg.data_dir / "attachments" / att.path).read_bytes() == PHOTO
    trail = _audit(cfg)
    for entry in [
        ("patrol", "confirm", "clue", str(cid)),
        ("gm_other", "denied", "clue", str(cid)),
        ("gm_own", "start", "clue", str(cid)),
        ("gm_own", "inspect", "clue", str(cid)),
        ("gm_own", "close", "clue", str(cid)),
    ]:
        assert entry in trail


def test_api_dismiss_needs_a_reason(cfg, app, world):
    patrol = logged_in(app, "patrol")
    assert _post(patrol, f"/api/hits/{world['hit2']}/dismiss", json={"reason": ""}).status_code == 400
    resp = _post(patrol, f"/api/hits/{world['hit2']}/dismiss", json={"reason": "正规出版社广告"})
    assert resp.get_json() == {"hit": world["hit2"], "status": "dismissed", "dismiss_reason": "正规出版社广告"}
    assert ("patrol", "dismiss", "hit", str(world["hit2"])) in _audit(cfg)


def test_pages_route_by_hand_and_list_tasks(cfg, app, world):
    patrol, gm = logged_in(app, "patrol"), logged_in(app, "gm_own")
    page = patrol.get(f"/hits/{world['hit2']}/triage")
    assert page.status_code == 200 and "按位置自动派发：平江一网格" in page.text
    resp = patrol.post(f"/hits/{world['hit2']}/confirm", data={"csrf_token": patrol.csrf, "grid_id": world["other"]})
    assert resp.status_code == 302
    with db.session_scope(cfg) as s:
        clue = s.scalar(select(Clue).where(Clue.hit_id == world["hit2"]))
        assert clue.grid_id == world["other"] and clue.history[0]["routed"] == "chosen"
    assert gm.get(f"/clues/{clue.id}").status_code == 403  # routed to the other grid
    other = logged_in(app, "gm_other")
    listing = other.get("/clues")
    assert f"#{clue.id}" in listing.text and "盗版教辅" in listing.text
    detail = other.get(f"/clues/{clue.id}")
    assert "被检查场所" in detail.text  # the hit named no venue: the form asks for one
    resp = other.post(
        f"/clues/{clue.id}/close",
        data={"csrf_token": other.csrf, "outcome": "no_violation", "note": "查无此店"},
        follow_redirects=True,
    )
    assert "线索已办结" in resp.text and "已办结" in resp.text
    assert gm.get("/clues?status=all").text.count("data-clue=") == 0
    assert patrol.get("/api/clues.geojson").get_json()["features"] == []  # closed clues leave the map
