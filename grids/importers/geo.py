"""Import grid polygons (区县 → 街道/片区 → 网格) from GeoJSON or a Shapefile, in any CRS.

Files with a declared CRS are reprojected to WGS-84 with pyproj (through geopandas). GeoJSON without a
CRS is WGS-84 by the standard, but Chinese exports are often GCJ-02 without saying so: `crs` names the
system for such files. Invalid polygons are repaired with make_valid (keeping the polygonal part) or
rejected with their feature id, by setting. Everything is checked before anything is written."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ImportRejected, UserError
from core.models import Grid
from core.vocabulary import GRID_LEVELS
from grids import coords
from grids.importers.registers import ImportSummary
from grids.location import to_geojson

FIELD_ALIASES = {
    "code": ("code", "编码", "网格编码", "网格代码", "区划代码", "adcode", "grid_code"),
    "name": ("name", "名称", "网格名称", "区划名称"),
    "level": ("level", "级别", "层级", "类型"),
    "parent_code": ("parent_code", "上级编码", "上级代码", "parent"),
    "manager_name": ("manager_name", "网格员", "网格长", "负责人", "manager"),
    "manager_phone": ("manager_phone", "联系电话", "电话", "phone"),
}
LEVEL_ALIASES = {
    "district": "district",
    "区县": "district",
    "区": "district",
    "县": "district",
    "street": "street",
    "街道": "street",
    "片区": "street",
    "镇": "street",
    "grid": "grid",
    "网格": "grid",
}


def import_grids(session: Session, path, crs: str | None = None, repair: bool = True) -> ImportSummary:
    frame = _read(Path(path), crs)
    problems: list[str] = []
    records = [_record(frame, i, problems, repair) for i in range(len(frame))]
    records = [r for r in records if r is not None]
    _check_codes_and_parents(session, records, problems)
    if problems:
        raise ImportRejected(Path(path).name, problems)
    return _write(session, records)


def _read(path: Path, crs: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise UserError(f"file not found: {path}")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise UserError(
            f"{path.name}: not a readable GeoJSON or Shapefile ({str(exc).splitlines()[0][:120]})"
        ) from None
    if frame.empty:
        raise UserError(f"{path.name}: no features")
    if crs and crs.lower() in ("gcj02", "bd09"):
        return _from_chinese_crs(frame, crs)
    if frame.crs is None:
        frame = frame.set_crs(crs or "EPSG:4326")
    return frame.to_crs("EPSG:4326")


def _from_chinese_crs(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """GCJ-02/BD-09 are not in any EPSG registry; convert the vertices with grids.coords."""

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(coords.to_wgs84(xy[:, 0], xy[:, 1], crs))

    frame = frame.copy()
    frame.geometry = shapely.transform(frame.geometry.values, convert)
    return frame.set_crs("EPSG:4326", allow_override=True)


def _record(frame: gpd.GeoDataFrame, i: int, problems: list[str], repair: bool) -> dict | None:
    before = len(problems)
    props = {k: frame.iloc[i][c] for k, c in _columns(frame).items()}
    fid = props.get("code") or f"#{i + 1}"
    label = f"feature {fid}"
    geom = frame.geometry.iloc[i]
    for key in ("code", "name"):
        if not _present(props.get(key)):
            problems.append(f"{label}: missing {key} ({'/'.join(FIELD_ALIASES[key][:3])})")
    level = LEVEL_ALIASES.get(str(props.get("level") or "grid").strip().lower())
    if level is None:
        problems.append(f"{label}: unknown level {props.get('level')!r}; use one of {', '.join(GRID_LEVELS)}")
    geom = _polygon(geom, label, problems, repair)
    if geom is None or len(problems) > before:
        return None
    return {
        "code": str(props["code"]).strip(),
        "name": str(props["name"]).strip(),
        "level": level,
        "parent_code": _clean(props.get("parent_code")),
        "manager_name": _clean(props.get("manager_name")),
        "manager_phone": _clean(props.get("manager_phone")),
        "geometry": geom,
    }


def _polygon(geom, label: str, problems: list[str], repair: bool):
    if geom is None or geom.is_empty:
        problems.append(f"{label}: no geometry")
        return None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append(f"{label}: geometry is a {geom.geom_type}, not a polygon")
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        problems.append(
            f"{label}: coordinates ({minx:.0f}, {miny:.0f}) are not longitude/latitude; "
            "the file has no CRS — give the right one with --crs (e.g. EPSG:4547)"
        )
        return None
    if not geom.is_valid:
        if not repair:
            problems.append(f"{label}: invalid polygon ({explain_validity(geom)})")
            return None
        fixed = shapely.make_valid(geom)
        parts = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, (Polygon, MultiPolygon))]
        geom = shapely.union_all(parts) if parts else None
        if geom is None or geom.is_empty:
            problems.append(f"{label}: invalid polygon that cannot be repaired")
            return None
    return geom


def _check_codes_and_parents(session: Session, records: list[dict], problems: list[str]) -> None:
    seen: set[str] = set()
    known = set(session.scalars(select(Grid.code)))
    for r in records:
        if r["code"] in seen:
            problems.append(f"feature {r['code']}: duplicate code")
        seen.add(r["code"])
    for r in records:
        parent = r["parent_code"]
        if parent and parent not in seen and parent not in known:
            problems.append(f"feature {r['code']}: parent {parent} is neither in the file nor in the database")


def _write(session: Session, records: list[dict]) -> ImportSummary:
    existing = {g.code: g for g in session.scalars(select(Grid))}
    order = {"district": 0, "street": 1, "grid": 2}
    summary = ImportSummary()
    for r in sorted(records, key=lambda r: order[r["level"]]):  # parents before children
        geom = r.pop("geometry")
        minx, miny, maxx, maxy = geom.bounds
        centre = geom.representative_point()
        parent = existing.get(r.pop("parent_code") or "")
        values = dict(
            r,
            geometry=to_geojson(geom),
            min_lon=minx,
            min_lat=miny,
            max_lon=maxx,
            max_lat=maxy,
            centroid_lon=centre.x,
            centroid_lat=centre.y,
            parent_id=parent.id if parent else None,
        )
        grid = existing.get(r["code"])
        if grid is None:
            grid = Grid(**values)
            session.add(grid)
            summary.created += 1
        else:
            for k, v in values.items():
                setattr(grid, k, v)
            summary.updated += 1
        session.flush()
        existing[grid.code] = grid
    return summary


def _columns(frame) -> dict[str, str]:
    lower = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}
    out = {}
    for key, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            if alias.lower() in lower:
                out[key] = lower[alias.lower()]
                break
    return out


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


def _clean(value) -> str | None:
    return str(value).strip() if _present(value) else None
