"""Regression tests for the importer half of the reliability issue (items 3, 5, 6, 7 and 8): each one
reproduced the fault before the fix. The same faults run through the real command in tests/faults/."""

import io
import json
import tracemalloc
import warnings
import zipfile

import pytest
from openpyxl import Workbook
from pyproj import Transformer
from sqlalchemy import func, select

from core.errors import ImportRejected, UserError
from core.models import Agency, Grid, Inspection, Venue
from grids.importers.geo import import_grids
from grids.importers.registers import import_agencies, import_inspections, import_venues
from tests.conftest import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "grids" / "sample" / "data"


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def _csv(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _square(code, x0, y0, size=0.01, level="grid", parent=None, name=None):
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": code, "name": name or code, "level": level, "parent_code": parent},
    }


def _geojson(tmp_path, features, crs=None, name="grids.geojson"):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- 3. one line instead of a traceback


def _good_xlsx_bytes(compression=zipfile.ZIP_DEFLATED) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["名称", "类别", "许可证号", "经度", "纬度"])
    for i in range(50):
        ws.append([f"网吧{i}", "网吧", f"X{i:05d}", 120.6123, 31.3123])
    buf = io.BytesIO()
    wb.save(buf)
    if compression == zipfile.ZIP_DEFLATED:
        return buf.getvalue()
    stored = io.BytesIO()  # the same workbook with its parts stored uncompressed, so a flipped byte only breaks the CRC
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item.filename))
    return stored.getvalue()


def _broken_xlsx(kind: str) -> bytes:
    if kind == "csv renamed":
        return "名称,类别,经度,纬度\n甲,网吧,120.6,31.3\n".encode()
    if kind == "truncated":
        good = _good_xlsx_bytes()
        return good[: len(good) // 2]
    if kind == "crc":
        stored = _good_xlsx_bytes(zipfile.ZIP_STORED)
        assert stored.count(b"120.6123") >= 1
        return stored.replace(b"120.6123", b"120.6124", 1)
    if kind == "encrypted":  # Office encrypts a workbook into an OLE compound file (the .xls container)
        return bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 2048
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["csv renamed", "truncated", "crc", "encrypted"])
def test_damaged_xlsx_is_one_user_error(session, tmp_path, kind):
    path = tmp_path / "场所.xlsx"
    path.write_bytes(_broken_xlsx(kind))
    with pytest.raises(UserError) as err:
        import_venues(session, path, "wgs84")
    assert "场所.xlsx" in str(err.value) and "\n" not in str(err.value)
    assert _count(session, Venue) == 0


@pytest.mark.parametrize(
    "second", ["l-js-cj00001", "L－JS－CJ00001", "L—JS—CJ00001", "L-JS-CJ 00001"], ids=["case", "fw", "em", "space"]
)
def test_registry_with_one_licence_written_two_ways_is_a_duplicate_row(session, tmp_path, second):
    path = _csv(tmp_path, "agencies.csv", f"名称,许可证号\n甲旅行社,L-JS-CJ00001\n乙旅行社,{second}\n")
    with pytest.raises(ImportRejected, match="row 3, column 许可证号: duplicate") as err:
        import_agencies(session, path, "wgs84")
    assert "row 2" in str(err.value)
    assert _count(session, Agency) == 0


# ---------------------------------------------------------------- 5. grid import


def _projected_square(code, lon, lat, epsg, size=500.0):
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return _square(code, x, y, size=size)


def test_crs_flag_applies_to_geojson_without_crs(session, tmp_path):
    path = _geojson(tmp_path, [_projected_square("P1", 120.60, 31.30, 4547)])
    import_grids(session, path, crs="EPSG:4547")
    grid = session.scalar(select(Grid))  # a 500 m square drawn in the projection; its corner is where we put it
    assert grid.min_lon == pytest.approx(120.60, abs=1e-6) and grid.min_lat == pytest.approx(31.30, abs=1e-3)


def test_crs_flag_against_a_different_declared_crs_is_rejected(session, tmp_path):
    path = _geojson(tmp_path, [_projected_square("P1", 120.60, 31.30, 4549)], crs="EPSG:4549")
    with pytest.raises(UserError, match="declares EPSG:4549 but --crs says EPSG:4547"):
        import_grids(session, path, crs="EPSG:4547")
    import_grids(session, path, crs="EPSG:4549")  # the same CRS, written either way, is fine
    assert _count(session, Grid) == 1


def test_unknown_crs_flag_is_one_user_error(session, tmp_path):
    path = _geojson(tmp_path, [_square("A1", 120.6, 31.3)])
    with pytest.raises(UserError, match="--crs 'EPSG:999999'"):
        import_grids(session, path, crs="EPSG:999999")


def test_truncated_shapefile_field_names_are_mapped(session, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    def shapefile(name, columns, encoding):
        frame = gpd.GeoDataFrame(
            columns, geometry=[box(120.60, 31.30, 120.62, 31.32), box(120.60, 31.30, 120.61, 31.31)]
        )
        with warnings.catch_warnings():  # GDAL says it cut the names: that is the file users send
            warnings.simplefilter("ignore")
            frame.set_crs("EPSG:4326").to_file(tmp_path / name, encoding=encoding)
        return tmp_path / name

    path = shapefile(
        "en.shp",
        {
            "code": ["S1", "G1"],
            "name": ["街道", "网格"],
            "level": ["street", "grid"],
            "parent_code": [None, "S1"],
            "manager_name": [None, "王伟"],
            "manager_phone": [None, "13800000000"],
        },
        "utf-8",
    )
    import_grids(session, path)
    grid = session.scalar(select(Grid).where(Grid.code == "G1"))
    assert grid.parent.code == "S1" and grid.manager_name == "王伟" and grid.manager_phone == "13800000000"

    # UTF-8 Chinese names are cut at 10 bytes, in the middle of a character.
    path = shapefile(
        "zh.shp",
        {
            "网格编码": ["S2", "G2"],
            "网格名称": ["街道", "网格"],
            "级别": ["街道", "网格"],
            "上级编码": [None, "S2"],
        },
        "utf-8",
    )
    import_grids(session, path)
    assert session.scalar(select(Grid).where(Grid.code == "G2")).parent.code == "S2"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_shapefile_without_its_cpg_is_not_read_as_mojibake(session, tmp_path, encoding):
    """Without a .cpg GDAL decodes the table as Latin-1: 网格 became 'ç½\x91æ\xa0¼'."""
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"code": ["G1"], "name": ["平江路网格"], "manager": ["王伟"]}, geometry=[box(120.60, 31.30, 120.61, 31.31)]
    )
    frame.set_crs("EPSG:4326").to_file(tmp_path / "g.shp", encoding=encoding)
    (tmp_path / "g.cpg").unlink()
    import_grids(session, tmp_path / "g.shp")
    grid = session.scalar(select(Grid))
    assert (grid.name, grid.manager_name) == ("平江路网格", "王伟")


def test_grid_outside_china_is_rejected_saying_where(session, tmp_path):
    path = _geojson(tmp_path, [_square("PARIS", 2.35, 48.85)])
    with pytest.raises(ImportRejected, match=r"feature PARIS: .*\(2\.3\d*, 48\.8\d*\).*outside China"):
        import_grids(session, path)
    assert _count(session, Grid) == 0


def test_grid_far_from_the_district_is_rejected(session, tmp_path):
    import_grids(session, SAMPLE / "district.geojson")
    path = _geojson(tmp_path, [_square("BJ1", 116.39, 39.90)])
    with pytest.raises(ImportRejected, match=r"feature BJ1: .*\(116\.39\d*, 39\.9\d*\).* km from"):
        import_grids(session, path, max_distance_km=100)
    assert _count(session, Grid) == 73


def test_swapped_lat_lon_grid_has_its_own_message(session, tmp_path):
    feature = _square("SW1", 120.60, 31.30)
    feature["geometry"]["coordinates"] = [[[lat, lon] for lon, lat in feature["geometry"]["coordinates"][0]]]
    with pytest.raises(ImportRejected) as err:
        import_grids(session, _geojson(tmp_path, [feature]))
    assert "swapped" in str(err.value) and "no CRS" not in str(err.value)


def test_repaired_polygons_are_reported_by_feature(session, tmp_path):
    bowtie = {
        "type": "Feature",
        "properties": {"code": "BAD1", "name": "蝴蝶结", "level": "grid"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.60, 31.30], [120.61, 31.31], [120.61, 31.30], [120.60, 31.31], [120.60, 31.30]]],
        },
    }
    summary = import_grids(session, _geojson(tmp_path, [_square("OK1", 120.62, 31.32), bowtie]), repair=True)
    assert "repaired" in str(summary) and "BAD1" in str(summary) and "OK1" not in str(summary)


# ---------------------------------------------------------------- 6. inspections


def _with_sample_venues(session):
    import_grids(session, SAMPLE / "district.geojson")
    import_venues(session, SAMPLE / "venues.csv", "wgs84")


INSPECTION_HEADER = "venue_licence_no,date,inspectors,result,penalty_yuan\n"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("2026-01-05,王、李,立案查处,-500", "negative"),
        ("2026-01-05,王、李,立案查处,nan", "cannot read"),
        ("2026-01-05,王、李,立案查处,inf", "cannot read"),
        ("2026-01-05,王、李,立案查处,1e400", "cannot read"),
        ("2026-01-05,王、李,挺好的,", "unknown result"),
        ("2099-01-05,王、李,未发现问题,", "in the future"),
        ("2026-02-30,王、李,未发现问题,", "cannot read"),
    ],
)
def test_inspection_values_are_validated(session, tmp_path, cells, message):
    _with_sample_venues(session)
    path = _csv(tmp_path, "insp.csv", INSPECTION_HEADER + f"320508000000001,{cells}\n")
    with pytest.raises(ImportRejected, match=f"row 2, column .*{message}"):
        import_inspections(session, path)
    assert _count(session, Inspection) == 0


def test_common_result_words_are_mapped_to_the_vocabulary(session, tmp_path):
    _with_sample_venues(session)
    path = _csv(
        tmp_path,
        "insp.csv",
        INSPECTION_HEADER + "320508000000001,2026-01-05,王,合格,\n320508000000002,2026-01-05,王,限期整改,\n"
        "320508000000003,2026-01-05,王,立案,2000\n",
    )
    import_inspections(session, path)
    assert sorted(session.scalars(select(Inspection.result))) == ["未发现问题", "立案查处", "责令整改"]


def test_reimporting_inspections_does_not_double_them(session, tmp_path):
    _with_sample_venues(session)
    first = import_inspections(session, SAMPLE / "inspections.csv")
    count = _count(session, Inspection)
    again = import_inspections(session, SAMPLE / "inspections.csv")
    assert again.created == 0 and again.updated == 0 and again.unchanged == first.created
    assert _count(session, Inspection) == count
    # The same inspection written with its inspectors in another order and separator is the same one.
    path = tmp_path / "insp.csv"
    path.write_text(INSPECTION_HEADER + 'L-JS-GJ02670,2024-11-01,"石婷俊, 丁兰敏",未发现问题,\n', encoding="utf-8")
    assert import_inspections(session, path).created == 0
    assert _count(session, Inspection) == count


def test_duplicate_inspection_rows_in_one_file_are_rejected(session, tmp_path):
    _with_sample_venues(session)
    row = "320508000000001,2026-01-05,王、李,未发现问题,\n"
    path = _csv(tmp_path, "insp.csv", INSPECTION_HEADER + row + row)
    with pytest.raises(ImportRejected, match="row 3.*duplicate.*row 2"):
        import_inspections(session, path)


# ---------------------------------------------------------------- 7. licences differing in case or dash


def test_licence_key_folds_case_width_every_dash_and_spaces():
    import sys
    import unicodedata

    from core.licences import licence_key

    same = [
        "L-JS-CJ00001",
        "l-js-cj 00001",
        "Ｌ－ＪＳ－ＣＪ００００１",
        "L—JS—CJ00001",
        "L\u2212JS\u2212CJ\u200b00001",
        "LJSCJ00001",
    ]
    assert {licence_key(n) for n in same} == {"LJSCJ00001"}
    dashes = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Pd"]
    assert {licence_key(f"A{d}1") for d in dashes} == {"A1"}, "a dash of Unicode's Pd class is missing from DASHES"
    # Chinese characters are part of venue licences: these are two licences, not one.
    assert licence_key("新出发姑字第01355号") != licence_key("新出发沧字第01355号")
    assert licence_key("（苏）印证字32050802101号") == "(苏)印证字32050802101号"
    assert licence_key(" ") is None and licence_key(None) is None


def test_venue_licence_written_differently_updates_the_same_venue(session, tmp_path):
    header = "名称,类别,许可证号,经度,纬度\n"
    import_venues(session, _csv(tmp_path, "a.csv", header + "甲旅行社门店,旅行社,L-JS-GJ00001,120.61,31.31\n"), "wgs84")
    summary = import_venues(
        session,
        _csv(tmp_path, "b.csv", header + "甲旅行社门店,旅行社,ｌ－ｊｓ－ｇｊ００００１,120.61,31.31\n"),
        "wgs84",
    )
    assert summary.created == 0 and summary.updated == 1
    [venue] = session.scalars(select(Venue))
    assert venue.licence_no == "ｌ－ｊｓ－ｇｊ００００１" and venue.licence_key == "LJSGJ00001"


def test_agency_licence_kept_as_written_and_matched_by_key(session, tmp_path):
    import_agencies(session, _csv(tmp_path, "a.csv", "名称,许可证号\n甲旅行社,l-js-cj 00001\n"), "wgs84")
    assert session.scalar(select(Agency.licence_no)) == "l-js-cj 00001"
    summary = import_agencies(session, _csv(tmp_path, "b.csv", "名称,许可证号\n甲国际旅行社,L‐JS‐CJ00001\n"), "wgs84")
    assert summary.updated == 1 and _count(session, Agency) == 1
    assert session.scalar(select(Agency.licence_key)) == "LJSCJ00001"


def test_inspections_find_their_venue_by_licence_key(session, tmp_path):
    _with_sample_venues(session)
    path = _csv(tmp_path, "insp.csv", INSPECTION_HEADER + "l－js－gj02670,2026-01-05,王,未发现问题,\n")
    assert import_inspections(session, path).created == 1


# ---------------------------------------------------------------- 8. memory


def test_venue_import_memory_does_not_grow_with_the_file(session, tmp_path):
    """Python allocations at the peak of an import of 6,000 rows read 500 at a time: the whole-file
    reader held every row as a list, a dict and an ORM object (about 30 MB here)."""
    import_grids(session, SAMPLE / "district.geojson")
    rows = "".join(
        f"场所{i},网吧,M{i:06d},2027-01-01,姑苏区某路{i}号,120.6{i % 97:02d},31.3{i % 89:02d}\n" for i in range(6000)
    )
    path = _csv(tmp_path, "big.csv", "名称,类别,许可证号,有效期至,地址,经度,纬度\n" + rows)
    tracemalloc.start()
    try:
        summary = import_venues(session, path, "wgs84", chunk_rows=500)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.created == 6000
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_a_file_wrong_on_every_row_is_counted_to_the_end_but_not_kept_whole(session, tmp_path):
    rows = "".join(f"场所{i},花店,N{i},120.61,31.31\n" for i in range(1500))
    path = _csv(tmp_path, "v.csv", "名称,类别,许可证号,经度,纬度\n" + rows)
    with pytest.raises(ImportRejected) as err:
        import_venues(session, path, "wgs84", chunk_rows=400)
    assert "(1500 problem(s))" in str(err.value) and "… and 1495 more" in str(err.value)
    assert len(err.value.problems) == 1000
