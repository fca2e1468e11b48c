"""A synthetic city for the map benchmarks and browser checks: streets of rectangular grids over
姑苏区's extent, venues and hits spread uniformly, users of every role. Deterministic for a seed.

Not a benchmark itself; bench/map_*.py import build_world().
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

from sqlalchemy import insert

from core import db, users
from core.models import Grid, Hit, Inspection, Venue
from core.vocabulary import VENUE_CATEGORIES
from grids import tree

WEST, SOUTH, EAST, NORTH = 120.55, 31.25, 120.70, 31.37
GRADE_WEIGHTS = {"A": 40, "B": 30, "C": 20, "D": 10}
PASSWORD = "bench-password"


@dataclass
class World:
    grid_ids: list[int]
    zone_codes: list[str]  # the grid manager "gm"'s grids
    other_codes: list[str]  # "gm2"'s grids (another street)
    venues: int
    hits: int


def _rect(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _grid_row(code, name, level, parent_id, w, s, e, n):
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_id": parent_id,
        "geometry": json.dumps(_rect(w, s, e, n)),
        "min_lon": w,
        "min_lat": s,
        "max_lon": e,
        "max_lat": n,
        "centroid_lon": (w + e) / 2,
        "centroid_lat": (s + n) / 2,
        "manager_name": "网格员",
    }


def _add_grids(session, streets: int, side: int) -> tuple[list[int], list[tuple]]:
    """streets columns of side×side grids; returns leaf ids and their (w, s, e, n) in id order."""
    width = (EAST - WEST) / streets
    leaf_ids, boxes = [], []
    for i in range(streets):
        sw, se = WEST + i * width, WEST + (i + 1) * width
        street = Grid(**_grid_row(f"9{i:03d}", f"第{i + 1}街道", "street", None, sw, SOUTH, se, NORTH))
        session.add(street)
        session.flush()
        rows = []
        for r in range(side):
            for c in range(side):
                w = sw + c * width / side
                s = SOUTH + r * (NORTH - SOUTH) / side
                box = (w, s, w + width / side, s + (NORTH - SOUTH) / side)
                rows.append(
                    _grid_row(
                        f"9{i:03d}{r:03d}{c:03d}", f"第{i + 1}街道{r * side + c + 1}网格", "grid", street.id, *box
                    )
                )
                boxes.append(box)
        result = session.execute(insert(Grid).returning(Grid.id, sort_by_parameter_order=True), rows)
        leaf_ids += [row[0] for row in result]
    return leaf_ids, boxes


def _locate(lon, lat, streets, side):
    col = min(int((lon - WEST) / (EAST - WEST) * streets * side), streets * side - 1)
    row = min(int((lat - SOUTH) / (NORTH - SOUTH) * side), side - 1)
    street, c = divmod(col, side)
    return street * side * side + row * side + c


def build_world(
    cfg,
    venues: int = 100_000,
    hits: int = 2_000,
    streets: int = 10,
    side: int = 10,
    zone_grids: int = 50,
    seed: int = 7,
) -> World:
    """Fill an empty, migrated database. The grid manager "gm" gets the first `zone_grids` grids."""
    rnd = random.Random(seed)
    grades, weights = zip(*GRADE_WEIGHTS.items(), strict=True)
    today = dt.date(2026, 11, 1)
    with db.session_scope(cfg) as s:
        leaf_ids, _ = _add_grids(s, streets, side)
        vrows, hrows = [], []
        for i in range(venues):
            lon, lat = rnd.uniform(WEST, EAST), rnd.uniform(SOUTH, NORTH)
            vrows.append(
                {
                    "name": f"场所{i + 1}",
                    "category": rnd.choice(VENUE_CATEGORIES),
                    "licence_no": f"B{i:08d}",
                    "licence_expiry": today + dt.timedelta(days=rnd.randint(-60, 900)),
                    "address": f"测试路{i + 1}号",
                    "lon": lon,
                    "lat": lat,
                    "grid_id": leaf_ids[_locate(lon, lat, streets, side)],
                    "status": "营业",
                    "risk_grade": rnd.choices(grades, weights)[0],
                    "risk_score": round(rnd.uniform(0, 100), 1),
                }
            )
        s.execute(insert(Venue), vrows)
        for i in range(hits):
            lon, lat = rnd.uniform(WEST, EAST), rnd.uniform(SOUTH, NORTH)
            label = rnd.choice(["unlicensed_travel", "illegal_publication"])
            hrows.append(
                {
                    "url": f"https://mp.weixin.qq.com/s/bench{i}",
                    "source": "bench",
                    "platform": "wechat",
                    "title": f"线索{i + 1}",
                    "labels": [label],
                    "scores": {label: 0.8},
                    "score": round(rnd.uniform(0.5, 1), 3),
                    "reasons": [],
                    "lon": lon,
                    "lat": lat,
                    "grid_id": leaf_ids[_locate(lon, lat, streets, side)],
                    "status": "new",
                    "location_name": "姑苏区",
                    "detected_at": dt.datetime(2026, 10, 1) + dt.timedelta(minutes=rnd.randint(0, 40000)),
                }
            )
        if hrows:
            s.execute(insert(Hit), hrows)
        s.execute(
            insert(Inspection),
            [
                {
                    "venue_id": vid,
                    "date": today - dt.timedelta(days=rnd.randint(1, 700)),
                    "inspectors": "王执法、李执法",
                    "result": rnd.choice(["未发现问题", "责令整改"]),
                }
                for vid in range(1, min(venues, 20_000) + 1)
            ],
        )
        codes = [
            c
            for c in s.scalars(
                Grid.__table__.select().with_only_columns(Grid.code).where(Grid.level == "grid").order_by(Grid.id)
            )
        ]
        zone, other = codes[:zone_grids], codes[side * side : side * side + zone_grids]
        users.create_user(s, "admin", PASSWORD, "admin", "管理员")
        users.create_user(s, "patrol", PASSWORD, "patrol", "巡查员")
        users.create_user(s, "gm", PASSWORD, "grid_manager", "网格员甲", tree.leaves_for_codes(s, zone))
        if other:
            users.create_user(s, "gm2", PASSWORD, "grid_manager", "网格员乙", tree.leaves_for_codes(s, other))
    return World(leaf_ids, zone, other, venues, hits)
