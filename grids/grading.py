"""分级分类监管: a risk score and grade (A best … D worst) for every venue, after the Beijing model.

Seven factors, each a value in [0, 1] times a weight from `[grading]`:

    no_recent_inspection  few inspections in the lookback window (an unseen venue is an unknown risk)
    violations            inspections that found problems (责令整改 / 立案查处 or listed violations)
    penalties             fines imposed in the window
    complaints            hits and clues linked to the venue (not dismissed)
    industry              the category's base risk
    grid                  hits and violations per venue in the venue's grid (its surroundings)
    licence               expired (1), expiring within licence_warn_days (0.5), unknown (licence_unknown)

score = 100 * Σ weight·value / Σ weight, so 0 is no risk and 100 is every factor at its worst.
Grading is deterministic: venues are walked in id order, factors in FACTORS order, the only clock is
`as_of`, and every run is stored (GradingRun + VenueGrade) so grades can be compared over time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.i18n import N_, Msg
from core.models import Clue, GradingRun, Hit, Inspection, Venue, VenueGrade

FACTORS = ("no_recent_inspection", "violations", "penalties", "complaints", "industry", "grid", "licence")
GRADES = ("A", "B", "C", "D")
GRADE_COLOURS = {"A": "green", "B": "blue", "C": "yellow", "D": "red"}
NO_PROBLEM_RESULT = "未发现问题"
CLOSED_VENUE_STATUS = "注销"


@dataclasses.dataclass(frozen=True)
class GradingParams:
    weights: Mapping[str, float]
    thresholds: tuple[float, float, float]
    lookback_days: int = 730
    inspections_expected: int = 2
    violations_cap: int = 3
    penalties_cap_yuan: float = 50000.0
    complaints_cap: int = 3
    grid_density_cap: float = 1.0
    licence_warn_days: int = 90
    licence_unknown: float = 0.5
    industry_risk: Mapping[str, float] = dataclasses.field(default_factory=dict)
    default_industry_risk: float = 0.5

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> GradingParams:
        """Build from the `[grading]` section (a core.config Section or a plain dict)."""
        data = section.to_dict() if hasattr(section, "to_dict") else dict(section)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradingParams:
        known = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        kw["weights"] = {k: float(v) for k, v in dict(kw["weights"]).items()}
        kw["thresholds"] = tuple(float(t) for t in kw["thresholds"])
        kw["industry_risk"] = {k: float(v) for k, v in dict(kw.get("industry_risk", {})).items()}
        params = cls(**kw)
        params.validate()
        return params

    def validate(self) -> None:
        from core.errors import ConfigError

        unknown = set(self.weights) - set(FACTORS)
        if unknown:
            raise ConfigError(f"[grading] weights names unknown factors: {', '.join(sorted(unknown))}")
        if sum(self.weights.get(f, 0.0) for f in FACTORS) <= 0:
            raise ConfigError("[grading] weights must have a positive sum")
        if len(self.thresholds) != 3 or list(self.thresholds) != sorted(self.thresholds):
            raise ConfigError("[grading] thresholds must be three ascending scores (lowest B, C, D)")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["weights"] = {f: float(self.weights.get(f, 0.0)) for f in FACTORS}
        d["thresholds"] = list(self.thresholds)
        d["industry_risk"] = dict(sorted(self.industry_risk.items()))
        return d


def grade_all(session: Session, params: GradingParams | Mapping[str, Any], as_of: dt.date) -> GradingRun:
    """Grade every venue that is not deregistered; store the run and update Venue.risk_grade/score."""
    if not isinstance(params, GradingParams):
        params = GradingParams.from_dict(params)
    stats = _collect(session, params, as_of)
    run = GradingRun(params={**params.to_dict(), "as_of": as_of.isoformat()})
    session.add(run)
    session.flush()
    venues = session.scalars(select(Venue).where(Venue.status != CLOSED_VENUE_STATUS).order_by(Venue.id))
    for venue in venues:
        factors = venue_factors(venue, stats, params, as_of)
        score = score_of(factors)
        grade = grade_of(score, params.thresholds)
        session.add(VenueGrade(run_id=run.id, venue_id=venue.id, score=score, grade=grade, factors=factors))
        venue.risk_score, venue.risk_grade = score, grade
    session.flush()
    return run


def venue_factors(venue: Venue, stats: _Stats, params: GradingParams, as_of: dt.date) -> dict[str, dict]:
    """factor -> {value, weight, points, basis}; `basis` is the raw number shown on the venue page."""
    inspected = stats.inspections[venue.id]
    violations = stats.violations[venue.id]
    penalty = round(stats.penalties[venue.id], 2)
    complaints = stats.complaints[venue.id]
    density = stats.grid_density.get(venue.grid_id, 0.0) if venue.grid_id else 0.0
    raw = {
        "no_recent_inspection": (
            max(0.0, 1 - inspected / params.inspections_expected) if params.inspections_expected > 0 else 0.0,
            inspected,
        ),
        "violations": (_capped(violations, params.violations_cap), violations),
        "penalties": (_capped(penalty, params.penalties_cap_yuan), penalty),
        "complaints": (_capped(complaints, params.complaints_cap), complaints),
        "industry": (params.industry_risk.get(venue.category, params.default_industry_risk), venue.category),
        "grid": (_capped(density, params.grid_density_cap), round(density, 4)),
        "licence": _licence(venue.licence_expiry, params, as_of),
    }
    total_weight = sum(params.weights.get(f, 0.0) for f in FACTORS)
    out = {}
    for f in FACTORS:
        value, basis = raw[f]
        weight = float(params.weights.get(f, 0.0))
        out[f] = {
            "value": round(float(value), 4),
            "weight": weight,
            "points": round(100 * weight * float(value) / total_weight, 2),
            "basis": basis,
        }
    return out


def score_of(factors: Mapping[str, Mapping[str, Any]]) -> float:
    return round(sum(factors[f]["points"] for f in FACTORS), 2)


def grade_of(score: float, thresholds) -> str:
    grade = "A"
    for threshold, g in zip(thresholds, GRADES[1:], strict=True):
        if score >= threshold:
            grade = g
    return grade


def latest_factors(session: Session, venue_id: int) -> dict[str, Any] | None:
    """The newest grade of a venue with its factors, for the venue page; None if never graded."""
    row = session.execute(
        select(VenueGrade, GradingRun)
        .join(GradingRun, GradingRun.id == VenueGrade.run_id)
        .where(VenueGrade.venue_id == venue_id)
        .order_by(VenueGrade.run_id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    grade, run = row
    return {
        "run_id": run.id,
        "graded_at": run.at,
        "as_of": run.params.get("as_of"),
        "score": grade.score,
        "grade": grade.grade,
        "colour": GRADE_COLOURS[grade.grade],
        "factors": grade.factors,
    }


def grade_history(session: Session, venue_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The venue's grades, newest first, so changes over time can be seen."""
    rows = session.execute(
        select(VenueGrade.run_id, GradingRun.at, VenueGrade.score, VenueGrade.grade)
        .join(GradingRun, GradingRun.id == VenueGrade.run_id)
        .where(VenueGrade.venue_id == venue_id)
        .order_by(VenueGrade.run_id.desc())
        .limit(limit)
    )
    return [{"run_id": r, "at": at, "score": s, "grade": g} for r, at, s, g in rows]


def grade_counts(session: Session, run_id: int) -> dict[str, int]:
    counts = dict(
        session.execute(
            select(VenueGrade.grade, func.count()).where(VenueGrade.run_id == run_id).group_by(VenueGrade.grade)
        ).all()
    )
    return {g: counts.get(g, 0) for g in GRADES}


# ---------------------------------------------------------------- helpers


@dataclasses.dataclass
class _Stats:
    inspections: Counter
    violations: Counter
    penalties: defaultdict
    complaints: Counter
    grid_density: dict[int, float]


def _collect(session: Session, params: GradingParams, as_of: dt.date) -> _Stats:
    """Per-venue and per-grid counts with a few grouped queries (districts have tens of thousands of venues)."""
    since = as_of - dt.timedelta(days=params.lookback_days)
    since_dt = dt.datetime.combine(since, dt.time())
    until_dt = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    stats = _Stats(Counter(), Counter(), defaultdict(float), Counter(), {})
    rows = session.execute(
        select(Inspection.venue_id, Inspection.result, Inspection.violations, Inspection.penalty_yuan)
        .where(Inspection.date >= since, Inspection.date <= as_of, Inspection.venue_id.is_not(None))
        .order_by(Inspection.id)
    )  # a fixed order: float sums depend on it; a named party's inspection (no venue) grades nothing
    for venue_id, result, violations, penalty in rows:
        stats.inspections[venue_id] += 1
        if (result and result != NO_PROBLEM_RESULT) or (violations or "").strip():
            stats.violations[venue_id] += 1
        stats.penalties[venue_id] += float(penalty or 0)
    hit_rows = session.execute(
        select(Hit.id, Hit.venue_id, Hit.grid_id).where(
            Hit.status != "dismissed", Hit.detected_at >= since_dt, Hit.detected_at < until_dt
        )
    )
    hits_per_grid: Counter = Counter()
    venue_hit_ids: set[tuple[int, int]] = set()
    for hit_id, venue_id, grid_id in hit_rows:
        if venue_id:
            venue_hit_ids.add((venue_id, hit_id))
        if grid_id:
            hits_per_grid[grid_id] += 1
    # A clue linked to a venue by hand counts as a complaint even when its hit named no venue.
    clue_rows = session.execute(
        select(Clue.venue_id, Clue.hit_id).where(
            Clue.venue_id.is_not(None), Clue.created_at >= since_dt, Clue.created_at < until_dt
        )
    )
    venue_hit_ids.update((v, h) for v, h in clue_rows)
    for venue_id, _hit in venue_hit_ids:
        stats.complaints[venue_id] += 1
    stats.grid_density = _grid_density(session, stats.violations, hits_per_grid)
    return stats


def _grid_density(session: Session, violations: Counter, hits_per_grid: Counter) -> dict[int, float]:
    venue_grid = dict(
        session.execute(
            select(Venue.id, Venue.grid_id).where(Venue.grid_id.is_not(None), Venue.status != CLOSED_VENUE_STATUS)
        ).all()
    )
    venues_per_grid = Counter(venue_grid.values())
    events = Counter(hits_per_grid)
    for venue_id, n in violations.items():
        if venue_id in venue_grid:
            events[venue_grid[venue_id]] += n
    return {g: events[g] / venues_per_grid[g] for g in sorted(venues_per_grid)}


def _capped(x: float, cap: float) -> float:
    return min(1.0, x / cap) if cap > 0 else 0.0


# The licence factor's basis as stored ("expired 2026-11-02", "unknown"): a state and a date.
LICENCE_BASIS = {
    "expired": N_("许可证已于 %(date)s 过期"),
    "expires": N_("许可证将于 %(date)s 到期"),
    "valid until": N_("许可证有效期至 %(date)s"),
    "unknown": N_("许可证有效期不详"),
}
BASIS = {
    "no_recent_inspection": N_("统计期内检查 %(value)s 次"),
    "violations": N_("统计期内发现问题 %(value)s 次"),
    "penalties": N_("统计期内罚款 %(value)s 元"),
    "complaints": N_("关联的发现与线索 %(value)s 条"),
    "industry": N_("行业：%(value)s"),
    "grid": N_("所在网格平均每个场所 %(value)s 起发现或违规"),
}


def basis_text(factor: str, basis: Any) -> Msg:
    """A factor's stored basis (a number, a category, or the licence's "expired 2026-11-02") as the
    sentence the venue page shows; grades stored by any version read the same way."""
    if factor == "licence":
        text = str(basis or "unknown")
        for state in ("valid until", "expired", "expires", "unknown"):
            if text.startswith(state):
                return Msg(LICENCE_BASIS[state], date=text[len(state) :].strip())
        return Msg(N_("许可证：%(value)s"), value=text)
    if factor == "industry":
        return Msg(BASIS[factor], value=Msg(str(basis)))  # categories are stored as their Chinese names
    if factor in BASIS:
        value = f"{basis:g}" if isinstance(basis, float) else basis
        return Msg(BASIS[factor], value=value)
    return Msg(str(basis))


def _licence(expiry: dt.date | None, params: GradingParams, as_of: dt.date) -> tuple[float, str]:
    if expiry is None:
        return params.licence_unknown, "unknown"
    if expiry < as_of:
        return 1.0, f"expired {expiry.isoformat()}"
    if (expiry - as_of).days <= params.licence_warn_days:
        return 0.5, f"expires {expiry.isoformat()}"
    return 0.0, f"valid until {expiry.isoformat()}"
