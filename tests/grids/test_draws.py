"""双随机 draws: rates by grade, inspector pairs, exact reproduction from the seed, the public list."""

import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import UserError
from core.models import SpotCheckItem, Venue
from grids import draws
from tests.helpers import make_grid, make_inspector, make_venue

AS_OF = dt.date(2026, 7, 1)


def _pool(session, n=5):
    for i in range(n):
        make_inspector(session, name=f"执法员{i}", badge_no=f"32050800{i:03d}")


def _venues(session, per_grade=10):
    grid = make_grid(session)
    out = {}
    for grade in "ABCD":
        out[grade] = [make_venue(session, grid=grid, risk_grade=grade).id for _ in range(per_grade)]
    return out


def _items(session, draw_id):
    return [
        (i.venue_id, i.inspector1_id, i.inspector2_id)
        for i in session.scalars(
            select(SpotCheckItem).where(SpotCheckItem.draw_id == draw_id).order_by(SpotCheckItem.venue_id)
        )
    ]


def test_rates_by_grade_and_pairs(cfg, session):
    _pool(session)
    venues = _venues(session)
    params = draws.DrawParams(rates={"A": 0, "B": 0, "C": 0.2, "D": 0.5})
    row = draws.draw(session, params, seed="2026-07 月度抽查", as_of=AS_OF)
    items = _items(session, row.id)
    drawn = {v for v, _, _ in items}
    assert len(drawn & set(venues["C"])) == 2 and len(drawn & set(venues["D"])) == 5
    assert not drawn & (set(venues["A"]) | set(venues["B"]))
    assert all(i1 != i2 for _, i1, i2 in items)
    assert row.seed == "2026-07 月度抽查" and row.params["rates"]["D"] == 0.5
    assert row.params["venues"]["C"] == sorted(venues["C"])


def test_campaign_reaches_a_and_b(cfg, session):
    _pool(session)
    venues = _venues(session)
    params = draws.DrawParams(rates={"C": 0.1}, campaign="暑期专项", campaign_rates={"A": 0.1, "B": 0.1})
    drawn = {v for v, _, _ in _items(session, draws.draw(session, params, seed="s", as_of=AS_OF).id)}
    assert len(drawn & set(venues["A"])) == 1 and len(drawn & set(venues["B"])) == 1
    assert not drawn & set(venues["C"])


def test_same_seed_same_inputs_same_list_and_reproduce(cfg, session):
    _pool(session)
    _venues(session)
    params = draws.DrawParams.from_config(cfg.draws)
    a = draws.draw(session, params, seed="fixed-seed", as_of=AS_OF)
    assert draws.reproduce(session, a.id).ok
    other = draws.select_items("another-seed", a.params)
    assert draws.select_items("fixed-seed", a.params) == _items(session, a.id)
    assert other != _items(session, a.id)
    # Tampering with the stored list is caught.
    item = session.scalars(select(SpotCheckItem).where(SpotCheckItem.draw_id == a.id)).first()
    item.inspector2_id = next(i for i in a.params["inspectors"] if i not in (item.inspector1_id, item.inspector2_id))
    session.flush()
    assert not draws.reproduce(session, a.id).ok


def test_generated_seed_is_stored(cfg, session):
    _pool(session)
    _venues(session, per_grade=3)
    row = draws.draw(session, {"rates": {"D": 1.0}}, as_of=AS_OF)
    assert len(row.seed) == 32 and draws.reproduce(session, row.id).ok


def test_previous_pair_is_avoided(cfg, session):
    _pool(session, n=3)
    venues = _venues(session, per_grade=4)
    params = draws.DrawParams(rates={"D": 1.0})
    previous = {}
    for n in range(8):
        row = draws.draw(session, params, seed=f"round-{n}", as_of=AS_OF)
        items = _items(session, row.id)
        assert {v for v, _, _ in items} == set(venues["D"])
        for venue_id, i1, i2 in items:
            assert previous.get(venue_id) != (i1, i2)
            previous[venue_id] = (i1, i2)
        assert draws.reproduce(session, row.id).ok


def test_two_inspectors_needed_and_public_list(cfg, session):
    venues = _venues(session, per_grade=2)
    with pytest.raises(UserError, match="两名在岗执法人员"):
        draws.draw(session, {"rates": {"D": 1.0}}, seed="x")
    _pool(session, n=2)
    row = draws.draw(session, {"rates": {"D": 1.0}}, seed="x", as_of=AS_OF)
    draws.publish(session, row.id)
    session.get(Venue, venues["D"][0]).risk_grade = "A"  # regraded after the draw
    listed = draws.public_list(session, row.id)
    assert listed[0]["grade"] == "D"  # the list shows the grade the draw used
    assert [r["venue_id"] for r in listed] == sorted(venues["D"])
    assert "执法员0(32050800000)" in listed[0]["inspectors"]
    csv_text = draws.public_csv(session, row.id)
    assert csv_text.startswith('\ufeff"序号","检查对象"') and len(csv_text.strip().splitlines()) == 3
    assert draws.latest_draw(session, published_only=True).id == row.id
