"""研判台 benchmark: the first screen and each filter change at 10,000 open hits, against loading every
open hit and filtering, sorting and paging in Python (what a list without SQL paging would do), in the
same run.

    .venv/bin/python -m bench.triage_bench [--hits 10000] [--runs 7]

The world is bench/map_world.py's synthetic city with `hits` open hits, spread over two labels, three
platforms and six sources, with text and reasons like the detector's. Times are medians of `runs`
whole requests through the Flask test client as a patrol officer (login check, counts for every
filter, one page, the template), so no network. The target is under 300 ms for each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, update

from bench.map_world import PASSWORD, build_world
from core import config, db
from core.models import Hit
from hits import neardup

URLS = [
    "/triage",
    "/triage?label=illegal_publication",
    "/triage?platform=shop",
    "/triage?source=src3&sort=date",
    "/triage?grid=none",
    "/triage?sort=date&order=asc&page=150",
    "/triage?label=unlicensed_travel&platform=wechat&per_page=100&page=20",
    "/triage?group=0",
    "/triage?group=0&sort=date&order=asc&page=150",
]
PLATFORMS = ("wechat", "shop", "web")
PLACES = "狮子林 拙政园 平江路 山塘街 虎丘 寒山寺 周庄 同里 甪直 太湖 灵岩山 木渎 西园 留园 网师园 沧浪亭".split()
PHRASES = (
    "纯玩不进店",
    "含车费门票导游",
    "报名加微信",
    "小包团六人封顶",
    "一价全包",
    "可开发票",
    "酒店接送",
    "中午含农家菜",
    "节假日不加价",
    "学生半价",
    "老人优惠",
    "提前一天预约",
    "当天成团",
    "专车专导",
    "赠送饮用水",
    "下雨不退款",
    "退改免费",
    "含游船",
    "夜游加购",
    "摄影跟拍",
    "团队定制",
    "亲子路线",
    "公司团建",
    "会议接待",
    "高铁站接站",
    "机场接送",
    "两日游",
    "三日游",
    "住宿可代订",
    "门票代购",
)


def _listing(rnd: random.Random) -> str:
    """One seller's ad: its own places, phrases and numbers."""
    places = "、".join(rnd.sample(PLACES, 4))
    phrases = "，".join(rnd.sample(PHRASES, 9))
    return f"苏州{places}一日游，{phrases}，{rnd.randint(99, 999)}元一位，电话{rnd.randint(10**10, 10**11)}。" * 2


def _texts(n: int, rnd: random.Random) -> list[str]:
    """`n` hit texts: listings reposted 1–8 times with small edits (number, a line added)."""
    out: list[str] = []
    while len(out) < n:
        ad = _listing(rnd)
        for _ in range(rnd.randint(1, 8)):
            out.append(ad + ("另有夜游。" if rnd.random() < 0.3 else ""))
    return out[:n]


def _world(cfg, hits: int, seed: int = 5) -> None:
    build_world(cfg, venues=2_000, hits=hits, streets=4, side=10, zone_grids=20)
    rnd = random.Random(seed)
    with db.session_scope(cfg) as s:
        ids = list(s.scalars(select(Hit.id)))
        texts = _texts(len(ids), rnd)
        for start in range(0, len(ids), 1000):
            for hit_id, text in zip(ids[start : start + 1000], texts[start : start + 1000], strict=True):
                s.execute(
                    update(Hit)
                    .where(Hit.id == hit_id)
                    .values(
                        platform=rnd.choice(PLATFORMS),
                        source=f"src{rnd.randint(0, 5)}",
                        text=text,
                        simhash=neardup.simhash(None, text),
                        grid_id=None if rnd.random() < 0.03 else Hit.grid_id,
                        reasons=[
                            {"label": "unlicensed_travel", "code": "tour", "text": "招揽组团旅游", "field": "text"}
                        ],
                    )
                )


def _baseline(cfg) -> float:
    """Every open hit as ORM rows, then filter, sort and page in Python (the first screen)."""
    t0 = time.perf_counter()
    with db.session_scope(cfg) as s:
        rows = list(s.scalars(select(Hit).where(Hit.status == "new")))
        rows.sort(key=lambda h: (h.score, h.id), reverse=True)
        page = [(h.id, h.title, (h.text or "")[:300], list(h.reasons or [])) for h in rows[:50]]
        labels = {}
        for h in rows:
            for label in h.labels or []:
                labels[label] = labels.get(label, 0) + 1
    assert page
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hits", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--full", action="store_true", help="(the default size is the target size)")
    args = ap.parse_args(argv)
    runs = max(1, min(args.runs, 50))
    work = Path(tempfile.mkdtemp(prefix="wangxun-triage-"))
    cfg = config.load(
        overrides={"core.data_dir": str(work / "var"), "core.database_url": "", "webmap.tile_provider": "none"},
        environ={},
    )
    db.upgrade(cfg)
    print(f"building {args.hits:,} open hits …", flush=True)
    _world(cfg, args.hits)

    from webmap import create_app

    client = create_app({"TESTING": True}, config=cfg).test_client()
    page = client.get("/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": "patrol", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, "login failed"
    base = statistics.median(_baseline(cfg) for _ in range(runs))
    print(f"baseline (every open hit loaded and paged in Python): {base * 1000:.0f} ms")
    print(f"{'request':<72} {'median ms':>9} {'ratio':>6}")
    worst = 0.0
    for url in URLS:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, (url, resp.status_code)
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"{url:<72} {med * 1000:>9.1f} {base / med:>5.1f}×")
    print(f"slowest: {worst * 1000:.0f} ms (target < 300 ms)")
    db.dispose(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
