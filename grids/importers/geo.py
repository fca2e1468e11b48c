"""Import grid polygons (区县 → 街道/片区 → 网格) from GeoJSON or a Shapefile, in any CRS.

Files are reprojected to WGS-84 with pyproj (through geopandas). GeoJSON without a `crs` member is
WGS-84 by the standard, but Chinese exports are often GCJ-02 or a projected CGCS2000 zone without
saying so: `crs` names the system of a file that declares none, and must agree with one that does
(GCJ-02 and BD-09 have no EPSG code, so exports label them WGS 84: they may override a declared
WGS 84). Invalid polygons are repaired with make_valid (keeping the polygonal part), and each repair
is named in the summary, or rejected with their feature id, by setting. Shapefile field names cut
to the DBF's ten bytes (parent_cod, manager_na, 上级编) are recognised, and a Shapefile without its
.cpg is decoded as UTF-8 or GBK rather than as GDAL's Latin-1 mojibake. Grids outside China, or far
from the grids already imported, or far from their parent, are refused saying where they are.
Everything is checked before anything is written."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ImportRejected, UserError
from core.models import Grid
from core.vocabulary import GRID_LEVELS
from grids import coords
from grids.importers.checks import KM_PER_DEGREE_LAT, far_message, grids_extent
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
CRS_NAMES = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490"}
CHINESE_CRS = ("gcj02", "bd09")  # no EPSG code: vertices are converted by grids.coords
DBF_FIELD_BYTES = 10  # a Shapefile's attribute table cuts longer field names to this many bytes
_LENGTHS = {k: Grid.__table__.c[k].type.length for k in ("code", "name", "manager_name", "manager_phone")}


def import_grids(
    session: Session, path, crs: str | None = None, repair: bool = True, *, max_distance_km: float | None = None
) -> ImportSummary:
    path = Path(path)
    frame, source, notes = read_wgs84(path, crs)
    problems: list[str] = []
    columns = _columns(frame, path, problems)
    records = [_record(frame, columns, i, problems, repair, source) for i in range(len(frame))]
    records = [r for r in records if r is not None]
    _check_codes_and_parents(session, records, problems, max_distance_km)
    _check_distance(session, records, problems, max_distance_km)
    if problems:
        raise ImportRejected(path.name, problems)
    repaired = [f"{r['code']} ({r['repaired']})" for r in records if r.get("repaired")]
    summary = _write(session, records)
    if repaired:
        summary.notes.append(f"repaired {len(repaired)} invalid polygon(s): {', '.join(repaired)}")
    summary.notes.extend(notes)
    return summary


# ---------------------------------------------------------------- reading and the CRS


def read_wgs84(path: Path, crs: str | None) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    """The frame in WGS-84, where its coordinates were taken to be in (for messages), and what GDAL
    warned about while reading (for the summary: warnings must not reach stderr, which carries the
    one line of an error)."""
    if not path.exists():
        raise UserError(f"file not found: {path}")
    if path.suffix.lower() == ".shp" and not any(path.with_suffix(s).exists() for s in (".dbf", ".DBF")):
        # GDAL reads a .shp without its table as features without codes or names: say what is missing.
        raise UserError(
            f"{path.name}: the Shapefile's attribute table {path.stem}.dbf is not beside it; copy all its files"
        )
    if path.suffix.lower() == ".shp":
        _check_shapefile_length(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = _read_file(path)
    notes = sorted({f"GDAL: {str(w.message).splitlines()[0][:120]}" for w in caught if w.category is RuntimeWarning})
    if frame.empty:
        raise UserError(f"{path.name}: no features")
    declared = _declared_crs(path, frame)
    wanted = (crs or "").strip()
    if wanted.lower().replace("-", "").replace("_", "") in CHINESE_CRS:
        if declared is not None and not _is_wgs84(declared):
            raise UserError(
                f"{path.name}: the file declares {_crs_name(declared)}; --crs {wanted} is for longitude/latitude "
                "files only: drop --crs"
            )
        return _from_chinese_crs(frame, wanted), f"--crs {wanted}", notes
    if wanted:
        target = _parse_crs(wanted, path.name)
        if declared is not None and not _same_crs(declared, target):
            raise UserError(
                f"{path.name}: the file declares {_crs_name(declared)} but --crs says {wanted}; "
                "drop --crs, or correct the file's CRS"
            )
        frame, source = frame.set_crs(target, allow_override=True), f"--crs {wanted}"
    elif declared is None:
        frame, source = frame.set_crs("EPSG:4326", allow_override=True), "no CRS"
    else:
        source = f"its declared CRS {_crs_name(declared)}"
    with np.errstate(all="ignore"):
        return frame.to_crs("EPSG:4326"), source, notes


def _read_file(path: Path) -> gpd.GeoDataFrame:
    shapefile = path.suffix.lower() == ".shp"
    try:
        if shapefile and _encoding_unknown(path):
            return _read_shapefile_bytes(path)
        return gpd.read_file(path)
    except UnicodeDecodeError:
        if shapefile:
            return _read_shapefile_bytes(path)
        raise UserError(f"{path.name}: not UTF-8 text") from None
    except UserError:
        raise
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise UserError(
            f"{path.name}: not a readable GeoJSON or Shapefile ({str(exc).splitlines()[0][:120] if str(exc) else ''})"
        ) from None


def _check_shapefile_length(path: Path) -> None:
    """A .shp states its length in its header; GDAL reads a shorter one as features without geometry."""
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or header[:4] != b"\x00\x00\x27\x0a":
        raise UserError(f"{path.name}: not a Shapefile (its header is missing or wrong)")
    declared, actual = int.from_bytes(header[24:28], "big") * 2, path.stat().st_size
    if actual < declared:
        raise UserError(f"{path.name}: the file is cut short ({actual:,} of {declared:,} bytes); copy it again")


def _encoding_unknown(path: Path) -> bool:
    """True when GDAL does not know a Shapefile's text encoding (no .cpg, no code page in the .dbf)
    and would decode its Chinese as Latin-1 mojibake: pyogrio then reports ISO-8859-1."""
    import pyogrio

    return str(pyogrio.read_info(path).get("encoding") or "").upper() in ("ISO-8859-1", "LATIN1")


def _read_shapefile_bytes(path: Path) -> gpd.GeoDataFrame:
    """A Shapefile's attribute table decoded here rather than by GDAL, for the two cases GDAL gets
    wrong: a file shared without its .cpg (GDAL falls back to Latin-1 and Chinese becomes mojibake),
    and UTF-8 field names the .dbf cut in the middle of a character (网格编码 is 12 bytes, cut to 10;
    GDAL cannot decode the name at all). Latin-1 turns any byte into one character and back, so the
    table is read as Latin-1 and its bytes decoded again: as UTF-8, else as GBK (GB18030), the two
    encodings Chinese GIS software writes. Field names drop a character cut in half."""
    try:
        frame = gpd.read_file(path, encoding="latin1")  # pyogrio takes this spelling only
    except Exception as exc:  # as in _read_file
        raise UserError(f"{path.name}: not a readable Shapefile ({str(exc).splitlines()[0][:120]})") from None
    geometry = frame.geometry.name
    columns = [c for c in frame.columns if c != geometry]
    for encoding in ("utf-8", "gb18030"):

        def decode(value, errors="strict", encoding=encoding):
            return value.encode("latin-1").decode(encoding, errors) if isinstance(value, str) else value

        try:
            values = {c: frame[c].map(decode) for c in columns}  # numbers pass through as they are
        except UnicodeDecodeError:
            continue
        for c, decoded in values.items():
            frame[c] = decoded
        return frame.rename(columns={c: decode(c, "ignore") for c in columns})
    raise UserError(
        f"{path.name}: the attribute table is neither UTF-8 nor GBK text; add a .cpg file naming its encoding"
    )


def _declared_crs(path: Path, frame: gpd.GeoDataFrame) -> CRS | None:
    """The CRS the file itself states. GDAL reports EPSG:4326 for every GeoJSON without a `crs`
    member (the standard's default); that is not the file saying so, and --crs must then apply."""
    if frame.crs is None:
        return None
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            with path.open(encoding="utf-8") as f:
                doc = json.load(f)
        except (ValueError, UnicodeDecodeError):
            return frame.crs  # GDAL read it, so it is GeoJSON of a kind; trust what GDAL found
        if not (isinstance(doc, dict) and doc.get("crs")):
            return None
    return frame.crs


def _parse_crs(value: str, source: str) -> CRS:
    try:
        return CRS.from_user_input(CRS_NAMES.get(value.lower().replace("-", "").replace("_", ""), value))
    except CRSError:
        raise UserError(
            f"{source}: unknown --crs {value!r}; use an EPSG code such as EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger "
            "CM 120E), or gcj02, bd09, wgs84"
        ) from None


def _same_crs(a: CRS, b: CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    code_a, code_b = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return code_a is not None and code_a == code_b


def _is_wgs84(crs: CRS) -> bool:
    return crs.is_geographic and _same_crs(crs, CRS.from_epsg(4326))


def _crs_name(crs: CRS) -> str:
    authority = crs.to_authority(min_confidence=70)
    return ":".join(authority) if authority else crs.name


def _from_chinese_crs(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """GCJ-02/BD-09 are not in any EPSG registry; convert the vertices with grids.coords."""

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(coords.to_wgs84(xy[:, 0], xy[:, 1], crs))

    frame = frame.copy()
    frame.geometry = shapely.transform(frame.geometry.values, convert)
    return frame.set_crs("EPSG:4326", allow_override=True)


# ---------------------------------------------------------------- features


def _record(frame, columns: dict[str, str], i: int, problems: list[str], repair: bool, source: str) -> dict | None:
    before = len(problems)
    props = {k: frame.iloc[i][c] for k, c in columns.items()}
    code = _clean(props.get("code"))
    label = f"feature {code or f'#{i + 1}'}"
    for key in ("code", "name"):
        if not _present(props.get(key)):
            problems.append(f"{label}: missing {key} ({'/'.join(FIELD_ALIASES[key][:3])})")
    for key, limit in _LENGTHS.items():
        value = _clean(props.get(key))
        if value and len(value) > limit:
            problems.append(f"{label}: {key} is longer than {limit} characters")
    level = LEVEL_ALIASES.get(str(props.get("level") or "grid").strip().lower())
    if level is None:
        problems.append(f"{label}: unknown level {props.get('level')!r}; use one of {', '.join(GRID_LEVELS)}")
    geom, repaired = _polygon(frame.geometry.iloc[i], label, problems, repair, source)
    if geom is None or len(problems) > before:
        return None
    return {
        "code": code,
        "name": _clean(props["name"]),
        "level": level,
        "parent_code": _clean(props.get("parent_code")),
        "manager_name": _clean(props.get("manager_name")),
        "manager_phone": _clean(props.get("manager_phone")),
        "geometry": geom,
        "repaired": repaired,
    }


def _polygon(geom, label: str, problems: list[str], repair: bool, source: str):
    """The feature's polygon in WGS-84 and, when it was repaired, why; or (None, None) with a problem."""
    if geom is None or geom.is_empty:
        problems.append(f"{label}: no geometry")
        return None, None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append(f"{label}: geometry is a {geom.geom_type}, not a polygon")
        return None, None
    minx, miny, maxx, maxy = geom.bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        problems.append(f"{label}: its coordinates cannot be converted from {source}; is that the right CRS?")
        return None, None
    lonlat = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    if not (lonlat and coords.in_china(minx, miny)) and coords.in_china(miny, minx) and coords.in_china(maxy, maxx):
        problems.append(
            f"{label}: coordinates ({minx:.4f}, {miny:.4f}) look like latitude and longitude swapped; "
            "GeoJSON and Shapefiles put longitude first"
        )
        return None, None
    if not lonlat:
        if source == "no CRS":
            hint = "the file has no CRS — give the right one with --crs (e.g. EPSG:4547)"
        else:
            hint = f"read with {source}; is that the right CRS?"
        problems.append(f"{label}: coordinates ({minx:.0f}, {miny:.0f}) are not longitude/latitude; {hint}")
        return None, None
    point = geom.representative_point() if geom.is_valid else geom.envelope.centroid
    if not coords.in_china(point.x, point.y):
        problems.append(
            f"{label}: at ({point.x:.5f}, {point.y:.5f}), outside China (coordinates read with {source}); "
            "is the CRS right?"
        )
        return None, None
    if geom.is_valid:
        return geom, None
    reason = explain_validity(geom)
    if not repair:
        problems.append(f"{label}: invalid polygon ({reason})")
        return None, None
    fixed = shapely.make_valid(geom)
    parts = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, (Polygon, MultiPolygon))]
    geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty:
        problems.append(f"{label}: invalid polygon that cannot be repaired ({reason})")
        return None, None
    return geom, reason


def _check_codes_and_parents(session: Session, records: list[dict], problems: list[str], max_km) -> None:
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
    if not max_km or max_km <= 0:
        return
    # A child far from its parent is in the wrong place even when nothing is in the database yet.
    in_file = {r["code"]: r["geometry"] for r in records}
    wanted = {r["parent_code"] for r in records if r["parent_code"] and r["parent_code"] not in in_file}
    stored = {}
    if wanted:
        rows = session.execute(select(Grid.code, Grid.geometry).where(Grid.code.in_(wanted)))
        stored = {code: shapely.from_geojson(geometry) for code, geometry in rows}
    for r in records:
        parent = in_file.get(r["parent_code"]) or stored.get(r["parent_code"])
        if parent is None:
            continue
        point = r["geometry"].representative_point()
        km = parent.distance(point) * KM_PER_DEGREE_LAT  # degrees to km: a lower bound, enough to warn
        if km > max_km:
            problems.append(
                f"feature {r['code']}: at ({point.x:.5f}, {point.y:.5f}), {km:,.0f} km from its parent "
                f"{r['parent_code']} (grids.max_distance_km = {max_km:g})"
            )


def _check_distance(session: Session, records: list[dict], problems: list[str], max_km) -> None:
    extent = grids_extent(session)
    if extent is None or not records or not max_km or max_km <= 0:
        return
    points = [r["geometry"].representative_point() for r in records]
    km = extent.km_outside([p.x for p in points], [p.y for p in points])
    for r, p, d in zip(records, points, km, strict=True):
        if d > max_km:
            problems.append(f"feature {r['code']}: at {far_message(p.x, p.y, d, extent, max_km)}")


def _write(session: Session, records: list[dict]) -> ImportSummary:
    existing = {g.code: g for g in session.scalars(select(Grid))}
    order = {"district": 0, "street": 1, "grid": 2}
    summary = ImportSummary()
    for r in sorted(records, key=lambda r: order[r["level"]]):  # parents before children
        r = dict(r)
        geom = r.pop("geometry")
        r.pop("repaired")
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


def _columns(frame, path: Path, problems: list[str]) -> dict[str, str]:
    """Our field -> the file's column. In a Shapefile a column may be an alias cut to the DBF's ten
    bytes (parent_cod, manager_na, 上级编): it is taken when it can only be that alias's field, and a
    cut name that could be two fields is refused rather than dropped."""
    names = [c for c in frame.columns if c != frame.geometry.name]
    lower = {str(c).lower(): c for c in names}
    out: dict[str, str] = {}
    for key, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            if alias.lower() in lower:
                out[key] = lower[alias.lower()]
                break
    if path.suffix.lower() != ".shp":
        return out
    taken = set(out.values())
    for column in names:
        if column in taken:
            continue
        cut = str(column).lower()
        if not cut or min(len(cut.encode(e)) for e in ("utf-8", "gb18030")) > DBF_FIELD_BYTES:
            continue
        fields = {
            key
            for key, aliases in FIELD_ALIASES.items()
            for alias in aliases
            if alias.lower().startswith(cut) and alias.lower() != cut and _longer_than_dbf(alias)
        }
        if len(fields) > 1:
            problems.append(f"column {column!r}: a cut field name that could be any of {', '.join(sorted(fields))}")
        elif fields and (key := fields.pop()) not in out:
            out[key] = column
    return out


def _longer_than_dbf(alias: str) -> bool:
    return any(len(alias.encode(encoding)) > DBF_FIELD_BYTES for encoding in ("utf-8", "gb18030"))


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


def _clean(value) -> str | None:
    """Text of a property; a numeric code read from a DBF (320508001001.0) as the digits it is."""
    if not _present(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value).strip()
