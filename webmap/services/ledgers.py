"""台账: the venue ledger (场所台账) and the inspection ledger (检查记录) of a zone — search, filters,
sorting, pages with totals, and the same rows as CSV or Excel.

Everything is one indexed SQL query per page (WHERE … ORDER BY … LIMIT/OFFSET) plus one COUNT, with the
zone as a condition on the grid column, so a page costs the same at 100,000 venues as at 100
(bench/ledger_bench.py). Exports take the same conditions without the page and go through core.cells,
so text that starts like a formula stays text.

Zones: a venue belongs to its grid; an inspection to its venue's grid, or, when its subject is a named
party (no venue, 0008), to its own grid_id (the clue's or venue page's); an inspection driven by a clue
also needs the clue's grid in the zone (as webmap.zones.inspection_in_zone).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from core.cells import csv_text, xlsx_bytes
from core.i18n import N_, Msg
from core.licences import licence_key
from core.models import Clue, Grid, Inspection, Venue
from core.vocabulary import GRADES, INSPECTION_RESULTS, VENUE_CATEGORIES
from grids.inspections import party_text
from webmap.services import exports
from webmap.services.exports import MIMETYPES, VENUE_COLUMNS, Export

PER_PAGE_CHOICES = (20, 50, 100, 200)
DEFAULT_PER_PAGE = 50
DEFAULT_EXPIRING_DAYS = 30
MAX_EXPIRING_DAYS = 3650
NO_GRADE = "none"  # the grade filter's value for venues not graded yet
EXPIRY_FILTERS = {
    "expired": N_("已过期"),
    "expiring": N_("即将到期"),
    "valid": N_("有效"),
    "none": N_("未填有效期"),
}
VENUE_SORTS = {
    "name": N_("名称"),
    "category": N_("类别"),
    "grade": N_("风险等级"),
    "score": N_("风险评分"),
    "expiry": N_("许可证有效期"),
    "grid": N_("网格"),
    "id": N_("编号"),
}
INSPECTION_SORTS = {
    "date": N_("检查日期"),
    "result": N_("检查结果"),
    "subject": N_("检查对象"),
    "penalty": N_("罚款"),
    "id": N_("编号"),
}
SUBJECTS = {"venue": N_("登记场所"), "party": N_("无登记场所的当事人")}
INSPECTION_COLUMNS = [
    ("id", N_("编号")),
    ("date", N_("检查日期")),
    ("subject_kind", N_("检查对象类型")),
    ("subject", N_("场所/当事人")),
    ("licence_or_account", N_("许可证号/平台账号")),
    ("contact", N_("联系方式")),
    ("address", N_("地址")),
    ("grid_code", N_("网格编码")),
    ("grid_name", N_("网格")),
    ("inspectors", N_("执法人员")),
    ("result", N_("检查结果")),
    ("violations", N_("发现问题")),
    ("penalty_yuan", N_("罚款（元）")),
    ("clue_id", N_("线索编号")),
    ("case_no", N_("立案号")),
]


class LedgerError(ValueError):
    """A filter the ledger cannot use (the view answers 400 with this line)."""


@dataclass
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = ""
    desc: bool = False

    def check(self, sorts: dict[str, str], default: str) -> None:
        if self.page < 1:
            raise LedgerError(Msg(N_("页码必须是正整数")))
        if self.per_page not in PER_PAGE_CHOICES:
            raise LedgerError(Msg(N_("每页条数只能是 %(choices)s"), choices="、".join(map(str, PER_PAGE_CHOICES))))
        self.sort = self.sort or default
        if self.sort not in sorts:
            choices = "、".join(sorts.values())
            raise LedgerError(Msg(N_("不能按 %(sort)r 排序，可选：%(choices)s"), sort=self.sort, choices=choices))

    def clamped(self, total: int) -> Paging:
        """A page past the last (a bookmark, a filter that now matches less) shows the last page."""
        last = max(1, math.ceil(total / self.per_page))
        if self.page > last:
            self.page = last
        return self


@dataclass
class VenueQuery:
    q: str = ""
    categories: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()  # A–D and NO_GRADE
    grid_ids: set[int] | None = None  # leaf grids of the chosen grid, zone-checked by the view
    expiry: str = ""  # one of EXPIRY_FILTERS or ""
    within_days: int = DEFAULT_EXPIRING_DAYS
    paging: Paging = field(default_factory=Paging)

    def check(self) -> None:
        _known(N_("类别"), self.categories, VENUE_CATEGORIES)
        _known(N_("风险等级"), self.grades, (*GRADES, NO_GRADE))
        if self.expiry and self.expiry not in EXPIRY_FILTERS:
            raise LedgerError(Msg(N_("有效期筛选只能是：%(choices)s"), choices="、".join(EXPIRY_FILTERS.values())))
        if not 0 <= self.within_days <= MAX_EXPIRING_DAYS:
            raise LedgerError(Msg(N_("到期天数必须在 0 到 %(max)s 之间"), max=MAX_EXPIRING_DAYS))
        self.paging.check(VENUE_SORTS, "name")


@dataclass
class InspectionQuery:
    q: str = ""  # venue or party name, licence or account, violations
    inspector: str = ""
    results: tuple[str, ...] = ()
    subject: str = ""  # "venue", "party" or "" for both
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    grid_ids: set[int] | None = None
    paging: Paging = field(default_factory=lambda: Paging(sort="date", desc=True))

    def check(self) -> None:
        _known(N_("检查结果"), self.results, INSPECTION_RESULTS)
        if self.subject and self.subject not in SUBJECTS:
            raise LedgerError(Msg(N_("检查对象只能是登记场所或当事人")))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise LedgerError(Msg(N_("开始日期不能晚于结束日期")))
        self.paging.check(INSPECTION_SORTS, "date")


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    pages: int
    sort: str
    desc: bool


# ---------------------------------------------------------------- venues


def venue_conditions(zone: set[int] | None, f: VenueQuery, today: dt.date) -> list:
    cond = []
    if zone is not None:
        cond.append(Venue.grid_id.in_(sorted(zone)) if zone else literal(False))
    if f.grid_ids is not None:
        cond.append(Venue.grid_id.in_(sorted(f.grid_ids)) if f.grid_ids else literal(False))
    if f.categories:
        cond.append(Venue.category.in_(f.categories))
    if f.grades:
        known = [g for g in f.grades if g != NO_GRADE]
        either = [Venue.risk_grade.in_(known)] if known else []
        if NO_GRADE in f.grades:
            either.append(Venue.risk_grade.is_(None))
        cond.append(or_(*either))
    if f.expiry == "expired":
        cond.append(Venue.licence_expiry < today)
    elif f.expiry == "expiring":
        cond.append(Venue.licence_expiry.between(today, today + dt.timedelta(days=f.within_days)))
    elif f.expiry == "valid":
        cond.append(Venue.licence_expiry >= today)
    elif f.expiry == "none":
        cond.append(Venue.licence_expiry.is_(None))
    text = f.q.strip()
    if text:
        pattern = _like(text)
        either = [Venue.name.like(pattern, escape="\\"), Venue.address.like(pattern, escape="\\")]
        either.append(Venue.licence_no.like(pattern, escape="\\"))
        key = licence_key(text)
        if key:
            either.append(Venue.licence_key.like(_like(key), escape="\\"))
        cond.append(or_(*either))
    return cond


def venue_page(session: Session, zone: set[int] | None, f: VenueQuery, today: dt.date) -> Page:
    """One page of the zone's venues matching `f`, with the total."""
    f.check()
    cond = venue_conditions(zone, f, today)
    total = session.scalar(select(func.count()).select_from(Venue).where(*cond)) or 0
    p = f.paging.clamped(total)
    q = _venue_select(cond, p).limit(p.per_page).offset((p.page - 1) * p.per_page)
    rows = [_venue_row(r, today) for r in session.execute(q)]
    return _page(rows, total, p)


def venue_records(session: Session, zone: set[int] | None, f: VenueQuery, today: dt.date) -> list[dict]:
    """Every matching venue in the ledger's order, as export rows (exports.VENUE_COLUMNS and more)."""
    f.check()
    return [_venue_row(r, today) for r in session.execute(_venue_select(venue_conditions(zone, f, today), f.paging))]


def _venue_select(cond: list, p: Paging):
    order = {
        "name": [Venue.name],
        "category": [Venue.category, Venue.name],
        "grade": [Venue.risk_grade],
        "score": [Venue.risk_score],
        "expiry": [Venue.licence_expiry],
        "grid": [Grid.code, Venue.name],
        "id": [],
    }[p.sort]
    keys = [_ordered(c, p.desc) for c in order]
    keys.append(Venue.id.desc() if p.desc else Venue.id.asc())
    return (
        select(
            Venue.id,
            Venue.name,
            Venue.category,
            Venue.licence_no,
            Venue.licence_expiry,
            Venue.address,
            Venue.lon,
            Venue.lat,
            Venue.status,
            Venue.risk_grade,
            Venue.risk_score,
            Venue.grid_id,
            Grid.code.label("grid_code"),
            Grid.name.label("grid_name"),
        )
        .join(Grid, Grid.id == Venue.grid_id, isouter=True)
        .where(*cond)
        .order_by(*keys)
    )


def _venue_row(r, today: dt.date) -> dict[str, Any]:
    expiry = r.licence_expiry
    if expiry is None:
        licence_state = "未填有效期"
    elif expiry < today:
        licence_state = "已过期"
    else:
        days = (expiry - today).days
        licence_state = "今天到期" if days == 0 else f"{days} 天后到期" if days <= DEFAULT_EXPIRING_DAYS else "有效"
    return {
        "id": r.id,
        "name": r.name,
        "category": r.category,
        "licence_no": r.licence_no,
        "licence_expiry": expiry.isoformat() if expiry else None,
        "licence_expired": bool(expiry and expiry < today),
        "licence_state": licence_state,
        "address": r.address,
        "lon": r.lon,
        "lat": r.lat,
        "status": r.status,
        "risk_grade": r.risk_grade,
        "risk_score": r.risk_score,
        "grid_id": r.grid_id,
        "grid_code": r.grid_code,
        "grid_name": r.grid_name,
    }


# ---------------------------------------------------------------- inspections

_ClueAlias = aliased(Clue)


def _subject_grid():
    """The grid an inspection belongs to: its venue's, or its own for a named party."""
    return case((Inspection.venue_id.is_(None), Inspection.grid_id), else_=Venue.grid_id)


def inspection_conditions(zone: set[int] | None, f: InspectionQuery) -> list:
    cond = []
    subject_grid = _subject_grid()
    if zone is not None:
        ids = sorted(zone)
        cond.append(and_(subject_grid.in_(ids), or_(Inspection.clue_id.is_(None), _ClueAlias.grid_id.in_(ids))))
    if f.grid_ids is not None:
        cond.append(subject_grid.in_(sorted(f.grid_ids)) if f.grid_ids else literal(False))
    if f.results:
        cond.append(Inspection.result.in_(f.results))
    if f.subject == "venue":
        cond.append(Inspection.venue_id.is_not(None))
    elif f.subject == "party":
        cond.append(Inspection.venue_id.is_(None))
    if f.date_from:
        cond.append(Inspection.date >= f.date_from)
    if f.date_to:
        cond.append(Inspection.date <= f.date_to)
    if f.inspector.strip():
        cond.append(Inspection.inspectors.like(_like(f.inspector.strip()), escape="\\"))
    text = f.q.strip()
    if text:
        pattern = _like(text)
        cond.append(
            or_(
                *(
                    c.like(pattern, escape="\\")
                    for c in (
                        Venue.name,
                        Venue.licence_no,
                        Venue.address,
                        Inspection.party_name,
                        Inspection.party_account,
                        Inspection.party_address,
                        Inspection.violations,
                        _ClueAlias.case_no,
                    )
                )
            )
        )
    return cond


def _inspection_from(q):
    """Joins every inspection query needs: its venue, its clue, and the subject's grid."""
    return (
        q.join(Venue, Venue.id == Inspection.venue_id, isouter=True)
        .join(_ClueAlias, _ClueAlias.id == Inspection.clue_id, isouter=True)
        .join(Grid, Grid.id == _subject_grid(), isouter=True)
    )


def inspection_page(session: Session, zone: set[int] | None, f: InspectionQuery) -> Page:
    """One page of the zone's inspections matching `f`, with the total."""
    f.check()
    cond = inspection_conditions(zone, f)
    count = select(func.count(Inspection.id)).select_from(Inspection)
    count = (
        count.join(Venue, Venue.id == Inspection.venue_id, isouter=True)
        .join(_ClueAlias, _ClueAlias.id == Inspection.clue_id, isouter=True)
        .where(*cond)
    )
    total = session.scalar(count) or 0
    p = f.paging.clamped(total)
    q = _inspection_select(cond, p).limit(p.per_page).offset((p.page - 1) * p.per_page)
    return _page([_inspection_row(r) for r in session.execute(q)], total, p)


def inspection_records(session: Session, zone: set[int] | None, f: InspectionQuery) -> list[dict]:
    f.check()
    return [_inspection_row(r) for r in session.execute(_inspection_select(inspection_conditions(zone, f), f.paging))]


def _inspection_select(cond: list, p: Paging):
    order = {
        "date": [Inspection.date],
        "result": [Inspection.result, Inspection.date],
        "subject": [func.coalesce(Venue.name, Inspection.party_name)],
        "penalty": [Inspection.penalty_yuan],
        "id": [],
    }[p.sort]
    keys = [_ordered(c, p.desc) for c in order]
    keys.append(Inspection.id.desc() if p.desc else Inspection.id.asc())
    q = select(
        Inspection.id,
        Inspection.date,
        Inspection.venue_id,
        Inspection.party_name,
        Inspection.party_account,
        Inspection.party_contact,
        Inspection.party_address,
        Inspection.inspectors,
        Inspection.result,
        Inspection.violations,
        Inspection.penalty_yuan,
        Inspection.clue_id,
        Venue.name.label("venue_name"),
        Venue.licence_no,
        Venue.address.label("venue_address"),
        Venue.phone.label("venue_phone"),
        _ClueAlias.case_no,
        Grid.id.label("grid_id"),
        Grid.code.label("grid_code"),
        Grid.name.label("grid_name"),
    ).select_from(Inspection)
    return _inspection_from(q).where(*cond).order_by(*keys)


def _inspection_row(r) -> dict[str, Any]:
    is_venue = r.venue_id is not None
    return {
        "id": r.id,
        "date": r.date.isoformat(),
        "venue_id": r.venue_id,
        "subject_kind": SUBJECTS["venue" if is_venue else "party"],
        "subject": r.venue_name if is_venue else party_text(r.party_name),
        "licence_or_account": r.licence_no if is_venue else r.party_account,
        "contact": r.venue_phone if is_venue else r.party_contact,
        "address": r.venue_address if is_venue else r.party_address,
        "grid_id": r.grid_id,
        "grid_code": r.grid_code,
        "grid_name": r.grid_name,
        "inspectors": r.inspectors,
        "result": r.result,
        "violations": r.violations or "",
        "penalty_yuan": r.penalty_yuan,
        "clue_id": r.clue_id,
        "case_no": r.case_no,
    }


# ---------------------------------------------------------------- files


def render(kind: str, records: list[dict], fmt: str, stamp: str, translate=lambda text: text) -> Export:
    """The ledger's rows as CSV (UTF-8 with BOM) or Excel; every text cell through core.cells.
    `translate` (the user's gettext) gives the headers and vocabulary names in the user's language."""
    columns = VENUE_COLUMNS if kind == "venues" else INSPECTION_COLUMNS
    records = [exports.named(r, translate) for r in records]
    table = [[translate(label) for _, label in columns], *([r[k] for k, _ in columns] for r in records)]
    if fmt == "csv":
        body = csv_text(table, bom=True).encode("utf-8")
    elif fmt == "xlsx":
        body = xlsx_bytes(translate(N_("检查记录") if kind == "inspections" else N_("场所台账")), table)
    else:
        raise LedgerError(Msg(N_("不支持的导出格式：%(format)s"), format=fmt))
    return Export(f"wangxun-ledger-{kind}-{stamp}.{fmt}", MIMETYPES[fmt], body, len(records))


# ---------------------------------------------------------------- helpers


def _known(label: str, values: tuple[str, ...], allowed) -> None:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise LedgerError(Msg(N_("不认识的%(what)s：%(values)s"), what=Msg(label), values="、".join(bad)))


def _ordered(column, desc: bool):
    """An ORDER BY key; empty values last for columns that may hold NULL (a NOT NULL column keeps its
    plain order, so its index can give the order without sorting)."""
    key = column.desc() if desc else column.asc()
    nullable = getattr(getattr(column, "expression", column), "nullable", True)
    return key.nulls_last() if nullable else key


def _like(text: str) -> str:
    """`%text%` for LIKE with the wildcards of the text itself escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _page(rows: list[dict], total: int, p: Paging) -> Page:
    return Page(rows, total, p.page, p.per_page, max(1, math.ceil(total / p.per_page)), p.sort, p.desc)


def grid_options(session: Session, zone: set[int] | None) -> list[dict[str, Any]]:
    """Grids the filter offers: the zone's leaf grids, or for the whole district streets and grids."""
    q = select(Grid.id, Grid.code, Grid.name, Grid.level).order_by(Grid.code)
    q = q.where(Grid.id.in_(sorted(zone))) if zone is not None else q.where(Grid.level != "district")
    return [{"id": i, "label": f"{n}（{c}）", "level": lv} for i, c, n, lv in session.execute(q)]
