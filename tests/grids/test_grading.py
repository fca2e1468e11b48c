"""Risk grading: factors, thresholds, determinism and stored history."""

import datetime as dt

from sqlalchemy import select

from core.models import GradingRun, Venue, VenueGrade
from grids import grading
from tests.helpers import make_grid, make_hit, make_inspection, make_venue

AS_OF = dt.date(2026, 6, 30)


def _params(cfg, **changes):
    data = cfg.grading.to_dict()
    data.update(changes)
    return grading.GradingParams.from_dict(data)


def _district(session):
    """A clean venue, a risky one (violations, fines, expired licence, hits) and a neighbour of the risky one."""
    quiet = make_grid(session, bounds=(120.60, 31.30, 120.61, 31.31))
    busy = make_grid(session, bounds=(120.61, 31.30, 120.62, 31.31))
    clean = make_venue(session, grid=quiet, category="泳池", licence_expiry=dt.date(2030, 1, 1))
    make_inspection(session, clean, date=dt.date(2025, 9, 1))
    make_inspection(session, clean, date=dt.date(2026, 3, 1))
    risky = make_venue(session, grid=busy, category="歌舞娱乐", lon=120.615, licence_expiry=dt.date(2026, 5, 1))
    make_inspection(
        session, risky, date=dt.date(2026, 1, 5), result="立案查处", violations="接纳未成年人", penalty_yuan=20000
    )
    make_inspection(session, risky, date=dt.date(2026, 4, 5), result="责令整改", violations="未悬挂许可证")
    make_inspection(session, risky, date=dt.date(2023, 1, 5), result="立案查处", penalty_yuan=90000)  # too old
    for _ in range(2):
        make_hit(session, busy, risky, detected_at=dt.datetime(2026, 6, 1))
    make_hit(session, busy, risky, status="dismissed", detected_at=dt.datetime(2026, 6, 1))
    neighbour = make_venue(session, grid=busy, category="网吧", lon=120.616, licence_expiry=dt.date(2026, 8, 1))
    session.flush()
    return clean, risky, neighbour


def test_factors_and_grades_follow_the_evidence(cfg, session):
    clean, risky, neighbour = _district(session)
    run = grading.grade_all(session, _params(cfg), AS_OF)
    grades = {g.venue_id: g for g in session.scalars(select(VenueGrade).where(VenueGrade.run_id == run.id))}
    assert set(grades[risky.id].factors) == set(grading.FACTORS)
    f = grades[risky.id].factors
    assert f["violations"]["basis"] == 2  # the 2023 case is outside the two-year window
    assert f["penalties"]["basis"] == 20000.0
    assert f["complaints"]["basis"] == 2  # the dismissed hit does not count
    assert f["licence"]["value"] == 1.0 and f["licence"]["basis"].startswith("expired")
    assert grades[neighbour.id].factors["licence"]["value"] == 0.5  # expires within 90 days
    assert grades[neighbour.id].factors["grid"]["value"] > 0  # a risky neighbour raises the grid factor
    assert grades[clean.id].factors["grid"]["value"] == 0
    assert grades[clean.id].grade == "A"
    assert grades[risky.id].grade == "D"
    assert grades[clean.id].score < grades[neighbour.id].score < grades[risky.id].score
    assert session.get(Venue, risky.id).risk_grade == "D"
    assert session.get(Venue, risky.id).risk_score == grades[risky.id].score


def test_grading_is_deterministic_and_keeps_history(cfg, session):
    _district(session)
    first = grading.grade_all(session, _params(cfg), AS_OF)
    second = grading.grade_all(session, _params(cfg), AS_OF)

    def rows(run):
        return [
            (g.venue_id, g.score, g.grade, g.factors)
            for g in session.scalars(
                select(VenueGrade).where(VenueGrade.run_id == run.id).order_by(VenueGrade.venue_id)
            )
        ]

    assert rows(first) == rows(second) and len(rows(first)) == 3
    assert first.params == second.params and first.params["as_of"] == AS_OF.isoformat()
    assert session.scalar(select(GradingRun).where(GradingRun.id == first.id)) is not None


def test_thresholds_and_weights_come_from_params(cfg, session):
    clean, risky, _ = _district(session)
    everyone_d = grading.grade_all(session, _params(cfg, thresholds=[0.0, 0.0, 0.0]), AS_OF)
    assert grading.grade_counts(session, everyone_d.id) == {"A": 0, "B": 0, "C": 0, "D": 3}
    only_industry = {f: 0.0 for f in grading.FACTORS} | {"industry": 1.0}
    run = grading.grade_all(session, _params(cfg, weights=only_industry), AS_OF)
    latest = grading.latest_factors(session, clean.id)
    assert latest["run_id"] == run.id
    assert latest["score"] == 100 * cfg.grading.industry_risk["泳池"]
    history = grading.grade_history(session, clean.id)
    assert [h["run_id"] for h in history] == [run.id, everyone_d.id]
    assert history[1]["grade"] == "D"


def test_grade_of_boundaries():
    assert [grading.grade_of(s, (25, 40, 60)) for s in (0, 24.99, 25, 39.9, 40, 60, 100)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "D",
        "D",
    ]


def test_bad_params_are_config_errors(cfg):
    import pytest

    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown factors"):
        _params(cfg, weights={"vibes": 1.0})
    with pytest.raises(ConfigError, match="ascending"):
        _params(cfg, thresholds=[50, 40, 60])
