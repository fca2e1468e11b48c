"""A named party as an inspection's subject (#15): parsing, and grading and draws that keep using venues only."""

import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import UserError
from core.models import SpotCheckItem, Venue, VenueGrade
from grids import draws, grading
from grids.inspections import Party, party_fields, party_text
from tests.helpers import make_grid, make_inspection, make_inspector, make_venue

AS_OF = dt.date(2026, 6, 30)


def test_party_needs_a_name_and_fits_its_columns():
    party = Party.parse("  某某书屋 ", "淘宝：某某书屋", "", None)
    assert party == Party("某某书屋", "淘宝：某某书屋", None, None)
    assert party.columns()["party_account"] == "淘宝：某某书屋"
    with pytest.raises(UserError, match="当事人名称"):
        Party.parse("  ", "淘宝：x")
    with pytest.raises(UserError, match="地址不能超过 300 个字"):
        Party.parse("某店", address="路" * 301)
    assert party_text("某店", "微信：abc") == "某店（微信：abc）" and party_text("某店") == "某店"


def _grades(session):
    return {v.id: (v.risk_grade, v.risk_score) for v in session.scalars(select(Venue).order_by(Venue.id))}


def test_an_inspection_without_a_venue_changes_no_grade_and_no_draw(cfg, session):
    grid = make_grid(session)
    venues = [make_venue(session, grid=grid, licence_expiry=dt.date(2030, 1, 1)) for _ in range(6)]
    make_inspection(session, venues[0], dt.date(2026, 3, 1), result="责令整改", violations="未核验身份证")
    for n in range(3):
        make_inspector(session, name=f"执法员{n}", badge_no=f"3205089{n:04d}")
    params = grading.GradingParams.from_dict(cfg.grading.to_dict())
    grading.grade_all(session, params, AS_OF)
    before = _grades(session)
    draw_params = draws.DrawParams(rates={"A": 0.5, "B": 0.5, "C": 0.5, "D": 0.5})
    first = draws.draw(session, draw_params, seed="subjects", as_of=AS_OF)

    party = make_inspection(
        session,
        None,
        dt.date(2026, 4, 1),
        result="立案查处",
        violations="无证经营旅行社业务",
        penalty_yuan=30000,
        grid_id=grid.id,
        party_name="某某旅游工作室",
        party_account="微信：zzly2026",
    )
    assert party.venue_id is None and party_fields(party)["account"] == "微信：zzly2026"
    run = grading.grade_all(session, params, AS_OF)
    assert _grades(session) == before
    graded = session.scalars(select(VenueGrade.venue_id).where(VenueGrade.run_id == run.id)).all()
    assert sorted(graded) == [v.id for v in venues]
    second = draws.draw(session, draw_params, seed="subjects", as_of=AS_OF)
    drawn = session.scalars(select(SpotCheckItem.venue_id).where(SpotCheckItem.draw_id == second.id)).all()
    assert drawn and set(drawn) <= {v.id for v in venues}
    assert second.params["venues"] == first.params["venues"]
