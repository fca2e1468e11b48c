"""Refresh the README's screenshots: the map, the triage list, a hit page and the phone view.

    .venv/bin/python scripts/screenshots.py                      # prepares a demo world (about 5 min)
    .venv/bin/python scripts/screenshots.py --data-dir DIR       # reuses the world in DIR (made if empty)

It runs `wangxun demo --no-serve` into a temporary data directory (the sample district and a real,
polite crawl of the bundled sample site), serves the web app on 127.0.0.1 without base tiles (what an
intranet machine without a tile server shows: the offline base), and photographs the pages in the
system Chromium. Images go to docs/screenshots/. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(data_dir),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(data_dir.parent / "keys" / "evidence-anchor.key"),
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_SAMPLESITE__PORT": "0",
            "WANGXUN_WEBMAP__TILE_PROVIDER": "none",
        }
    )
    return env


def prepare(data_dir: Path) -> None:
    wangxun = Path(sys.executable).with_name("wangxun")
    print(f"preparing the demo world in {data_dir} (a polite first crawl: about five minutes) …", flush=True)
    subprocess.run([str(wangxun), "demo", "--no-serve"], env=_env(data_dir), cwd=ROOT, check=True)


def shoot(data_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from core import config, db
    from core.chromium import BROWSER_ARGS
    from core.models import Hit
    from webmap import create_app

    os.environ.update({k: v for k, v in _env(data_dir).items() if k.startswith("WANGXUN_")})
    cfg = config.load()
    db.upgrade(cfg)  # a world made by an older checkout
    password = cfg.demo.password
    with db.session_scope(cfg) as s:
        hit = s.scalar(select(Hit.id).where(Hit.grid_id.is_not(None)).order_by(Hit.score.desc()))
    srv = make_server("127.0.0.1", 0, create_app(config=cfg), threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    made = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=list(BROWSER_ARGS))

            def login(page, user: str) -> None:
                page.goto(f"{base}/login?next=/admin/jobs" if user == "admin" else f"{base}/login?next=/clues")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", password)
                with page.expect_navigation():
                    page.click("button[type=submit]")

            def ready_map(page) -> None:
                page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=60_000)
                page.wait_for_timeout(1500)  # clusters and labels settle after the data arrives

            desk = browser.new_page(viewport={"width": 1440, "height": 900})
            login(desk, "admin")
            desk.goto(f"{base}/")
            ready_map(desk)
            made.append(_save(desk, "map.png"))
            desk.goto(f"{base}/triage")
            made.append(_save(desk, "triage.png", full_page=True))
            if hit is not None:
                desk.goto(f"{base}/hits/{hit}")
                made.append(_save(desk, "hit.png", full_page=True))
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
            login(phone, "pingjiang")
            phone.goto(f"{base}/")
            ready_map(phone)
            made.append(_save(phone, "phone.png"))
            browser.close()
    finally:
        srv.shutdown()
    return made


def _save(page, name: str, full_page: bool = False) -> Path:
    path = OUT / name
    page.screenshot(path=str(path), full_page=full_page)
    print(f"  {path.relative_to(ROOT)}", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, help="a data directory `wangxun demo` already filled")
    args = ap.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="wangxun-shots-")) / "var"
    if not any(data_dir.glob("*.db")):  # an empty or new folder: make the demo world first
        prepare(data_dir)
    shoot(data_dir.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
