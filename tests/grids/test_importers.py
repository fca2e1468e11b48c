"""Importers with good files and with the broken files users really send; nothing partial survives."""

import json
import subprocess
import sys

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core import db
from core.errors import ImportRejected, UserError
from core.models import Agency, Grid, Inspection, Venue
from grids import coords
from grids.importers.geo import import_grids
from grids.importers.registers import import_agencies, import_inspections, import_venues
from tests.conftest import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "grids" / "sample" / "data"


def _geojson(tmp_path, features, crs=None, name="grids.geojson"):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _square(code, name, x0, y0, size=0.01, level="grid", parent=None):
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
    }


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_sample_district_imports_with_hierarchy(session):
    summary = import_grids(session, SAMPLE / "district.geojson")
    assert summary.created == 73
    grid = session.scalar(select(Grid).where(Grid.code == "320508001001"))
    assert grid.level == "grid" and grid.parent.code == "320508001" and grid.parent.parent.code == "320508"
    assert 120.5 < grid.centroid_lon < 120.7 and 31.2 < grid.centroid_lat < 31.4


def test_projected_shapefile_is_reprojected(session, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"code": ["320508009001"], "name": ["投影网格"], "level": ["grid"]},
        geometry=[box(120.60, 31.30, 120.61, 31.31)],
        crs="EPSG:4326",
    ).to_crs("EPSG:4549")
    frame.to_file(tmp_path / "grids.shp", encoding="utf-8")
    import_grids(session, tmp_path / "grids.shp")
    grid = session.scalar(select(Grid))
    assert grid.min_lon == pytest.approx(120.60, abs=1e-6) and grid.max_lat == pytest.approx(31.31, abs=1e-6)


def test_projected_coordinates_without_crs_are_rejected(session, tmp_path):
    path = _geojson(tmp_path, [_square("A1", "米制网格", 500000, 3460000, size=500)])
    with pytest.raises(ImportRejected, match="not longitude/latitude"):
        import_grids(session, path)
    assert _count(session, Grid) == 0


def test_gcj02_grids_are_converted(session, tmp_path):
    gx, gy = coords.wgs84_to_gcj02(120.60, 31.30)
    import_grids(session, _geojson(tmp_path, [_square("G1", "高德网格", gx, gy)]), crs="gcj02")
    assert session.scalar(select(Grid.min_lon)) == pytest.approx(120.60, abs=1e-6)


def test_self_intersecting_polygon_repaired_or_rejected(session, tmp_path):
    bowtie = {
        "type": "Feature",
        "properties": {"code": "BAD1", "name": "蝴蝶结", "level": "grid"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.60, 31.30], [120.61, 31.31], [120.61, 31.30], [120.60, 31.31], [120.60, 31.30]]],
        },
    }
    path = _geojson(tmp_path, [_square("OK1", "好网格", 120.62, 31.32), bowtie])
    with pytest.raises(ImportRejected, match="feature BAD1: invalid polygon") as err:
        import_grids(session, path, repair=False)
    assert _count(session, Grid) == 0 and len(err.value.problems) == 1
    import_grids(session, path, repair=True)
    repaired = session.scalar(select(Grid).where(Grid.code == "BAD1"))
    from shapely import from_geojson

    assert from_geojson(repaired.geometry).is_valid


def test_grid_problems_all_reported_and_nothing_written(session, tmp_path):
    features = [
        _square("D1", "重复", 120.6, 31.3),
        _square("D1", "重复", 120.7, 31.3),
        _square("", "无编码", 120.8, 31.3),
        _square("C1", "孤儿", 120.6, 31.4, parent="NOPE"),
    ]
    with pytest.raises(ImportRejected) as err:
        import_grids(session, _geojson(tmp_path, features))
    text = str(err.value)
    assert "duplicate code" in text and "missing code" in text and "parent NOPE" in text
    assert _count(session, Grid) == 0


def test_broken_geojson_is_a_clear_error(session, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(UserError, match="not a readable GeoJSON"):
        import_grids(session, path)


def _sample_grids(session):
    import_grids(session, SAMPLE / "district.geojson")


def test_sample_registers_import(session):
    _sample_grids(session)
    assert import_venues(session, SAMPLE / "venues.csv", "wgs84").created == 2900
    assert import_agencies(session, SAMPLE / "agencies.csv", "wgs84").created == 210
    assert import_inspections(session, SAMPLE / "inspections.csv").created > 3000
    assert session.scalar(select(func.count()).where(Venue.grid_id.is_(None))) == 0


def _write_xlsx(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_with_chinese_headers_gcj02_assigned_to_grids(session, tmp_path):
    _sample_grids(session)
    gx, gy = coords.wgs84_to_gcj02(120.6335, 31.3215)
    path = _write_xlsx(
        tmp_path / "场所.xlsx",
        ["场所名称", "行业类别", "许可证号", "有效期至", "地址", "经度", "纬度", "法定代表人"],
        [
            ["星空网咖", "网咖", 320508123456789, "2027年6月30日", "姑苏区平江路1号", gx, gy, "王五"],
            ["书香书店", "书店", "新出发姑字第99999号", None, "姑苏区十全街2号", gx + 0.001, gy, None],
        ],
    )
    summary = import_venues(session, path, "gcj02")
    assert summary.created == 2
    v = session.scalar(select(Venue).where(Venue.name == "星空网咖"))
    assert v.category == "网吧" and v.licence_no == "320508123456789" and str(v.licence_expiry) == "2027-06-30"
    assert v.lon == pytest.approx(120.6335, abs=1e-6) and v.grid_id is not None


def test_bad_rows_report_row_and_column_and_write_nothing(session, tmp_path):
    _sample_grids(session)
    path = tmp_path / "venues.csv"
    path.write_text(
        "名称,类别,许可证号,经度,纬度\n"
        "甲网吧,网吧,A001,120.61,31.31\n"
        "乙网吧,网吧,A001,120.62,31.31\n"
        "丙书店,花店,A003,120.63,31.31\n"
        "丁网吧,网吧,A004,东经120,31.31\n"
        "戊网吧,网吧,A005,31.31,120.61\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as err:
        import_venues(session, path, "wgs84")
    problems = err.value.problems
    assert any(p.startswith("row 3, column 许可证号: duplicate 'A001'") for p in problems)
    assert any(p.startswith("row 4, column 类别: unknown category '花店'") for p in problems)
    assert any(p.startswith("row 5, column 经度: cannot read") for p in problems)
    assert any(p.startswith("row 6, column 经度") and "swapped" in p for p in problems)
    assert _count(session, Venue) == 0


def test_missing_column_names_what_the_file_has(session, tmp_path):
    path = tmp_path / "agencies.csv"
    path.write_text("旅行社名称,地址\n某某旅行社,苏州\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="missing column licence_no.*the file has: 旅行社名称, 地址"):
        import_agencies(session, path, "wgs84")


def test_gbk_csv_and_reimport_updates_instead_of_duplicating(session, tmp_path):
    path = tmp_path / "agencies.csv"
    path.write_bytes("名称,许可证号,地址\n苏州甲旅行社有限公司,l-js-cj 00001,姑苏区\n".encode("gbk"))
    import_agencies(session, path, "wgs84")
    path.write_bytes("名称,许可证号,地址\n苏州甲国际旅行社有限公司,L-JS-CJ00001,姑苏区\n".encode("gbk"))
    assert import_agencies(session, path, "wgs84").updated == 1
    assert [a.name for a in session.scalars(select(Agency))] == ["苏州甲国际旅行社有限公司"]


def test_failed_import_leaves_database_unchanged_across_transaction(cfg, tmp_path):
    """A failure in the middle of a multi-step import (the CLI's one transaction) rolls everything back."""
    with pytest.raises(ImportRejected):
        with db.session_scope(cfg) as s:
            import_grids(s, SAMPLE / "district.geojson")
            bad = tmp_path / "insp.csv"
            bad.write_text("venue_licence_no,date,inspectors,result\nNOPE,2026-01-01,王,合格\n", encoding="utf-8")
            import_inspections(s, bad)
    with db.session_scope(cfg) as s:
        assert _count(s, Grid) == 0 and _count(s, Inspection) == 0


def test_cli_prints_one_line_error_without_traceback(tmp_path):
    bad = tmp_path / "v.csv"
    bad.write_text("name,category\nx,网吧\n", encoding="utf-8")
    env = {"WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "-m", "core.cli", "init"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "import-venues", str(bad)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "missing column lon" in out.stderr


@pytest.mark.parametrize(
    "name, content",
    [
        ("utf-8 BOM", "\ufeff名称,类别,许可证号,经度,纬度\n甲网吧,网吧,B001,120.61,31.31\n".encode()),
        ("GBK", "名称,类别,许可证号,经度,纬度\n甲网吧,网吧,B001,120.61,31.31\n".encode("gbk")),
        (
            "a title row above the header",
            "姑苏区场所台账（2026年）,,,,\n名称,类别,许可证号,经度,纬度\n甲网吧,网吧,B001,120.61,31.31\n".encode(),
        ),
        ("Excel's empty trailing cells", "名称,类别,许可证号,经度,纬度,,\n甲网吧,网吧,B001,120.61,31.31,,\n".encode()),
        ("CRLF and a blank line", "名称,类别,许可证号,经度,纬度\r\n\r\n甲网吧,网吧,B001,120.61,31.31\r\n".encode()),
    ],
)
def test_files_that_look_odd_but_are_fine(session, tmp_path, name, content):
    path = tmp_path / "venues.csv"
    path.write_bytes(content)
    assert import_venues(session, path, "wgs84").created == 1
    assert session.scalar(select(Venue.name)) == "甲网吧"


def test_xlsx_title_row_and_datetime_cells(session, tmp_path):
    import datetime as dt

    path = _write_xlsx(
        tmp_path / "场所.xlsx",
        ["姑苏区场所台账"],
        [
            ["名称", "类别", "许可证号", "有效期至", "经度", "纬度"],
            ["甲网吧", "网吧", 320508123456789, dt.datetime(2027, 6, 30, 0, 0), 120.61, 31.31],
            ["乙网吧", "网吧", "B2", "2027-06-30 00:00:00", 120.62, 31.31],
        ],
    )
    assert import_venues(session, path, "wgs84").created == 2
    assert {str(d) for d in session.scalars(select(Venue.licence_expiry))} == {"2027-06-30"}
