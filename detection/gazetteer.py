"""Where a post is about: place names in its text matched against a gazetteer of the district.

The gazetteer is whatever the database holds (grids, streets, district, venues and agencies with their
addresses and the roads named in them) plus a list of cities (data/cities.csv) for posts about places
outside the district. The finest place mentioned wins: venue, then grid, street, district, city.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

from detection.normalize import fold

CITIES = Path(__file__).resolve().parent / "data" / "cities.csv"
LEVELS = ("venue", "grid", "street", "district", "city")
_RANK = {level: i for i, level in enumerate(LEVELS)}
# A road, lane or bridge named in an address: 人民路, 平江路, 十全街, 山塘街, 吴门桥.
_ROAD = re.compile(
    r"([\u4e00-\u9fff]{2,6}?(?:大道|路|街|巷|弄|桥|坊|浜))(?:[0-9一二三四五六七八九十]|$|[^\u4e00-\u9fff])"
)
_ADMIN_UNIT = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:省|市|区|县)")
_ADMIN_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|市|区|县))+")
_GRID_NUMBER = re.compile(r"第?[0-9一二三四五六七八九十百]+号?网格$")
_GENERIC_SUFFIXES = ("街道办事处", "街道", "社区", "网格", "片区", "区", "镇")
_MIN_ALIAS = 2


@dataclass(frozen=True)
class Place:
    name: str
    level: str
    lon: float | None
    lat: float | None
    grid_code: str | None = None
    grid_id: int | None = None
    aliases: tuple[str, ...] = ()


@dataclass
class Gazetteer:
    places: list[Place] = field(default_factory=list)

    def __post_init__(self):
        self._automaton = ahocorasick.Automaton()
        keys: dict[str, list[int]] = {}
        self._all = self.places + _load_cities()
        for index, place in enumerate(self._all):
            for alias in {place.name, *place.aliases}:
                key = fold(alias)
                if len(key) >= _MIN_ALIAS:
                    keys.setdefault(key, []).append(index)
        for key, indexes in keys.items():
            self._automaton.add_word(key, (key, indexes))
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys

    def locate(self, texts: list[str]) -> dict:
        """The location record for a post, given its texts in order of preference."""
        best: tuple | None = None
        matched: list[str] = []
        for priority, text in enumerate(texts):
            for key, place, start, original in self._find(text):
                if original not in matched:
                    matched.append(original)
                rank = (_RANK[place.level], priority, -len(key), start)
                if best is None or rank < best[0]:
                    best = (rank, place)
        if best is None:
            return empty_location()
        place = best[1]
        matched = [w for w in matched if not any(w != other and w in other for other in matched)]
        return {
            "name": place.name,
            "lon": place.lon,
            "lat": place.lat,
            "grid_code": place.grid_code,
            "grid_id": place.grid_id,
            "level": place.level,
            "matched": matched,
        }

    def _find(self, text: str):
        if self._empty or not text:
            return
        folded = fold(text)
        for end, (key, indexes) in self._automaton.iter(folded):
            start = end + 1 - len(key)
            for index in indexes:
                yield key, self._all[index], start, text[start : end + 1]


def empty_location() -> dict:
    return {"name": None, "lon": None, "lat": None, "grid_code": None, "grid_id": None, "level": None, "matched": []}


def places_from_records(grids: list[dict], venues: list[dict], agencies: list[dict]) -> list[Place]:
    """Gazetteer places from plain records (what the database rows hold)."""
    by_id = {g.get("id"): g for g in grids}
    places = [_grid_place(g) for g in grids if g.get("name")]
    located = [r for r in venues + agencies if r.get("name") and r.get("lon") is not None]
    for record in located:
        grid = by_id.get(record.get("grid_id"))
        places.append(
            Place(
                record["name"],
                "venue",
                float(record["lon"]),
                float(record["lat"]),
                grid.get("code") if grid else None,
                record.get("grid_id"),
                _venue_aliases(record),
            )
        )
    places.extend(_road_places(located, by_id))
    places.extend(_community_places(grids, by_id))
    return places


def place_from_dict(record: dict) -> Place:
    """A Place from a caller's dict (name, level, lon, lat, grid_code, grid_id, aliases)."""
    level = record.get("level") or "venue"
    if level not in _RANK:
        level = "venue"
    return Place(
        str(record["name"]),
        level,
        _float(record.get("lon")),
        _float(record.get("lat")),
        record.get("grid_code"),
        record.get("grid_id"),
        tuple(record.get("aliases") or ()),
    )


def _grid_place(grid: dict) -> Place:
    name = grid["name"]
    aliases = []
    for suffix in _GENERIC_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= _MIN_ALIAS:
            aliases.append(name[: -len(suffix)])
            break
    units = _ADMIN_UNIT.findall(name)
    if len(units) > 1:
        aliases.append(units[-1])  # 苏州市姑苏区 -> 姑苏区
    return Place(
        name,
        grid.get("level") or "grid",
        _float(grid.get("centroid_lon")),
        _float(grid.get("centroid_lat")),
        grid.get("code"),
        grid.get("id"),
        tuple(aliases),
    )


def _community_places(grids: list[dict], grids_by_id: dict) -> list[Place]:
    """平江路社区 from grids named 平江路社区第1网格, 平江路社区第2网格 …: at the grid when the community
    has one grid, at its street when it has several."""
    members: dict[str, list[dict]] = {}
    for grid in grids:
        community = _GRID_NUMBER.sub("", grid.get("name") or "")
        if grid.get("level") == "grid" and community != grid.get("name") and len(community) >= _MIN_ALIAS:
            members.setdefault(community, []).append(grid)
    places = []
    for community, group in members.items():
        target = group[0] if len(group) == 1 else grids_by_id.get(group[0].get("parent_id"))
        if target is None or any(g.get("parent_id") != group[0].get("parent_id") for g in group):
            continue
        level = "grid" if len(group) == 1 else "street"
        aliases = (community[:-2],) if community.endswith("社区") and len(community) >= 4 else ()
        places.append(
            Place(
                community,
                level,
                _float(target.get("centroid_lon")),
                _float(target.get("centroid_lat")),
                target.get("code"),
                target.get("id"),
                aliases,
            )
        )
    return places


def _venue_aliases(record: dict) -> tuple[str, ...]:
    address = (record.get("address") or "").strip()
    short = _ADMIN_PREFIX.sub("", address)
    return tuple(a for a in {address, short} if len(a) >= 6)  # full street addresses only


def _road_places(records: list[dict], grids_by_id: dict) -> list[Place]:
    """One place per road named in addresses: at the grid if all its venues share one grid, at the
    street if they share a street, otherwise not at all (too vague to be useful)."""
    roads: dict[str, list[dict]] = {}
    for record in records:
        for m in _ROAD.finditer(_ADMIN_PREFIX.sub("", record.get("address") or "")):
            roads.setdefault(m.group(1), []).append(record)
    places = []
    for road, members in roads.items():
        grid_ids = Counter(r.get("grid_id") for r in members if r.get("grid_id") is not None)
        if len(grid_ids) == 1:
            grid = grids_by_id.get(next(iter(grid_ids)))
            if grid:
                places.append(
                    Place(
                        road,
                        "grid",
                        _float(grid.get("centroid_lon")),
                        _float(grid.get("centroid_lat")),
                        grid.get("code"),
                        grid.get("id"),
                    )
                )
        elif grid_ids:
            parents = {grids_by_id.get(g, {}).get("parent_id") for g in grid_ids}
            parent = grids_by_id.get(next(iter(parents))) if len(parents) == 1 else None
            if parent:
                places.append(
                    Place(
                        road,
                        "street",
                        _float(parent.get("centroid_lon")),
                        _float(parent.get("centroid_lat")),
                        parent.get("code"),
                        parent.get("id"),
                    )
                )
    return places


@functools.cache
def _load_cities() -> list[Place]:
    with CITIES.open(encoding="utf-8") as f:
        return [Place(r["name"], "city", float(r["lon"]), float(r["lat"])) for r in csv.DictReader(f)]


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
