"""Bad files through the real import commands: every importer, a table of the inputs users really send.

Each case runs `python -m core.cli import-… FILE` in a subprocess against a copy of a database that
holds the sample district, and asserts what the user must see and what must not happen: exactly one
line on stderr naming the file (and the row where there is one), no traceback, a non-zero exit, the
database unchanged to the byte (nothing lost, nothing duplicated), every wait bounded by a timeout,
and then the next import of a good file succeeding on that same database."""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from pyproj import Transformer
from sqlalchemy import text

from core import db
from core.cli import cli
from grids.sample.load import load_sample
from tests.conftest import PROJECT_ROOT, make_config

TIMEOUT_S = 120  # a bound on every command: a hang fails the test instead of the suite
TABLES = ("grids", "venues", "agencies", "inspections")


@dataclass(frozen=True)
class Fault:
    id: str
    verb: str  # import-venues, import-agencies, import-inspections, import-grids
    filename: str
    content: bytes | None  # None: the file does not exist
    expected: str  # a fragment of the one line, beyond the file's name
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    extra_files: dict[str, bytes] = field(default_factory=dict)  # beside the file (a Shapefile's parts)


def _u(s: str) -> bytes:
    return s.encode("utf-8")


VENUE_HEADER = "名称,类别,许可证号,有效期至,经度,纬度\n"
GOOD_VENUE = "故障测试网吧,网吧,FAULT-0001,2027-06-30,120.6233,31.3123\n"
AGENCY_HEADER = "名称,许可证号,经度,纬度\n"
INSPECTION_HEADER = "venue_licence_no,date,inspectors,result,penalty_yuan\n"
INSPECTION = "320508000000001,2026-01-05,故障、测试,{result},{penalty}\n"


def _inspection(result="未发现问题", penalty="", date="2026-01-05") -> str:
    return INSPECTION.format(result=result, penalty=penalty).replace("2026-01-05", date)


def _xlsx(rows, empty_first_sheet=False) -> bytes:
    wb = Workbook()
    ws = wb.active
    if empty_first_sheet:
        ws.title = "封面"
        ws = wb.create_sheet("场所")
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD_XLSX_ROWS = [["名称", "类别", "许可证号", "经度", "纬度"]] + [
    [f"网吧{i}", "网吧", f"X{i:05d}", 120.6123, 31.3123] for i in range(50)
]


def _crc_damaged_xlsx() -> bytes:
    """Parts stored uncompressed, one digit changed: the zip opens, the CRC of the sheet fails."""
    stored = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_xlsx(GOOD_XLSX_ROWS))) as src, zipfile.ZipFile(stored, "w") as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item.filename))
    return stored.getvalue().replace(b"120.6123", b"120.6124", 1)


def _feature(code, x0, y0, size=0.01, level="grid", parent="320508001", ring=None, geometry=None):
    ring = ring or [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {
        "type": "Feature",
        "geometry": geometry or {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": code, "name": f"网格{code}", "level": level, "parent_code": parent},
    }


def _geojson(*features, crs=None) -> bytes:
    doc = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return _u(json.dumps(doc, ensure_ascii=False))


def _projected(code, epsg) -> dict:
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(120.60, 31.30)
    return _feature(code, x, y, size=500, parent=None)


SWAPPED_RING = [[31.30, 120.60], [31.30, 120.61], [31.31, 120.61], [31.31, 120.60], [31.30, 120.60]]
BOWTIE = [[120.60, 31.30], [120.61, 31.31], [120.61, 31.30], [120.60, 31.31], [120.60, 31.30]]


def _truncated_shapefile() -> tuple[bytes, dict[str, bytes], bytes]:
    """A Shapefile cut in half (a copy from a USB stick that did not finish), its .shx and .dbf."""
    import geopandas as gpd
    from shapely.geometry import box

    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = gpd.GeoDataFrame({"code": ["S1"], "name": ["网格"]}, geometry=[box(120.6, 31.3, 120.61, 31.31)])
        frame.set_crs("EPSG:4326").to_file(Path(d) / "g.shp")
        shp = (Path(d) / "g.shp").read_bytes()
        return shp[: len(shp) // 2], {"g.shx": (Path(d) / "g.shx").read_bytes()}, (Path(d) / "g.dbf").read_bytes()


TRUNCATED_SHP, SHP_PARTS, SHP_DBF = _truncated_shapefile()

FAULTS = [
    # ------------------------------------------------------------ venues: the file itself
    Fault("empty", "import-venues", "v.csv", b"", "the file is empty"),
    Fault("blank lines only", "import-venues", "v.csv", b"\n  \n\n", "no header row"),
    Fault("header only", "import-venues", "v.csv", _u(VENUE_HEADER), "no data rows"),
    Fault("semicolons", "import-venues", "v.csv", _u(VENUE_HEADER.replace(",", ";") + GOOD_VENUE), "semicolons"),
    Fault("tabs in a .csv", "import-venues", "v.csv", _u(VENUE_HEADER.replace(",", "\t") + GOOD_VENUE), "tabs"),
    Fault("UTF-16", "import-venues", "v.csv", (VENUE_HEADER + GOOD_VENUE).encode("utf-16"), "UTF-16"),
    Fault(
        "mixed encodings",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + GOOD_VENUE) + "乙网吧,网吧,FAULT-0002,,120.61,31.31\n".encode("gbk"),
        "line 3 is not UTF-8",
    ),
    Fault(
        "mixed encodings, GBK first",
        "import-venues",
        "v.csv",
        (VENUE_HEADER + GOOD_VENUE).encode("gbk") + _u("乙网吧,网吧,FAULT-0002,,120.61,31.31\n"),
        "line 3 is not GBK",
    ),
    Fault("neither UTF-8 nor GBK", "import-venues", "v.csv", _u(VENUE_HEADER) + b"\x80\x80,\x80\n", "line 2"),
    Fault("NUL bytes", "import-venues", "v.csv", _u(VENUE_HEADER) + b"a\x00b,c,d,e,f,g\n", "line 2"),
    Fault(
        "BOM then a second file pasted below",
        "import-venues",
        "v.csv",
        codecs.BOM_UTF8 + _u(VENUE_HEADER + GOOD_VENUE) + codecs.BOM_UTF8 + _u(VENUE_HEADER),
        "row 3, column 经度: cannot read",
    ),
    Fault("unclosed quote", "import-venues", "v.csv", _u(VENUE_HEADER + '"甲网吧,网吧,F1,,120.61,31.31\n'), "row 2"),
    Fault("missing column", "import-venues", "v.csv", _u("名称,类别\n甲,网吧\n"), "missing column lon"),
    Fault(
        "one field twice",
        "import-venues",
        "v.csv",
        _u("名称,场所名称,类别,经度,纬度\n甲,甲,网吧,120.61,31.31\n"),
        "both give name",
    ),
    # ------------------------------------------------------------ venues: rows
    Fault(
        "duplicate rows",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + GOOD_VENUE * 2),
        "row 3, column 许可证号: duplicate",
    ),
    Fault(
        "licence in two cases",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + GOOD_VENUE + GOOD_VENUE.replace("FAULT-0001", "fault-0001").replace("故障", "乙")),
        "row 3, column 许可证号: duplicate",
    ),
    Fault(
        "licence with a full-width dash",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + GOOD_VENUE + GOOD_VENUE.replace("FAULT-0001", "FAULT－0001").replace("故障", "乙")),
        "row 3, column 许可证号: duplicate",
    ),
    Fault(
        "too many columns",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + "甲网吧,网吧,F1,2027-01-01,120.61,31.31,平江路,1号\n"),
        "row 2: 8 values but the header has 6 columns",
    ),
    Fault(
        "huge number", "import-venues", "v.csv", _u(VENUE_HEADER + "甲,网吧,F1,,1e308,31.31\n"), "row 2, column 经度"
    ),
    Fault(
        "NaN", "import-venues", "v.csv", _u(VENUE_HEADER + "甲,网吧,F1,,nan,31.31\n"), "row 2, column 经度: cannot read"
    ),
    Fault(
        "unparseable date",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + "甲,网吧,F1,2027-13-45,120.61,31.31\n"),
        "row 2, column 有效期至: cannot read",
    ),
    Fault(
        "outside the district",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + "甲,网吧,F1,,116.39,39.90\n"),
        "row 2, column 经度: (116.39000, 39.90000) is 1,006 km from the district's grids",
    ),
    Fault("outside China", "import-venues", "v.csv", _u(VENUE_HEADER + "甲,网吧,F1,,2.35,48.85\n"), "outside China"),
    Fault("swapped", "import-venues", "v.csv", _u(VENUE_HEADER + "甲,网吧,F1,,31.31,120.61\n"), "swapped"),
    Fault(
        "unknown category",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + "甲,花店,F1,,120.61,31.31\n"),
        "unknown category",
    ),
    Fault(
        "unknown grid",
        "import-venues",
        "v.csv",
        _u("名称,类别,经度,纬度,网格编码\n甲,网吧,120.61,31.31,999\n"),
        "row 2, column 网格编码: no grid",
    ),
    Fault(
        "name too long",
        "import-venues",
        "v.csv",
        _u(VENUE_HEADER + "甲" * 250 + ",网吧,F1,,120.61,31.31\n"),
        "longer than 200",
    ),
    # ------------------------------------------------------------ venues: workbooks
    Fault("CSV renamed .xlsx", "import-venues", "v.xlsx", _u(VENUE_HEADER + GOOD_VENUE), "not an .xlsx workbook"),
    Fault("truncated .xlsx", "import-venues", "v.xlsx", _xlsx(GOOD_XLSX_ROWS)[:3000], "damaged .xlsx"),
    Fault("CRC-damaged .xlsx", "import-venues", "v.xlsx", _crc_damaged_xlsx(), "damaged .xlsx"),
    Fault("encrypted .xlsx", "import-venues", "v.xlsx", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 2048, "password"),
    Fault("xlsx renamed .csv", "import-venues", "v.csv", _xlsx(GOOD_XLSX_ROWS), "not CSV text"),
    Fault("empty first sheet", "import-venues", "v.xlsx", _xlsx(GOOD_XLSX_ROWS, empty_first_sheet=True), "is empty"),
    Fault("old .xls", "import-venues", "v.xls", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 2048, ".xls"),
    Fault("unsupported type", "import-venues", "v.pdf", b"%PDF-1.4\n", "unsupported file type .pdf"),
    Fault("missing file", "import-venues", "v.csv", None, "file not found"),
    # ------------------------------------------------------------ agencies
    Fault(
        "licence in two cases",
        "import-agencies",
        "a.csv",
        _u(AGENCY_HEADER + "甲旅行社,L-JS-CJ90001,,\n乙旅行社,l-js-cj90001,,\n"),
        "row 3, column 许可证号: duplicate",
    ),
    Fault(
        "licence with a full-width dash",
        "import-agencies",
        "a.csv",
        _u(AGENCY_HEADER + "甲旅行社,L-JS-CJ90001,,\n乙旅行社,L－JS－CJ90001,,\n"),
        "row 3, column 许可证号: duplicate",
    ),
    Fault(
        "licence empty",
        "import-agencies",
        "a.csv",
        _u(AGENCY_HEADER + "甲旅行社,,,\n"),
        "row 2, column 许可证号: empty",
    ),
    Fault("licence only dashes", "import-agencies", "a.csv", _u(AGENCY_HEADER + "甲旅行社,--,,\n"), "not a licence"),
    Fault("header only", "import-agencies", "a.csv", _u(AGENCY_HEADER), "no data rows"),
    Fault("swapped", "import-agencies", "a.csv", _u(AGENCY_HEADER + "甲旅行社,L-JS-CJ90001,31.3,120.6\n"), "swapped"),
    Fault("CSV renamed .xlsx", "import-agencies", "a.xlsx", _u(AGENCY_HEADER), "not an .xlsx workbook"),
    # ------------------------------------------------------------ inspections
    Fault(
        "negative penalty",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection("立案查处", "-500")),
        "negative",
    ),
    Fault(
        "NaN penalty",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection("立案查处", "nan")),
        "cannot read",
    ),
    Fault(
        "infinite penalty",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection("立案查处", "inf")),
        "cannot read",
    ),
    Fault(
        "huge penalty", "import-inspections", "i.csv", _u(INSPECTION_HEADER + _inspection("立案查处", "1e12")), "a typo"
    ),
    Fault(
        "free-text result",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection("还行吧")),
        "unknown result",
    ),
    Fault(
        "future date",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection(date="2099-01-05")),
        "in the future",
    ),
    Fault(
        "unparseable date",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection(date="去年")),
        "cannot read",
    ),
    Fault(
        "unknown venue",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection().replace("320508000000001", "NOPE")),
        "no venue with licence 'NOPE'",
    ),
    Fault(
        "duplicate rows",
        "import-inspections",
        "i.csv",
        _u(INSPECTION_HEADER + _inspection() + _inspection().replace("故障、测试", '"测试, 故障"')),
        "row 3, column date: duplicate",
    ),
    Fault("empty", "import-inspections", "i.csv", b"", "the file is empty"),
    Fault("too many columns", "import-inspections", "i.csv", _u(INSPECTION_HEADER + _inspection() + ",x\n"), "row 3"),
    # ------------------------------------------------------------ grids
    Fault("broken JSON", "import-grids", "g.geojson", b'{"type": "FeatureCollection", "features": [', "not a readable"),
    Fault("no features", "import-grids", "g.geojson", _geojson(), "no features"),
    Fault(
        "in Paris", "import-grids", "g.geojson", _geojson(_feature("PARIS", 2.35, 48.85, parent=None)), "outside China"
    ),
    Fault(
        "far from the district",
        "import-grids",
        "g.geojson",
        _geojson(_feature("BJ1", 116.39, 39.90, parent=None)),
        "feature BJ1: at (116.39",
    ),
    Fault("swapped", "import-grids", "g.geojson", _geojson(_feature("SW1", 0, 0, ring=SWAPPED_RING)), "swapped"),
    Fault("projected, no CRS", "import-grids", "g.geojson", _geojson(_projected("P1", 4547)), "the file has no CRS"),
    Fault(
        "--crs against the declared CRS",
        "import-grids",
        "g.geojson",
        _geojson(_projected("P1", 4549), crs="EPSG:4549"),
        "declares EPSG:4549 but --crs says EPSG:4547",
        args=("--crs", "EPSG:4547"),
    ),
    Fault(
        "unknown --crs",
        "import-grids",
        "g.geojson",
        _geojson(_feature("A1", 120.6, 31.3)),
        "unknown --crs",
        ("--crs", "EPSG:1"),
    ),
    Fault(
        "self-intersecting, repair off",
        "import-grids",
        "g.geojson",
        _geojson(_feature("BAD1", 0, 0, ring=BOWTIE)),
        "feature BAD1: invalid polygon",
        env={"WANGXUN_GRIDS__REPAIR_INVALID_POLYGONS": "false"},
    ),
    Fault(
        "duplicate code",
        "import-grids",
        "g.geojson",
        _geojson(_feature("D1", 120.60, 31.30), _feature("D1", 120.61, 31.30)),
        "duplicate code",
    ),
    Fault(
        "unknown parent",
        "import-grids",
        "g.geojson",
        _geojson(_feature("C1", 120.6, 31.3, parent="NOPE")),
        "parent NOPE",
    ),
    Fault(
        "unknown level", "import-grids", "g.geojson", _geojson(_feature("L1", 120.6, 31.3, level="省")), "unknown level"
    ),
    Fault(
        "a point, not a polygon",
        "import-grids",
        "g.geojson",
        _geojson(_feature("PT1", 0, 0, geometry={"type": "Point", "coordinates": [120.6, 31.3]})),
        "not a polygon",
    ),
    Fault(
        "Shapefile without its .dbf",
        "import-grids",
        "g.shp",
        TRUNCATED_SHP,
        "g.dbf is not beside it",
        extra_files=SHP_PARTS,
    ),
    Fault(
        "truncated Shapefile",
        "import-grids",
        "g.shp",
        TRUNCATED_SHP,
        "the file is cut short",
        extra_files={**SHP_PARTS, "g.dbf": SHP_DBF},
    ),
]

GOOD = {
    "import-venues": ("good.csv", _u(VENUE_HEADER + GOOD_VENUE), "venues: 1 created"),
    "import-agencies": ("good.csv", _u(AGENCY_HEADER + "故障测试旅行社,L-JS-CJ90001,,\n"), "agencies: 1 created"),
    "import-inspections": ("good.csv", _u(INSPECTION_HEADER + _inspection()), "inspections: 1 created"),
    "import-grids": ("good.geojson", _geojson(_feature("FAULTOK1", 120.60, 31.30)), "grids: 1 created"),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A data dir whose database holds the sample district, made once; each case runs on a copy."""
    root = tmp_path_factory.mktemp("import-faults")
    cfg = make_config(root)
    db.upgrade(cfg)
    load_sample(cfg)
    db.dispose(cfg)  # the last connection closing checkpoints the WAL into the one file we copy
    return root / "var"


def _data_dir(template, tmp_path):
    var = tmp_path / "var"
    shutil.copytree(template, var)
    return var


def _digest(var) -> tuple[dict[str, int], str]:
    """Row counts of the importers' tables and a hash of every row in them."""
    cfg = make_config(var.parent)
    try:
        with db.get_engine(cfg).connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
            h = hashlib.sha256()
            for t in TABLES:
                for row in conn.execute(text(f"SELECT * FROM {t} ORDER BY id")):
                    h.update(repr(tuple(row)).encode())
        return counts, h.hexdigest()
    finally:
        db.dispose(cfg)


def _run(verb, path, var, args=(), env=None):
    environ = {
        "PATH": "/usr/bin:/bin",
        "WANGXUN_CORE__DATA_DIR": str(var),
        "WANGXUN_CORE__DATABASE_URL": f"sqlite:///{var / 'wangxun.db'}",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "core.cli", verb, *args, str(path)],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def _assert_next_import_succeeds(verb, var, tmp_path, before_counts):
    """The same command on the same database, run in this process (CliRunner) to keep the suite
    short: what a fault could leave behind for the next run lives in the database and the files."""
    name, content, summary = GOOD[verb]
    good = tmp_path / "next" / name
    good.parent.mkdir()
    good.write_bytes(content)
    url = f"sqlite:///{var / 'wangxun.db'}"
    try:
        result = CliRunner().invoke(
            cli, [verb, str(good)], env={"WANGXUN_CORE__DATA_DIR": str(var), "WANGXUN_CORE__DATABASE_URL": url}
        )
    finally:
        db.dispose(make_config(var.parent, **{"core.database_url": url}))
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.startswith(summary) and result.stderr == "", (result.stdout, result.stderr)
    table = verb.removeprefix("import-")
    counts, _ = _digest(var)
    assert counts == {**before_counts, table: before_counts[table] + 1}


def test_the_table_covers_every_importer():
    assert {f.verb for f in FAULTS} == set(GOOD)
    assert len({(f.verb, f.id) for f in FAULTS}) == len(FAULTS)


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f.verb.removeprefix('import-')}: {f.id}" for f in FAULTS])
def test_a_bad_file_is_one_line_and_writes_nothing(template, tmp_path, fault):
    var = _data_dir(template, tmp_path)
    before = _digest(var)
    path = tmp_path / fault.filename
    if fault.content is not None:
        path.write_bytes(fault.content)
    for name, content in fault.extra_files.items():
        (tmp_path / name).write_bytes(content)

    out = _run(fault.verb, path, var, fault.args, fault.env)

    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 1 and len(lines) == 1, out.stderr
    assert fault.filename in lines[0] and fault.expected in lines[0], lines[0]
    assert out.stdout == ""
    assert _digest(var) == before, "the database changed"
    _assert_next_import_succeeds(fault.verb, var, tmp_path, before[0])


def test_a_locked_database_is_one_line_and_the_next_run_succeeds(template, tmp_path):
    """Another writer holds SQLite's write lock past the busy timeout: the import waits that long, no
    longer, says so in one line and writes nothing; once the lock is gone the same import succeeds."""
    var = _data_dir(template, tmp_path)
    before = _digest(var)
    name, content, summary = GOOD["import-venues"]
    path = tmp_path / name
    path.write_bytes(content)
    cfg = make_config(var.parent)
    holder = db.raw_connection(cfg)
    try:
        holder.driver_connection.execute("BEGIN IMMEDIATE")
        out = _run("import-venues", path, var, env={"WANGXUN_CORE__SQLITE_BUSY_TIMEOUT_S": "1"})
    finally:
        holder.driver_connection.rollback()
        holder.close()
        db.dispose(cfg)
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr and out.returncode == 1 and len(lines) == 1, out.stderr
    assert name in lines[0] and "busy" in lines[0]
    assert _digest(var) == before
    out = _run("import-venues", path, var)
    assert out.returncode == 0 and out.stdout.startswith(summary), out.stderr
