"""The clue loop in the domain layer: triage, routing, zones, inspection with photos, closing."""

import hashlib

import pytest
from sqlalchemy import select

from core.errors import UserError
from core.models import Attachment, Hit, Inspection, utcnow
from grids import grading
from hits import clues
from tests.helpers import make_grid, make_hit, make_user, make_venue


def _hit(session, **kw):
    return make_hit(session, title="低价港澳游,无需资质", url="https://mp.weixin.qq.com/s/abc", **kw)


@pytest.fixture
def world(session):
    west = make_grid(session, bounds=(120.60, 31.30, 120.61, 31.31))
    east = make_grid(session, bounds=(120.61, 31.30, 120.62, 31.31))
    venue = make_venue(session, grid=east, lon=120.615)
    patrol = make_user(session, role="patrol")
    manager = make_user(session, role="grid_manager", grids=[east])
    other_manager = make_user(session, role="grid_manager", grids=[west])
    return {"west": west, "east": east, "venue": venue, "patrol": patrol, "manager": manager, "other": other_manager}


def test_dismiss_needs_a_reason_and_only_once(session, world):
    hit = _hit(session)
    with pytest.raises(UserError, match="排除理由"):
        clues.dismiss_hit(session, hit.id, world["patrol"], "  ")
    clues.dismiss_hit(session, hit.id, world["patrol"], "正规旅行社转载")
    assert (hit.status, hit.dismiss_reason) == ("dismissed", "正规旅行社转载")
    with pytest.raises(UserError, match="已是“已排除”"):
        clues.confirm_hit(session, hit.id, world["patrol"])


def test_routing_by_hit_grid_location_or_hand(session, world):
    by_grid = clues.confirm_hit(session, _hit(session, grid_id=world["west"].id).id, world["patrol"])
    assert by_grid.grid_id == world["west"].id and by_grid.history[0]["routed"] == "hit_grid"
    by_point = clues.confirm_hit(session, _hit(session, lon=120.615, lat=31.305).id, world["patrol"])
    assert by_point.grid_id == world["east"].id and by_point.history[0]["routed"] == "location"
    assert session.get(Hit, by_point.hit_id).grid_id == world["east"].id
    by_hand = clues.confirm_hit(
        session, _hit(session, lon=121.5, lat=31.2).id, world["patrol"], grid_id=world["west"].id
    )
    assert by_hand.grid_id == world["west"].id and by_hand.history[0]["routed"] == "chosen"
    with pytest.raises(UserError, match="手动选择网格"):
        clues.confirm_hit(session, _hit(session, lon=121.5, lat=31.2).id, world["patrol"])


def test_loop_from_hit_to_case_feeds_grading(cfg, session, world, tmp_path):
    hit = _hit(session, lon=120.615, lat=31.305, venue_id=world["venue"].id)
    clue = clues.confirm_hit(session, hit.id, world["patrol"], note="疑似无证经营")
    assert (clue.venue_id, hit.status) == (world["venue"].id, "clue")
    with pytest.raises(clues.NotInZone):
        clues.start_inspection(session, clue.id, world["other"])
    assert [c.id for c in clues.list_clues(session, world["other"])] == []
    assert [c.id for c in clues.list_clues(session, world["manager"], status="active")] == [clue.id]
    clues.start_inspection(session, clue.id, world["manager"])
    photo = b"\xff\xd8\xff\xe0 fake jpeg bytes"
    inspection = clues.record_inspection(
        session,
        clue.id,
        world["manager"],
        "立案查处",
        violations="超范围经营出境游",
        penalty=30000,
        notes="现场检查",
        photos=[("现场.jpg", photo)],
        attachments_dir=tmp_path / "att",
    )
    att = session.scalar(select(Attachment).where(Attachment.inspection_id == inspection.id))
    assert att.sha256 == hashlib.sha256(photo).hexdigest()
    assert (tmp_path / "att" / att.path).read_bytes() == photo
    with pytest.raises(UserError, match="立案号"):
        clues.close_clue(session, clue.id, world["manager"], "case")
    clues.close_clue(session, clue.id, world["manager"], "case", case_no="苏姑文执罚〔2026〕12号")
    assert (clue.status, clue.outcome, clue.inspection_id) == ("closed", "case", inspection.id)
    assert session.get(Inspection, inspection.id).clue_id == clue.id
    assert [h["step"] for h in clue.history] == ["confirmed", "inspecting", "inspected", "closed"]
    assert all(h["at"].endswith("+00:00") for h in clue.history)
    summary = clues.clue_summary(session, clue)
    assert summary["photos"][0]["sha256"] == att.sha256 and summary["hit"]["id"] == hit.id
    run = grading.grade_all(session, grading.GradingParams.from_config(cfg.grading), utcnow().date())
    factors = grading.latest_factors(session, world["venue"].id)["factors"]
    assert run.id and factors["violations"]["basis"] == 1 and factors["penalties"]["basis"] == 30000.0
    assert factors["complaints"]["basis"] == 1


def test_inspection_needs_a_venue_and_photos_must_be_images(session, world, tmp_path):
    clue = clues.confirm_hit(session, _hit(session, grid_id=world["east"].id).id, world["patrol"])
    with pytest.raises(UserError, match="请选择被检查的场所，或填写无登记场所的当事人"):
        clues.record_inspection(session, clue.id, world["manager"], "未发现问题")
    with pytest.raises(UserError, match="照片须是"):
        clues.record_inspection(
            session,
            clue.id,
            world["manager"],
            "未发现问题",
            venue_id=world["venue"].id,
            photos=[("run.exe", b"MZ")],
            attachments_dir=tmp_path,
        )
    with pytest.raises(UserError, match="请先记录检查"):
        clues.close_clue(session, clue.id, world["manager"], "corrected")
    closed = clues.close_clue(session, clue.id, world["manager"], "no_violation", note="查无此店")
    assert closed.status == "closed" and closed.case_no is None
