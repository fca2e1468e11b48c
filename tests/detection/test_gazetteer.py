"""Locations from the database gazetteer: venue, grid, street, district, then city."""

from detection import Detector
from detection.gazetteer import Gazetteer, places_from_records
from tests.helpers import make_agency, make_grid, make_venue

GRIDS = [
    {
        "id": 1,
        "code": "320508",
        "name": "苏州市姑苏区",
        "level": "district",
        "parent_id": None,
        "centroid_lon": 120.61,
        "centroid_lat": 31.31,
    },
    {
        "id": 2,
        "code": "320508001",
        "name": "平江街道",
        "level": "street",
        "parent_id": 1,
        "centroid_lon": 120.63,
        "centroid_lat": 31.32,
    },
    {
        "id": 3,
        "code": "320508001001",
        "name": "平江街道第一网格",
        "level": "grid",
        "parent_id": 2,
        "centroid_lon": 120.631,
        "centroid_lat": 31.321,
    },
]
VENUES = [{"name": "平江书局", "address": "苏州市姑苏区平江路88号", "lon": 120.632, "lat": 31.322, "grid_id": 3}]


def _gazetteer():
    return Gazetteer(places_from_records(GRIDS, VENUES, []))


def test_finest_place_wins():
    loc = _gazetteer().locate(["姑苏区平江街道平江书局门口集合"])
    assert loc["level"] == "venue" and loc["name"] == "平江书局" and loc["grid_code"] == "320508001001"
    assert set(loc["matched"]) >= {"平江书局", "平江街道"}


def test_road_from_venue_addresses_locates_to_its_grid():
    loc = _gazetteer().locate(["周末平江路夜游"])
    assert loc["level"] == "grid" and loc["grid_id"] == 3


def test_street_short_name_and_district():
    assert _gazetteer().locate(["平江一带"])["level"] == "street"
    assert _gazetteer().locate(["姑苏区全域"])["level"] == "district"


def test_city_when_nothing_finer():
    loc = _gazetteer().locate(["杭州西湖一日游"])
    assert loc["level"] == "city" and loc["name"] == "杭州" and loc["lon"] and loc["grid_id"] is None


def test_nothing_found_is_all_none():
    loc = Gazetteer([]).locate(["", "没有地名的文字😀"])
    assert loc == {
        "name": None,
        "lon": None,
        "lat": None,
        "grid_code": None,
        "grid_id": None,
        "level": None,
        "matched": [],
    }


def test_detector_from_config_builds_gazetteer_from_database(cfg, session):
    street = make_grid(session, code="320508002", name="沧浪街道", level="street")
    grid = make_grid(session, code="320508002003", name="沧浪街道第三网格", parent=street)
    make_venue(session, grid=grid, name="沧浪亭书店", category="书店与出版物零售", address="姑苏区人民路3号")
    make_agency(
        session, name="苏州沧浪国际旅行社有限公司", licence_no="L-JS-CJ00777", lon=120.6, lat=31.3, grid_id=grid.id
    )
    session.commit()
    detector = Detector.from_config(cfg)
    loc = detector.classify({"title": "出售盗版书", "text": "沧浪亭书店门口自提，29元包邮"})["location"]
    assert loc["name"] == "沧浪亭书店" and loc["grid_id"] == grid.id and loc["grid_code"] == "320508002003"
    assert len(detector.registry) == 1
