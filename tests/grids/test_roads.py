"""Road lines for the offline base map (#15 item 11): `wangxun import-roads`, all or nothing."""

import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from core import db
from core.errors import ImportRejected, UserError
from core.models import Road
from grids import coords
from grids.importers.roads import import_roads
from tests.conftest import PROJECT_ROOT
from tests.helpers import make_grid


def _line(name, coordinates, kind="LineString"):
    return {"type": "Feature", "properties": {"name": name}, "geometry": {"type": kind, "coordinates": coordinates}}


def _file(tmp_path, features, crs=None, name="roads.geojson"):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _roads(session):
    return {r.name: json.loads(r.geometry) for r in session.scalars(select(Road))}


def test_lines_are_stored_with_names_and_a_new_import_replaces_them(session, tmp_path):
    first = _file(
        tmp_path,
        [
            _line("干将东路", [[120.600, 31.305], [120.640, 31.305]]),
            _line(
                "人民路",
                [[[120.611, 31.300], [120.611, 31.310]], [[120.611, 31.312], [120.611, 31.320]]],
                "MultiLineString",
            ),
            _line(None, [[120.62, 31.30], [120.63, 31.31]]),
        ],
    )
    summary = import_roads(session, first)
    assert summary.created == 3
    stored = _roads(session)
    assert stored["干将东路"] == {"type": "LineString", "coordinates": [[120.6, 31.305], [120.64, 31.305]]}
    assert stored["人民路"]["type"] == "MultiLineString" and None in stored

    again = import_roads(
        session, _file(tmp_path, [_line("十全街", [[120.62, 31.30], [120.63, 31.30]])], name="b.geojson")
    )
    assert again.created == 1 and "replaced the 3 road line(s)" in str(again)
    assert list(_roads(session)) == ["十全街"]


def test_dense_survey_lines_are_simplified_without_moving_the_road(session, tmp_path):
    # A straight road with a vertex every ~10 cm: stored with its two ends.
    dense = [[120.60 + i * 1e-6, 31.305] for i in range(10_001)]
    import_roads(session, _file(tmp_path, [_line("密集路", dense)]))
    coordinates = _roads(session)["密集路"]["coordinates"]
    assert coordinates == [[120.60, 31.305], [pytest.approx(120.61), 31.305]]


def test_gcj02_files_are_converted_to_wgs84(session, tmp_path):
    lon, lat = 120.62, 31.31
    gcj = coords.wgs84_to_gcj02(lon, lat)
    import_roads(session, _file(tmp_path, [_line("高德路", [list(gcj), [gcj[0] + 0.01, gcj[1]]])]), crs="gcj02")
    start = _roads(session)["高德路"]["coordinates"][0]
    assert start == [pytest.approx(lon, abs=1e-5), pytest.approx(lat, abs=1e-5)]


def test_a_bad_feature_rejects_the_whole_file_and_keeps_the_old_roads(cfg, tmp_path):
    with db.session_scope(cfg) as s:
        import_roads(s, _file(tmp_path, [_line("旧路", [[120.60, 31.30], [120.61, 31.30]])], name="old.geojson"))
    ring = [[120.6, 31.3], [120.61, 31.3], [120.61, 31.31], [120.6, 31.3]]
    bad = _file(
        tmp_path,
        [
            _line("好路", [[120.60, 31.30], [120.61, 31.30]]),
            {"type": "Feature", "properties": {"name": "广场"}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
            _line("颠倒路", [[31.30, 120.60], [31.31, 120.61]]),
            _line("国外路", [[2.35, 48.85], [2.36, 48.86]]),
            _line("投影路", [[500000.0, 3460000.0], [500100.0, 3460000.0]]),
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        with db.session_scope(cfg) as s:
            import_roads(s, bad)
    problems = caught.value.problems
    assert len(problems) == 4
    assert "feature #2 (广场): geometry is a Polygon, not a line" in problems[0]
    assert "swapped" in problems[1] and "outside China" in problems[2] and "not longitude/latitude" in problems[3]
    with db.session_scope(cfg) as s:
        assert list(_roads(s)) == ["旧路"]


def test_roads_far_from_the_district_are_refused(session, tmp_path):
    make_grid(session, bounds=(120.60, 31.30, 120.61, 31.31))
    far = _file(tmp_path, [_line("北京路", [[116.40, 39.90], [116.41, 39.90]])])
    with pytest.raises(ImportRejected, match="北京路.*km from the district's grids"):
        import_roads(session, far, max_distance_km=50)
    assert session.scalar(select(func.count()).select_from(Road)) == 0


def test_a_missing_or_empty_file_is_one_clear_error(session, tmp_path):
    with pytest.raises(UserError, match="file not found"):
        import_roads(session, tmp_path / "nope.geojson")
    with pytest.raises(UserError, match="no features"):
        import_roads(session, _file(tmp_path, []))


@pytest.mark.sqlite_only("a CLI check of the one-line error; the importer's engine behaviour is tested above")
def test_cli_imports_and_prints_one_line_on_a_bad_file(cfg, tmp_path):
    env = {"WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "core.cli", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert run("init").returncode == 0
    good = run("import-roads", str(_file(tmp_path, [_line("干将东路", [[120.60, 31.305], [120.64, 31.305]])])))
    assert good.returncode == 0 and good.stdout.strip() == "roads: 1 created, 0 updated"
    bad = run(
        "import-roads",
        str(_file(tmp_path, [_line("x", [[500000.0, 3460000.0], [500100.0, 3460000.0]])], name="b.json")),
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "nothing was written" in bad.stderr
