"""Export files: rows of venues or hits as CSV (UTF-8 with BOM, so Excel shows Chinese), Excel and GeoJSON.

Coordinates in exports are always WGS-84 whatever the map's tiles use, and say so in the header.
CSV and Excel cells go through core.cells, so crawled text that starts like a formula stays text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cells import csv_text, xlsx_bytes
from core.i18n import N_
from core.models import Grid, Venue
from webmap.services.clock import zone_label
from webmap.services.map_data import MapFilters, venue_conditions

VENUE_COLUMNS = [
    ("id", N_("编号")),
    ("name", N_("名称")),
    ("category", N_("类别")),
    ("licence_no", N_("许可证号")),
    ("licence_expiry", N_("许可证有效期")),
    ("address", N_("地址")),
    ("lon", N_("经度(WGS-84)")),
    ("lat", N_("纬度(WGS-84)")),
    ("grid_code", N_("网格编码")),
    ("grid_name", N_("网格")),
    ("status", N_("状态")),
    ("risk_grade", N_("风险等级")),
    ("risk_score", N_("风险评分")),
]
HIT_COLUMNS = [
    ("id", N_("编号")),
    ("title", N_("标题")),
    ("labels", N_("类型")),
    ("score", N_("置信度")),
    ("status", N_("状态")),
    ("source", N_("来源")),
    ("account", N_("账号/店铺")),
    ("url", N_("链接")),
    ("location_name", N_("地点")),
    ("lon", N_("经度(WGS-84)")),
    ("lat", N_("纬度(WGS-84)")),
    ("grid_code", N_("网格编码")),
    ("grid_name", N_("网格")),
    ("detected_at", N_("发现时间")),
]
# Columns whose values are names from core.vocabulary (translated with the headers), not data.
NAMED_COLUMNS = {"labels", "status", "subject_kind", "result"}
TIME_COLUMNS = {"detected_at"}  # shown in the [core] timezone, labelled in the header
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _same(text: str) -> str:
    return text


@dataclass
class Export:
    filename: str
    mimetype: str
    body: bytes
    count: int


def venue_records(session: Session, zone, f: MapFilters) -> list[dict]:
    q = (
        select(Venue, Grid.code, Grid.name)
        .join(Grid, Grid.id == Venue.grid_id, isouter=True)
        .where(*venue_conditions(zone, f))
        .order_by(Venue.id)
    )
    out = []
    for v, code, name in session.execute(q):
        out.append(
            {
                "id": v.id,
                "name": v.name,
                "category": v.category,
                "licence_no": v.licence_no,
                "licence_expiry": v.licence_expiry.isoformat() if v.licence_expiry else None,
                "address": v.address,
                "lon": v.lon,
                "lat": v.lat,
                "grid_code": code,
                "grid_name": name,
                "status": v.status,
                "risk_grade": v.risk_grade,
                "risk_score": v.risk_score,
            }
        )
    return out


def render(kind: str, records: list[dict], fmt: str, stamp: str, tz: str, translate=_same) -> Export:
    """The file of `records`; `stamp` (local time) names it, and time columns say which zone they are
    in (`tz`, the [core] timezone the records were written in). `translate` (the user's gettext) puts
    the headers and the vocabulary's names in the user's language; without it they are Chinese."""
    columns = VENUE_COLUMNS if kind == "venues" else HIT_COLUMNS
    columns = [
        (key, f"{translate(label)}（{translate(zone_label(tz))}）" if key in TIME_COLUMNS else translate(label))
        for key, label in columns
    ]
    records = [named(r, translate) for r in records] if translate is not _same else records
    writer = {"csv": _csv, "xlsx": lambda r, c: _xlsx(r, c, translate(N_("数据"))), "geojson": _geojson}[fmt]
    body = writer(records, columns)
    return Export(f"wangxun-{kind}-{stamp}.{fmt}", MIMETYPES[fmt], body, len(records))


def named(record: dict, translate) -> dict:
    """The record with its vocabulary names (a status, labels joined by 、) in the user's language;
    crawled and imported text stays as written."""
    out = dict(record)
    for key in NAMED_COLUMNS & out.keys():
        if isinstance(out[key], str) and out[key]:
            out[key] = (
                ", ".join(translate(part) for part in out[key].split("、")) if "、" in out[key] else translate(out[key])
            )
    return out


def _rows(records, columns):
    yield [label for _, label in columns]
    for r in records:
        yield [r[k] for k, _ in columns]


def _csv(records, columns) -> bytes:
    return csv_text(_rows(records, columns), bom=True).encode("utf-8")


def _xlsx(records, columns, sheet: str = "数据") -> bytes:
    return xlsx_bytes(sheet, _rows(records, columns))


def _geojson(records, columns) -> bytes:
    features = []
    for r in records:
        geom = (
            {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
            if r["lon"] is not None and r["lat"] is not None
            else None
        )
        props = {k: r[k] for k, _ in columns if k not in ("lon", "lat")}
        features.append({"type": "Feature", "id": r["id"], "geometry": geom, "properties": props})
    fc = {"type": "FeatureCollection", "features": features}
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")
