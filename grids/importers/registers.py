"""Import venues (一户一档), licensed travel agencies and inspection history from CSV or Excel.

Every import is all-or-nothing and streamed. A first pass reads the file a chunk at a time and checks
every row (values, duplicates inside the file, conflicts with the database); any problem rejects the
whole file with a report naming row and column, and nothing has been written. Only then a second pass
reads the file again and writes it, a chunk at a time, in the caller's single transaction. Neither
pass holds the file: memory is a few chunks, whatever the file's size (bench/import_venues.py).

Re-importing is safe. Venues and agencies are matched on their licence key (core.licences: case,
width, dashes and spaces do not make a new licence) and updated; the licence number is stored as
written. Inspections are matched on their natural key (see `import_inspections`). Coordinates are
converted to WGS-84 from the file's system (GCJ-02 by default, as 高德/腾讯 exports are)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from core.licences import as_written, licence_key
from core.models import Agency, Grid, Inspection, Venue
from core.vocabulary import INSPECTION_RESULTS, VENUE_CATEGORIES
from grids import coords
from grids.importers.checks import Extent, far_message, grids_extent
from grids.importers.tabular import CHUNK_ROWS, Column, TableFile, date, number, text
from grids.location import GridIndex

CATEGORY_ALIASES = {
    "网吧": "网吧",
    "网咖": "网吧",
    "互联网上网服务营业场所": "网吧",
    "上网服务": "网吧",
    "歌舞娱乐": "歌舞娱乐",
    "ktv": "歌舞娱乐",
    "歌舞厅": "歌舞娱乐",
    "歌舞娱乐场所": "歌舞娱乐",
    "娱乐场所": "歌舞娱乐",
    "游艺": "游艺",
    "游艺娱乐": "游艺",
    "游艺娱乐场所": "游艺",
    "电玩城": "游艺",
    "演出场所": "演出场所",
    "演出场所经营单位": "演出场所",
    "剧场": "演出场所",
    "书店与出版物零售": "书店与出版物零售",
    "书店": "书店与出版物零售",
    "出版物零售": "书店与出版物零售",
    "出版物经营": "书店与出版物零售",
    "书报刊零售": "书店与出版物零售",
    "印刷": "印刷",
    "印刷企业": "印刷",
    "印刷经营": "印刷",
    "复印打印": "印刷",
    "图文快印": "印刷",
    "旅行社": "旅行社",
    "旅行社及分社": "旅行社",
    "旅行社服务网点": "旅行社",
    "泳池": "泳池",
    "游泳场所": "泳池",
    "游泳馆": "泳池",
    "高危险性体育项目": "泳池",
}

# What inspectors write in the result column, mapped to the three stored results. Only words with one
# meaning: 警告 (a penalty that may or may not come with a case) is refused rather than guessed.
RESULT_ALIASES = {
    **{r: r for r in INSPECTION_RESULTS},
    **dict.fromkeys(
        ("未发现违法", "未发现违规", "未发现违法行为", "未发现违规行为", "无问题", "未见异常", "无异常", "正常", "合格")
        + ("检查合格", "通过", "良好", "无", "ok", "pass", "passed"),
        "未发现问题",
    ),
    **dict.fromkeys(
        ("整改", "限期整改", "责令限期整改", "责令改正", "责令限期改正", "当场整改", "要求整改", "已整改"),
        "责令整改",
    ),
    **dict.fromkeys(("立案", "已立案", "立案调查", "立案处理", "行政处罚", "处罚", "罚款"), "立案查处"),
}
# A penalty above this is a typo (an extra digit, a licence number in the wrong column): the largest
# fines the cultural-market laws set are in the millions of yuan.
MAX_PENALTY_YUAN = 1_000_000_000
_NAMES_SEPARATOR = re.compile(r"[、,，;；/／\s]+")


def _max(model, column: str) -> int | None:
    return getattr(model.__table__.c[column].type, "length", None)


VENUE_COLUMNS = [
    Column("name", ("名称", "场所名称", "单位名称", "经营单位"), text, required=True, max_len=_max(Venue, "name")),
    Column("category", ("类别", "行业类别", "场所类别", "行业", "type"), text, required=True),
    Column(
        "licence_no", ("license_no", "许可证号", "许可证编号", "经营许可证号"), text, max_len=_max(Venue, "licence_no")
    ),
    Column("licence_expiry", ("license_expiry", "有效期", "许可证有效期", "有效期至"), date),
    Column("address", ("地址", "经营地址", "场所地址"), text, max_len=_max(Venue, "address")),
    Column("lon", ("经度", "longitude", "lng", "x"), number, required=True),
    Column("lat", ("纬度", "latitude", "y"), number, required=True),
    Column("grid_code", ("网格编码", "网格代码", "所属网格", "grid"), text),
    Column("legal_rep", ("法定代表人", "负责人", "法人"), text, max_len=_max(Venue, "legal_rep")),
    Column("phone", ("联系电话", "电话", "tel"), text, max_len=_max(Venue, "phone")),
    Column("status", ("状态", "经营状态"), text, max_len=_max(Venue, "status")),
]

AGENCY_COLUMNS = [
    Column("name", ("名称", "旅行社名称", "单位名称"), text, required=True, max_len=_max(Agency, "name")),
    Column(
        "licence_no",
        ("license_no", "许可证号", "许可证编号", "经营许可证编号", "旅行社业务经营许可证"),
        text,
        required=True,
        max_len=_max(Agency, "licence_no"),
    ),
    Column("address", ("地址", "经营地址"), text, max_len=_max(Agency, "address")),
    Column("lon", ("经度", "longitude", "lng"), number),
    Column("lat", ("纬度", "latitude"), number),
    Column("phone", ("联系电话", "电话"), text, max_len=_max(Agency, "phone")),
]

INSPECTION_COLUMNS = [
    Column("venue_licence_no", ("venue_license_no", "许可证号", "场所许可证号"), text, required=True),
    Column("date", ("检查日期", "日期"), date, required=True),
    Column("inspectors", ("检查人员", "执法人员"), text, required=True, max_len=_max(Inspection, "inspectors")),
    Column("result", ("检查结果", "结果"), text, required=True),
    Column("violations", ("违法行为", "违规情况", "问题"), text),
    Column("penalty_yuan", ("罚款", "罚款金额", "penalty"), number),
    Column("notes", ("备注",), text),
]


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # matched rows whose stored values already equal the file's
    notes: list[str] = field(default_factory=list)  # what the import changed besides rows (repairs)

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated"
        if self.unchanged:
            text += f", {self.unchanged} unchanged"
        return "; ".join([text, *self.notes])


# ---------------------------------------------------------------- venues


def import_venues(
    session: Session,
    path,
    crs: str,
    reject_outside: bool = False,
    *,
    max_distance_km: float | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportSummary:
    """Venues by licence key (venues without a licence by name and address). A point farther than
    `max_distance_km` from the grids in the database is refused; one near but outside every grid is
    refused with `reject_outside`, else imported without a grid."""
    places = _Places.load(session, max_distance_km)
    with TableFile(path, VENUE_COLUMNS, chunk_rows) as table:
        for _ in _checked_venue_chunks(session, table, crs, places, reject_outside):
            pass
        table.raise_if_problems()
        summary = ImportSummary()
        present = table.columns_present
        for chunk in _checked_venue_chunks(session, table, crs, places, reject_outside):
            table.raise_if_problems()  # only if the file changed between the passes
            _write(session, Venue, [(_venue_values(r, present), r["_current"]) for r in chunk], summary)
    _expire(session, Venue)
    return summary


def _checked_venue_chunks(session, table: TableFile, crs: str, places: _Places, reject_outside: bool):
    seen: dict[Any, int] = {}
    for chunk in table.chunks():
        _check_category(table, chunk)
        for row in chunk:
            row["licence_no"] = as_written(row.get("licence_no"))
            row["_key"] = licence_key(row["licence_no"])
            natural = row["_key"] or ("no licence", row.get("name"), row.get("address"))
            _check_unique(table, row, natural, seen, "licence_no" if row["_key"] else "name")
        _convert_coordinates(table, chunk, crs)
        places.check_distance(table, chunk)
        places.resolve_grids(table, chunk, reject_outside)
        _attach_current(session, table, Venue, chunk, _VENUE_COMPARED)
        yield chunk


_VENUE_COMPARED = (
    "name",
    "category",
    "licence_no",
    "licence_key",
    "licence_expiry",
    "address",
    "lon",
    "lat",
    "grid_id",
    "legal_rep",
    "phone",
    "status",
)


def _venue_values(row: dict, present: set[str]) -> dict[str, Any]:
    """The columns a venue row sets: those the file has (a re-import without a phone column keeps the
    stored phones), and what is derived from them."""
    values = {k: row.get(k) for k in _VENUE_COMPARED if k in present}
    values.update(licence_key=row["_key"], lon=row["lon"], lat=row["lat"], grid_id=row["_grid_id"])
    if "licence_no" not in present:
        values.pop("licence_key")
    if "status" in present or row["_current"] is None:
        values["status"] = row.get("status") or "营业"
    return values


# ---------------------------------------------------------------- agencies


def import_agencies(session: Session, path, crs: str, *, chunk_rows: int = CHUNK_ROWS) -> ImportSummary:
    """Agencies by licence key. Points are only checked to be in China: the registry lists agencies of
    the whole province and beyond, which sell in the district as lawfully as local ones."""
    index = GridIndex.from_session(session)
    with TableFile(path, AGENCY_COLUMNS, chunk_rows) as table:
        for _ in _checked_agency_chunks(session, table, crs, index):
            pass
        table.raise_if_problems()
        summary = ImportSummary()
        present = table.columns_present
        for chunk in _checked_agency_chunks(session, table, crs, index):
            table.raise_if_problems()
            _write(session, Agency, [(_agency_values(r, present), r["_current"]) for r in chunk], summary)
    _expire(session, Agency)
    return summary


def _checked_agency_chunks(session, table: TableFile, crs: str, index: GridIndex):
    seen: dict[Any, int] = {}
    for chunk in table.chunks():
        for row in chunk:
            row["licence_no"] = as_written(row.get("licence_no"))
            row["_key"] = licence_key(row["licence_no"])
            if row["_key"]:
                _check_unique(table, row, row["_key"], seen, "licence_no")
            elif row["licence_no"]:  # only dashes and spaces
                table.problem(row["_row"], "licence_no", f"{row['licence_no']!r} is not a licence number")
        _convert_coordinates(table, chunk, crs, optional=True)
        located = _point_grids(index, chunk)
        for row in chunk:
            row["_grid_id"] = located.get(id(row))
        _attach_current(session, table, Agency, chunk, _AGENCY_COMPARED)
        yield chunk


_AGENCY_COMPARED = ("name", "licence_no", "licence_key", "address", "lon", "lat", "grid_id", "phone")


def _agency_values(row: dict, present: set[str]) -> dict[str, Any]:
    values = {k: row.get(k) for k in _AGENCY_COMPARED if k in present}
    values["licence_key"] = row["_key"]
    if "lon" in present and "lat" in present:
        values["grid_id"] = row["_grid_id"]
    return values


# ---------------------------------------------------------------- inspections


def import_inspections(
    session: Session, path, *, today: dt.date | None = None, chunk_rows: int = CHUNK_ROWS
) -> ImportSummary:
    """Inspections, matched to venues by licence key.

    Re-import is idempotent by natural key: venue, date, result and the set of inspectors (in any
    order, with any separator). A natural key rather than a fingerprint of the file, because the
    files that overlap in practice are not the same file: a half-year export and then the whole
    year's, a corrected copy with one row edited, an inspection typed into the web app and later
    exported from the office system. A fingerprint would import each of these overlaps twice. The
    price: two inspections of one venue on one day by the same people with the same result are one;
    the file refuses such a pair as a duplicate, so it cannot happen silently.

    A matched inspection takes the file's values where the file has one and keeps its own where the
    cell is empty, so importing a thinner export never erases notes typed in the web app."""
    today = today or dt.date.today()
    with TableFile(path, INSPECTION_COLUMNS, chunk_rows) as table:
        for _ in _checked_inspection_chunks(session, table, today):
            pass
        table.raise_if_problems()
        summary = ImportSummary()
        for chunk in _checked_inspection_chunks(session, table, today):
            table.raise_if_problems()
            rows = []
            for r in chunk:
                current = r["_current"]
                if current is None:
                    values = {k: r.get(k) for k in ("date", "inspectors", "result", *_INSPECTION_DETAILS)}
                    values["venue_id"] = r["_venue_id"]
                else:  # the natural key is equal by definition; details fill, never erase (see the docstring)
                    values = {k: r[k] if r.get(k) is not None else current[k] for k in _INSPECTION_DETAILS}
                rows.append((values, current))
            _write(session, Inspection, rows, summary)
    _expire(session, Inspection)
    return summary


_INSPECTION_DETAILS = ("violations", "penalty_yuan", "notes")


def _checked_inspection_chunks(session, table: TableFile, today: dt.date):
    seen: dict[Any, int] = {}
    for chunk in table.chunks():
        by_key, by_number = _venues_by_licence(session, {as_written(r.get("venue_licence_no")) for r in chunk} - {None})
        for row in chunk:
            row_no = row["_row"]
            number = as_written(row.get("venue_licence_no"))
            row["_venue_id"] = by_key.get(licence_key(number)) or by_number.get(number)
            if number and row["_venue_id"] is None:
                table.problem(row_no, "venue_licence_no", f"no venue with licence {number!r}")
            result = row.get("result")
            if result is not None:
                row["result"] = RESULT_ALIASES.get(re.sub(r"\s", "", result).lower())
                if row["result"] is None:
                    choices = "、".join(INSPECTION_RESULTS)
                    table.problem(row_no, "result", f"unknown result {result!r}; use one of {choices}")
            if isinstance(row.get("date"), dt.date) and row["date"] > today:
                table.problem(row_no, "date", f"{row['date']} is in the future (today is {today})")
            penalty = row.get("penalty_yuan")
            if penalty is not None and penalty < 0:
                table.problem(row_no, "penalty_yuan", f"negative penalty {penalty:g}")
            elif penalty is not None and penalty > MAX_PENALTY_YUAN:
                table.problem(row_no, "penalty_yuan", f"{penalty:,.0f} yuan is more than {MAX_PENALTY_YUAN:,}: a typo?")
            names = [n for n in _NAMES_SEPARATOR.split(row.get("inspectors") or "") if n]
            row["inspectors"] = "、".join(names) or None
            row["_natural"] = (row["_venue_id"], row.get("date"), row.get("result"), tuple(sorted(names)))
            if row["_venue_id"] is not None and row["result"] and row.get("date"):
                _check_unique(
                    table, row, row["_natural"], seen, "date", what="inspection (venue, date, result, inspectors)"
                )
        _attach_current_inspections(session, chunk)
        yield chunk


def _venues_by_licence(session, numbers: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Venue ids by licence key, and by licence as written (a venue from before 0006 may lack a key)."""
    if not numbers:
        return {}, {}
    keys = {licence_key(n) for n in numbers} - {None}
    rows = session.execute(
        select(Venue.id, Venue.licence_no, Venue.licence_key).where(
            or_(Venue.licence_key.in_(keys), Venue.licence_no.in_(numbers))
        )
    ).all()
    return {r.licence_key: r.id for r in rows if r.licence_key}, {r.licence_no: r.id for r in rows if r.licence_no}


def _attach_current_inspections(session, chunk: list[dict]) -> None:
    venue_ids = {r["_venue_id"] for r in chunk if r["_venue_id"] is not None}
    dates = {r["date"] for r in chunk if isinstance(r.get("date"), dt.date)}
    current: dict[tuple, dict] = {}
    if venue_ids and dates:
        columns = (Inspection.id, Inspection.venue_id, Inspection.date, Inspection.result, Inspection.inspectors)
        extra = (Inspection.violations, Inspection.penalty_yuan, Inspection.notes)
        query = select(*columns, *extra).where(Inspection.venue_id.in_(venue_ids), Inspection.date.in_(dates))
        for r in session.execute(query.order_by(Inspection.id)):
            names = tuple(sorted(n for n in _NAMES_SEPARATOR.split(r.inspectors or "") if n))
            current.setdefault((r.venue_id, r.date, r.result, names), r._asdict())  # the oldest of old doubles
    for row in chunk:
        row["_current"] = current.get(row["_natural"])


# ---------------------------------------------------------------- shared checks


def _check_category(table: TableFile, chunk: list[dict]) -> None:
    for row in chunk:
        raw = row.get("category")
        if raw is None:
            continue
        category = CATEGORY_ALIASES.get(raw.strip().lower())
        if category is None:
            table.problem(
                row["_row"], "category", f"unknown category {raw!r}; use one of {'、'.join(VENUE_CATEGORIES)}"
            )
        row["category"] = category


def _check_unique(table: TableFile, row: dict, key, seen: dict, column: str, what: str | None = None) -> None:
    """One row per key in a file: a second is a duplicate, whether typed the same or not."""
    first = seen.setdefault(key, row["_row"])
    if first != row["_row"]:
        shown = what or repr(row.get(column))
        table.problem(row["_row"], column, f"duplicate {shown} (also on row {first})")


def _convert_coordinates(table: TableFile, chunk: list[dict], crs: str, optional: bool = False) -> None:
    """Reject impossible coordinates, then convert the good ones to WGS-84 in one vectorised call."""
    good = []
    for row in chunk:
        lon, lat = row.get("lon"), row.get("lat")
        row["_lon_in"], row["_lat_in"] = lon, lat
        if lon is None and lat is None and optional:
            continue
        if lon is None or lat is None:
            table.problem(row["_row"], "lon", f"bad coordinates ({lon}, {lat})")
        elif not coords.in_china(lon, lat) and coords.in_china(lat, lon):
            table.problem(row["_row"], "lon", f"({lon}, {lat}) looks like longitude and latitude swapped")
        elif not (-180 <= lon <= 180 and -90 <= lat <= 90):
            table.problem(row["_row"], "lon", f"bad coordinates ({lon}, {lat})")
        elif not coords.in_china(lon, lat):
            table.problem(row["_row"], "lon", f"({lon}, {lat}) is outside China; are longitude and latitude swapped?")
        else:
            good.append(row)
    good_ids = {id(r) for r in good}
    for row in chunk:
        if id(row) not in good_ids:  # so no later check or write uses a refused coordinate
            row["lon"] = row["lat"] = None
    if good:
        lon, lat = coords.to_wgs84(np.array([r["lon"] for r in good]), np.array([r["lat"] for r in good]), crs)
        for r, x, y in zip(good, np.atleast_1d(lon), np.atleast_1d(lat), strict=True):
            r["lon"], r["lat"] = round(float(x), 7), round(float(y), 7)


@dataclass
class _Places:
    """What venue rows are checked against: the grids in the database."""

    grids: dict[str, int]  # leaf grid id by code
    index: GridIndex
    extent: Extent | None
    max_distance_km: float | None

    @classmethod
    def load(cls, session: Session, max_distance_km: float | None) -> _Places:
        grids = {g.code: g.id for g in session.execute(select(Grid.code, Grid.id).where(Grid.level == "grid"))}
        return cls(grids, GridIndex.from_session(session), grids_extent(session), max_distance_km)

    def check_distance(self, table: TableFile, chunk: list[dict]) -> None:
        if self.extent is None or not self.max_distance_km:
            return
        rows = [r for r in chunk if r.get("lon") is not None]
        if not rows:
            return
        km = self.extent.km_outside([r["lon"] for r in rows], [r["lat"] for r in rows])
        for row, d in zip(rows, km, strict=True):
            if d > self.max_distance_km:
                message = far_message(row["_lon_in"], row["_lat_in"], d, self.extent, self.max_distance_km)
                table.problem(row["_row"], "lon", message)
                row["lon"] = row["lat"] = None

    def resolve_grids(self, table: TableFile, chunk: list[dict], reject_outside: bool) -> None:
        """Use the grid code when given and known; otherwise find the grid that contains the point."""
        located = _point_grids(self.index, [r for r in chunk if not r.get("grid_code")])
        for row in chunk:
            code = row.get("grid_code")
            if code and code not in self.grids:
                table.problem(row["_row"], "grid_code", f"no grid with code {code!r}")
            grid_id = self.grids.get(code) if code else located.get(id(row))
            if grid_id is None and not code and reject_outside and self.grids and row.get("lon") is not None:
                table.problem(row["_row"], "lon", f"({row['_lon_in']}, {row['_lat_in']}) is outside every grid")
            row["_grid_id"] = grid_id


def _point_grids(index: GridIndex, rows: list[dict]) -> dict[int, int]:
    """Grid id by id(row) for rows with good coordinates, in one vectorised spatial-index query."""
    rows = [r for r in rows if isinstance(r.get("lon"), float) and isinstance(r.get("lat"), float)]
    if not rows:
        return {}
    ids = index.assign([r["lon"] for r in rows], [r["lat"] for r in rows])
    return {id(r): int(g) for r, g in zip(rows, ids, strict=True) if g >= 0}


def _attach_current(session, table: TableFile, model, chunk: list[dict], compared: Iterable[str]) -> None:
    """Each row's stored record (as a dict of `compared` plus id) in "_current", or None for a new one.

    A row matches the record holding its licence key. A record with the row's spelling but another id
    is an old duplicate (two records for one licence, from before 0006): which one to update is a
    person's call, so the row is refused naming both."""
    numbers = {r["licence_no"] for r in chunk if r.get("licence_no")}
    keys = {r["_key"] for r in chunk if r.get("_key")}
    unlicensed = {r.get("name") for r in chunk if not r.get("_key") and r.get("name")}
    columns = [model.id, *(getattr(model, c) for c in compared)]
    conditions = []
    if keys:
        conditions += [model.licence_key.in_(keys), model.licence_no.in_(numbers)]
    if unlicensed:
        conditions.append(model.licence_no.is_(None) & model.name.in_(unlicensed))
    by_key, by_number, by_name = {}, {}, {}
    if conditions:
        for r in session.execute(select(*columns).where(or_(*conditions)).order_by(model.id)):
            record = r._asdict()
            if record["licence_key"]:
                by_key[record["licence_key"]] = record
            if record["licence_no"]:
                by_number[record["licence_no"]] = record
            else:
                by_name.setdefault((record["name"], record.get("address")), record)
    for row in chunk:
        if not row.get("_key"):
            row["_current"] = by_name.get((row.get("name"), row.get("address")))
            continue
        held, spelled = by_key.get(row["_key"]), by_number.get(row["licence_no"])
        if held and spelled and held["id"] != spelled["id"]:
            table.problem(
                row["_row"],
                "licence_no",
                f"the database has this licence twice, written {held['licence_no']!r} (record {held['id']}) "
                f"and {spelled['licence_no']!r} (record {spelled['id']}); merge them first",
            )
        row["_current"] = held or spelled


def _write(session: Session, model, rows: list[tuple[dict, dict | None]], summary: ImportSummary) -> None:
    """Insert new rows and update changed ones, a chunk per statement: bulk statements keep no ORM
    objects, which is what held a whole register in memory before."""
    inserts, updates = [], []
    for values, current in rows:
        if current is None:
            inserts.append(values)
        elif any(current.get(k) != v for k, v in values.items()):
            updates.append({**values, "id": current["id"]})
        else:
            summary.unchanged += 1
    if inserts:
        session.execute(insert(model), inserts)
        summary.created += len(inserts)
    for group in _same_keys(updates):
        session.execute(update(model), group)
    summary.updated += len(updates)


def _same_keys(rows: list[dict]) -> list[list[dict]]:
    """Bulk UPDATE wants one set of columns per statement."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def _expire(session: Session, model) -> None:
    """Bulk statements bypass the identity map: objects the caller loaded before must reload."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model):
            session.expire(obj)
