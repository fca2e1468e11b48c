"""Import venues (一户一档), licensed travel agencies and inspection history from CSV or Excel.

Every import is all-or-nothing: all rows are checked first and any problem rejects the whole file with
a report naming row and column; only a clean file is written, in the caller's single transaction.
Rows whose licence number is already in the database update that record, so re-importing a corrected
register is safe. Coordinates are converted to WGS-84 from the file's system (GCJ-02 by default, as
高德/腾讯 exports are)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Agency, Grid, Inspection, Venue
from core.vocabulary import VENUE_CATEGORIES
from grids import coords
from grids.importers.tabular import Column, Table, date, number, read_table, text
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

VENUE_COLUMNS = [
    Column("name", ("名称", "场所名称", "单位名称", "经营单位"), text, required=True),
    Column("category", ("类别", "行业类别", "场所类别", "行业", "type"), text, required=True),
    Column("licence_no", ("license_no", "许可证号", "许可证编号", "经营许可证号"), text),
    Column("licence_expiry", ("license_expiry", "有效期", "许可证有效期", "有效期至"), date),
    Column("address", ("地址", "经营地址", "场所地址"), text),
    Column("lon", ("经度", "longitude", "lng", "x"), number, required=True),
    Column("lat", ("纬度", "latitude", "y"), number, required=True),
    Column("grid_code", ("网格编码", "网格代码", "所属网格", "grid"), text),
    Column("legal_rep", ("法定代表人", "负责人", "法人"), text),
    Column("phone", ("联系电话", "电话", "tel"), text),
    Column("status", ("状态", "经营状态"), text),
]

AGENCY_COLUMNS = [
    Column("name", ("名称", "旅行社名称", "单位名称"), text, required=True),
    Column(
        "licence_no",
        ("license_no", "许可证号", "许可证编号", "经营许可证编号", "旅行社业务经营许可证"),
        text,
        required=True,
    ),
    Column("address", ("地址", "经营地址"), text),
    Column("lon", ("经度", "longitude", "lng"), number),
    Column("lat", ("纬度", "latitude"), number),
    Column("phone", ("联系电话", "电话"), text),
]

INSPECTION_COLUMNS = [
    Column("venue_licence_no", ("venue_license_no", "许可证号", "场所许可证号"), text, required=True),
    Column("date", ("检查日期", "日期"), date, required=True),
    Column("inspectors", ("检查人员", "执法人员"), text, required=True),
    Column("result", ("检查结果", "结果"), text, required=True),
    Column("violations", ("违法行为", "违规情况", "问题"), text),
    Column("penalty_yuan", ("罚款", "罚款金额", "penalty"), number),
    Column("notes", ("备注",), text),
]


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated"


def import_venues(session: Session, path, crs: str, reject_outside: bool = False) -> ImportSummary:
    table = read_table(path, VENUE_COLUMNS)
    _check_category(table)
    _check_unique(table, "licence_no")
    _convert_coordinates(table, crs)
    grids = {g.code: g.id for g in session.scalars(select(Grid).where(Grid.level == "grid"))}
    _resolve_grids(session, table, grids, reject_outside)
    table.raise_if_problems()
    existing = {v.licence_no: v for v in session.scalars(select(Venue).where(Venue.licence_no.is_not(None)))}
    summary = ImportSummary()
    for row in table.rows:
        values = {k: v for k, v in row.items() if not k.startswith("_") and k != "grid_code"}
        values["grid_id"] = row["_grid_id"]
        values["status"] = values.get("status") or "营业"
        _upsert(session, Venue, existing.get(row.get("licence_no")), values, summary)
    session.flush()
    return summary


def import_agencies(session: Session, path, crs: str) -> ImportSummary:
    table = read_table(path, AGENCY_COLUMNS)
    _check_unique(table, "licence_no")
    _convert_coordinates(table, crs, optional=True)
    table.raise_if_problems()
    located = _point_grids(session, table.rows)
    existing = {a.licence_no: a for a in session.scalars(select(Agency))}
    summary = ImportSummary()
    for row in table.rows:
        values = {k: v for k, v in row.items() if not k.startswith("_")}
        values["licence_no"] = values["licence_no"].upper().replace("－", "-").replace(" ", "")
        if values.get("lon") is not None:
            values["grid_id"] = located.get(id(row))
        _upsert(session, Agency, existing.get(values["licence_no"]), values, summary)
    session.flush()
    return summary


def import_inspections(session: Session, path) -> ImportSummary:
    table = read_table(path, INSPECTION_COLUMNS)
    venues = {no: vid for no, vid in session.execute(select(Venue.licence_no, Venue.id))}
    for row in table.rows:
        if row.get("venue_licence_no") and row["venue_licence_no"] not in venues:
            table.problem(row["_row"], "venue_licence_no", f"no venue with licence {row['venue_licence_no']}")
    table.raise_if_problems()
    for row in table.rows:
        values = {k: v for k, v in row.items() if not k.startswith("_") and k != "venue_licence_no"}
        session.add(Inspection(venue_id=venues[row["venue_licence_no"]], **values))
    session.flush()
    return ImportSummary(created=len(table.rows))


def _upsert(session, model, current, values, summary: ImportSummary) -> None:
    if current is None:
        session.add(model(**values))
        summary.created += 1
        return
    for key, value in values.items():
        setattr(current, key, value)
    summary.updated += 1


def _check_category(table: Table) -> None:
    for row in table.rows:
        raw = row.get("category")
        if raw is None:
            continue
        category = CATEGORY_ALIASES.get(raw.strip().lower())
        if category is None:
            table.problem(
                row["_row"], "category", f"unknown category {raw!r}; use one of {'、'.join(VENUE_CATEGORIES)}"
            )
        row["category"] = category


def _check_unique(table: Table, column: str) -> None:
    first_seen: dict[str, int] = {}
    for row in table.rows:
        value = row.get(column)
        if not value:
            continue
        if value in first_seen:
            table.problem(row["_row"], column, f"duplicate {value!r} (also on row {first_seen[value]})")
        else:
            first_seen[value] = row["_row"]


def _convert_coordinates(table: Table, crs: str, optional: bool = False) -> None:
    """Reject impossible coordinates, then convert the good ones to WGS-84 in one vectorised call."""
    good = []
    for row in table.rows:
        lon, lat = row.get("lon"), row.get("lat")
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
    if good:
        lon, lat = coords.to_wgs84(np.array([r["lon"] for r in good]), np.array([r["lat"] for r in good]), crs)
        for r, x, y in zip(good, np.atleast_1d(lon), np.atleast_1d(lat), strict=True):
            r["lon"], r["lat"] = round(float(x), 7), round(float(y), 7)


def _resolve_grids(session, table: Table, grids: dict[str, int], reject_outside: bool) -> None:
    """Use the grid code when given and known; otherwise find the grid that contains the point."""
    located = _point_grids(session, [r for r in table.rows if not r.get("grid_code")])
    for row in table.rows:
        code = row.get("grid_code")
        if code and code not in grids:
            table.problem(row["_row"], "grid_code", f"no grid with code {code!r}")
            continue
        grid_id = grids[code] if code else located.get(id(row))
        if grid_id is None and not code and reject_outside and grids and isinstance(row.get("lat"), float):
            table.problem(row["_row"], "lon", f"({row['lon']}, {row['lat']}) is outside every grid")
        row["_grid_id"] = grid_id


def _point_grids(session, rows: list[dict]) -> dict[int, int]:
    """Grid id by id(row) for rows with good coordinates, in one vectorised spatial-index query."""
    rows = [r for r in rows if isinstance(r.get("lon"), float) and isinstance(r.get("lat"), float)]
    if not rows:
        return {}
    ids = GridIndex.from_session(session).assign([r["lon"] for r in rows], [r["lat"] for r in rows])
    return {id(r): int(g) for r, g in zip(rows, ids, strict=True) if g >= 0}
