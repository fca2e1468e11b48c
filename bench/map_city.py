"""Map benchmarks: the city view with 100,000 venues in headless Chromium, and the zone view's server
response with 5,000 venues.

    .venv/bin/python -m bench.map_city [--venues 100000] [--runs 3]

City view: time to interactive = from navigation to the moment every layer (grids, venues, hits) is
drawn and clustered (window.wangxunState.readyAt, measured in the browser). Two modes, same data,
same run:
  baseline   every venue shipped to the browser and clustered there (leaflet.markercluster,
             FastMarkerCluster-style): webmap.cluster_above set above the venue count
  default    server-side per-category clusters from per-grid counts while the view holds more than
             webmap.cluster_above venues; markers once zoomed in
Zone view: a grid manager whose zone holds ~5,000 venues; median server time of the map page and of
each API call the page makes (Flask test client, so no network), against the same calls by an admin
over the whole city.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.map_world import PASSWORD, build_world
from core import config, db
from core.chromium import BROWSER_ARGS

CHROMIUM = "/usr/bin/chromium"


def _config(data_dir: Path, **overrides):
    return config.load(
        overrides={"core.data_dir": str(data_dir), "core.database_url": "", "webmap.tile_provider": "none", **overrides}
    )


def _serve(app):
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def city_tti(cfg, runs: int, cluster_above: int) -> list[dict]:
    """Time to interactive of the admin's city view, one fresh browser page per run."""
    from playwright.sync_api import sync_playwright

    from webmap import create_app

    app = create_app({"webmap.cluster_above": cluster_above}, config=cfg)
    srv = _serve(app)
    base = f"http://127.0.0.1:{srv.server_port}"
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
            for _ in range(runs):
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                page = ctx.new_page()
                page.goto(f"{base}/login?next=/admin/")  # log in to a light page, then time the map
                page.fill("input[name=username]", "admin")
                page.fill("input[name=password]", PASSWORD)
                with page.expect_navigation():
                    page.click("button[type=submit]")
                page.goto(f"{base}/")  # timed from here: a warm login, a cold map page
                page.wait_for_function("window.wangxunState && window.wangxunState.ready", timeout=120_000)
                out.append(page.evaluate("window.wangxunState"))
                ctx.close()
            browser.close()
    finally:
        srv.shutdown()
    return out


def zone_server_times(cfg, runs: int) -> dict[str, dict[str, float]]:
    """Median server milliseconds per URL for the grid manager (zone) and the admin (city)."""
    from webmap import create_app

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, config=cfg)
    urls = [
        "/",
        "/api/grids",
        "/api/venues?bbox=120.50,31.20,120.75,31.42&zoom=13",
        "/api/venues?bbox=120.50,31.20,120.75,31.42&zoom=18",
        "/api/hits?bbox=120.50,31.20,120.75,31.42",
    ]
    result: dict[str, dict[str, float]] = {}
    for user in ("gm", "admin"):
        client = app.test_client()
        client.post("/login", data={"username": user, "password": PASSWORD})
        for url in urls:
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                r = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (user, url, r.status_code)
            result.setdefault(url, {})[user] = statistics.median(times)
            result[url][user + "_bytes"] = len(r.data)
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venues", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-browser", action="store_true")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wangxun-bench-") as tmp:
        cfg = _config(Path(tmp))
        db.upgrade(cfg)
        t = time.perf_counter()
        world = build_world(cfg, venues=a.venues, hits=2_000)
        print(
            f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
            "(other work on the machine slows every figure)"
        )
        print(
            f"world: {a.venues} venues, {world.hits} hits, {len(world.grid_ids)} grids "
            f"(built in {time.perf_counter() - t:.1f} s); zone of 'gm' = {len(world.zone_codes)} grids"
        )
        zone = zone_server_times(cfg, runs=max(5, a.runs))
        print("\nzone view (grid manager, ~5,000 venues) vs city (admin): median server ms, response bytes")
        for url, r in zone.items():
            print(
                f"  {url:58s} zone {r['gm']:7.1f} ms {r['gm_bytes']:>9,d} B   city {r['admin']:7.1f} ms "
                f"{r['admin_bytes']:>9,d} B   city/zone {r['admin'] / r['gm']:.1f}x"
            )
        page_total = sum(zone[u]["gm"] for u in zone if "zoom=18" not in u)
        print(f"  zone view total (page + grids + venues + hits): {page_total:.0f} ms (target < 300 ms per response)")
        if not a.skip_browser:
            _browser(cfg, a)
        db.dispose(cfg)


def _browser(cfg, a) -> None:
    print("\ncity view, headless Chromium, time to interactive (ms since navigation):")
    rows = {}
    for label, above in (
        ("baseline: all venues clustered in the browser", a.venues * 2),
        ("default: server-side clusters", int(cfg.webmap.cluster_above)),
    ):
        states = city_tti(cfg, a.runs, above)
        tti = [s["readyAt"] for s in states]
        rows[label] = statistics.median(tti)
        print(f"  {label:48s} median {rows[label]:7.0f} ms  runs {tti}  venues shown as {states[-1].get('venueMode')}")
    base, new = rows.values()
    print(f"  speed-up: {base / new:.1f}x; target < 3000 ms: {'met' if new < 3000 else 'NOT met'}")


if __name__ == "__main__":
    main()
