"""台账 benchmark: one page of the venue and inspection ledgers at 100,000 venues, against loading every
venue of the zone and paging in Python (what a ledger without SQL paging would do), in the same run.

    .venv/bin/python -m bench.ledger_bench [--venues 100000] [--runs 7]

The world is bench/map_world.py's synthetic city (1,000 grids in 10 streets, 20,000 venue inspections)
plus 2,000 named-party inspections (no venue, 0008). "gm" is a grid manager whose zone holds ~5,000
venues; "admin" sees the whole city. Times are medians of `runs` requests through the Flask test client
(the whole request: login check, zone, queries, template), so no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench.map_world import PASSWORD, build_world
from core import config, db
from core.models import Grid, Inspection
from core.users import zone_grid_ids

URLS = [
    "/ledgers/venues",
    "/ledgers/venues?q=场所4242",
    "/ledgers/venues?q=B0000424",
    "/ledgers/venues?grade=D&expiry=expiring&days=30&sort=expiry",
    "/ledgers/venues?category=网吧&sort=score&order=desc&page=20",
    "/ledgers/venues?sort=name&page=90",
    "/ledgers/venues?sort=name&page=2000",  # the last page of 100,000 (OFFSET 99,950); gm: clamped to its last
    "/ledgers/inspections",
    "/ledgers/inspections?result=责令整改&date_from=2026-01-01&sort=date",
    "/ledgers/inspections?subject=party&inspector=钱",
]


def _config(data_dir: Path):
    return config.load(
        overrides={"core.data_dir": str(data_dir), "core.database_url": "", "webmap.tile_provider": "none"}
    )


def _add_parties(cfg, n: int, seed: int = 11) -> None:
    rnd = random.Random(seed)
    with db.session_scope(cfg) as s:
        grids = list(s.scalars(select(Grid.id).where(Grid.level == "grid")))
        rows = [
            {
                "venue_id": None,
                "grid_id": rnd.choice(grids),
                "party_name": f"网店{i}",
                "party_account": f"闲鱼：shop{i}",
                "date": dt.date(2026, 11, 1) - dt.timedelta(days=rnd.randint(1, 700)),
                "inspectors": rnd.choice(["钱执法", "孙执法"]),
                "result": rnd.choice(["责令整改", "立案查处"]),
            }
            for i in range(n)
        ]
        s.execute(insert(Inspection), rows)


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def baseline_ms(cfg, username: str, runs: int) -> tuple[float, int]:
    """Every venue of the user's zone loaded as ledger rows, then one page taken in Python."""
    from core.models import User
    from webmap.services import ledgers

    today = dt.date(2026, 11, 1)
    rows_seen = 0

    def run():
        nonlocal rows_seen
        with db.session_scope(cfg) as s:
            user = s.scalars(select(User).where(User.username == username)).one()
            zone = zone_grid_ids(s, user)
            rows = ledgers.venue_records(s, zone, ledgers.VenueQuery(), today)
            rows_seen = len(rows)
            rows.sort(key=lambda r: (r["name"], r["id"]))
            return rows[:50]

    return _median_ms(run, runs), rows_seen


def page_ms(cfg, runs: int) -> dict[str, dict[str, float]]:
    from webmap import create_app

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, config=cfg)
    out: dict[str, dict[str, float]] = {}
    for user in ("gm", "admin"):
        client = app.test_client()
        client.post("/login", data={"username": user, "password": PASSWORD})
        for url in URLS:
            r = client.get(url)  # warm
            assert r.status_code == 200, (user, url, r.status_code)
            out.setdefault(url, {})[user] = _median_ms(lambda c=client, u=url: c.get(u), runs)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venues", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wangxun-ledger-bench-") as tmp:
        cfg = _config(Path(tmp))
        db.upgrade(cfg)
        t = time.perf_counter()
        world = build_world(cfg, venues=a.venues, hits=2_000)
        _add_parties(cfg, 2_000)
        print(
            f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
            "(other work on the machine slows every figure)"
        )
        print(
            f"world: {a.venues} venues, {len(world.grid_ids)} grids, 20,000 venue + 2,000 named-party inspections "
            f"(built in {time.perf_counter() - t:.1f} s); zone of 'gm' = {len(world.zone_codes)} grids"
        )
        base = {u: baseline_ms(cfg, u, max(3, a.runs // 2)) for u in ("gm", "admin")}
        for u, (ms, n) in base.items():
            print(f"baseline ({u}): load all {n:,d} venues of the zone and page in Python: {ms:8.1f} ms")
        pages = page_ms(cfg, a.runs)
        print("\none ledger page (50 rows, with total), median ms of the whole request, and baseline / page:")
        for url, r in pages.items():
            print(
                f"  {url:62s} gm {r['gm']:7.1f} ms ({base['gm'][0] / r['gm']:5.1f}x)   "
                f"admin {r['admin']:7.1f} ms ({base['admin'][0] / r['admin']:5.1f}x)"
            )
        worst = max(max(r.values()) for r in pages.values())
        print(f"slowest page: {worst:.1f} ms")
        db.dispose(cfg)


if __name__ == "__main__":
    main()
