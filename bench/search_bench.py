"""Search benchmark: bulk indexing rate and query latency of the embedded backend (SQLite FTS5) and
the postgres backend (PostgreSQL full-text search, on a throwaway server this benchmark starts on a
Unix socket, tests/pg.py) side by side in one run, over the same generated Chinese hits (and
Elasticsearch when --es-url is given).

    .venv/bin/python -m bench.search_bench            # 100,000 hits (a few minutes)
    .venv/bin/python -m bench.search_bench --full     # 1,000,000 hits (the target size)
    .venv/bin/python -m bench.search_bench --backends embedded     # one backend only
    .venv/bin/python -m bench.search_bench --pg-url postgresql+psycopg://…   # an existing server
    .venv/bin/python -m bench.search_bench --es-url http://127.0.0.1:9200

Figures: indexing hits/s (reindex from the database, and the outbox drain path), analysis alone
(the baseline: what indexing would cost with a free index), and p50/p95 of keyword + one filter +
highlight queries, without and with facets. Targets: ≥ 5,000 hits/s, p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from core import config, db
from core.models import Grid

KEYWORDS = [
    "盗版",
    "代购",
    "跟团",
    "港澳",
    "签证",
    "包机",
    "书籍",
    "正版",
    "教材",
    "低价",
    "旅游",
    "地接",
    "纯玩",
    "自由行",
    "团费",
    "影印",
    "原版",
    "出境",
    "招募",
    "导游",
]
FILLER = (
    "我们专业提供各类服务欢迎咨询价格优惠质量保证全国包邮当天发货线路行程安排酒店门票景区用车"
    "客服微信电话联系方式售后保障诚信经营老客户推荐新品上市限时活动更多详情请私信了解的是在和"
)
PLATFORMS = ["wechat", "shop", "note", "forum", "web"]
LABELS = [["unlicensed_travel"], ["illegal_publication"], ["unlicensed_travel", "illegal_publication"]]
FILTERS = ["platform:shop", "label:unlicensed_travel", "status:new", "score:>=0.6", "platform:wechat"]


# Keyword frequencies follow Zipf's law: the commonest keyword ends up in about a third of the hits,
# the rarest in about 2% (an earlier generator put the commonest in 99.98% of hits, a stop word).
ZIPF = [1 / (i + 1) for i in range(len(KEYWORDS))]


def _reason(code: str, text: str, field: str = "text") -> dict:
    label = (
        "illegal_publication" if code in ("piracy_terms", "on_sale", "no_isbn", "reprint_hint") else "unlicensed_travel"
    )
    return {"label": label, "code": code, "text": text, "spans": [[3, 7]], "field": field}


# What the detectors record (search indexes their codes and names): one reason per field it was found in.
REASONS = [
    [
        _reason("piracy_terms", "盗版/高仿/翻印或自述未经授权复制：「高仿」", "title"),
        _reason("piracy_terms", "盗版/高仿/翻印或自述未经授权复制：「高仿」"),
        _reason("on_sale", "售卖或提供：「38元包邮」"),
        _reason("act_offer", "发帖人在招揽或售卖：商品信息，未见提醒、游记或投诉语境"),
    ],
    [
        _reason("tour_product", "招揽组团旅游：「港澳五日游」"),
        _reason("solicitation", "招揽报名或联系方式：「微信咨询」"),
        _reason("no_licence", "未展示旅行社业务经营许可证，「姑苏小游」不在旅行社名录中"),
        _reason("act_offer", "发帖人在招揽或售卖：报名、定金"),
    ],
    [_reason("no_isbn", "无书号刊号或内部资料：「内部资料」"), _reason("on_sale", "售卖或提供：「标价20元」")],
]


def sentence(rng: random.Random, n: int) -> str:
    parts = []
    while sum(map(len, parts)) < n:
        if rng.random() < 0.03:
            parts.append(rng.choices(KEYWORDS, weights=ZIPF)[0])
        else:
            i = rng.randrange(len(FILLER) - 4)
            parts.append(FILLER[i : i + rng.randint(2, 4)])
        if rng.random() < 0.08:
            parts.append(rng.choice("，。！ "))
    return "".join(parts)


def generate(cfg, n: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    with db.session_scope(cfg) as s:
        grid_ids = []
        for i in range(20):
            g = Grid(
                code=f"B{i:04d}",
                name=f"基准网格{i}",
                level="grid",
                geometry="{}",
                min_lon=0,
                min_lat=0,
                max_lon=1,
                max_lat=1,
                centroid_lon=0.5,
                centroid_lat=0.5,
            )
            s.add(g)
            s.flush()
            grid_ids.append(g.id)
    # Texts come from pools of generated sentences: building a million unique ones would take longer
    # than indexing them. Pool entries are combined, so documents still differ.
    titles = [sentence(rng, rng.randint(10, 25)) for _ in range(5000)]
    texts = [sentence(rng, rng.randint(40, 150)) for _ in range(20000)]
    start = dt.datetime(2025, 1, 1)
    cols = (
        "url",
        "source",
        "platform",
        "title",
        "text",
        "account",
        "labels",
        "scores",
        "score",
        "reasons",
        "grid_id",
        "status",
        "detected_at",
        "updated_at",
    )
    sql = f"INSERT INTO hits ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    labels = [json.dumps(x) for x in LABELS]
    reasons = [json.dumps(x, ensure_ascii=False) for x in REASONS]
    conn = db.raw_connection(cfg)  # plain executemany (COPY on PostgreSQL): the ORM would take longer than the indexing
    sqlite = db.is_sqlite(cfg)
    try:
        batch = []
        copy_cm = None if sqlite else conn.cursor().copy(f"COPY hits ({', '.join(cols)}) FROM STDIN")
        copy = None if copy_cm is None else copy_cm.__enter__()
        for i in range(n):
            when = (start + dt.timedelta(minutes=i * 525600 // n)).strftime("%Y-%m-%d %H:%M:%S.000000")
            batch.append(
                (
                    f"https://example.invalid/p/{i}",
                    f"src{i % 12}",
                    rng.choice(PLATFORMS),
                    rng.choice(titles),
                    rng.choice(texts) + "，" + rng.choice(texts),
                    f"账号{i % 5000}",
                    rng.choice(labels),
                    "{}",
                    round(rng.random(), 3),
                    rng.choice(reasons),
                    rng.choice(grid_ids),
                    rng.choice(["new", "new", "clue", "dismissed"]),
                    when,
                    when,
                )
            )
            if len(batch) == 10000:
                _write_rows(conn, copy, sql, batch)
                batch.clear()
        if batch:
            _write_rows(conn, copy, sql, batch)
        if copy_cm is not None:
            copy_cm.__exit__(None, None, None)
        cur = conn.cursor()
        cur.execute("DELETE FROM search_outbox")  # nothing is queued by raw inserts; indexing is measured below
        if not sqlite:
            cur.execute("ANALYZE hits")  # the planner's statistics, as autovacuum would gather them
        conn.commit()
    finally:
        conn.close()
    return grid_ids


def _write_rows(conn, copy, sql: str, rows: list[tuple]) -> None:
    if copy is None:
        conn.executemany(sql, rows)
        return
    for row in rows:
        copy.write_row(row)


def bench_analysis(cfg, sample: int) -> float:
    from search.analysis import index_terms, normalize
    from search.documents import iter_all_docs

    with db.session_scope(cfg) as s:
        docs = [d for _, d in zip(range(sample), iter_all_docs(s), strict=False)]
    t0 = time.perf_counter()
    for d in docs:
        for f in ("title", "text", "account"):
            index_terms(normalize(d[f]))
    return len(docs) / (time.perf_counter() - t0)


def bench_reindex(cfg, n: int) -> float:
    import search

    t0 = time.perf_counter()
    done = search.reindex(cfg, progress_bar=False)
    assert done == n, (done, n)
    return n / (time.perf_counter() - t0)


def bench_drain(cfg, k: int) -> float:
    """Re-index k existing hits through the outbox (replacements: the delete-then-insert path)."""
    from search import outbox

    with db.get_engine(cfg).begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO search_outbox (hit_id, op, created_at, attempts) "
                f"SELECT id, 'index', CURRENT_TIMESTAMP, 0 FROM hits ORDER BY id DESC LIMIT {k}"
            )
        )
    t0 = time.perf_counter()
    done = outbox.drain(cfg)
    assert done == k, (done, k)
    return k / (time.perf_counter() - t0)


def bench_queries(cfg, count: int, facets: bool, seed: int = 11, zone: set[int] | None = None) -> list[float]:
    """Query latency; with `zone`, a grid manager's search (the database checks every candidate's grid)."""
    import search

    rng = random.Random(seed)
    times = []
    for _ in range(count):
        q = f"{rng.choice(KEYWORDS)} {rng.choice(FILTERS)}"
        t0 = time.perf_counter()
        r = search.search(cfg, q, facets=facets, sort=rng.choice(["relevance", "time"]), grid_ids=zone)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.hits and r.hits[0].snippets, q
    return times


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def run(n: int, queries: int, backend: str, workdir: Path, extra: dict) -> dict[str, str]:
    """Generate n hits in a fresh database, index them with `backend`, measure; returns the figures."""
    over = {"core.data_dir": str(workdir / backend), "core.database_url": "", "search.backend": backend, **extra}
    cfg = config.load(overrides=over)
    db.upgrade(cfg)
    out: dict[str, str] = {}
    t0 = time.perf_counter()
    grid_ids = generate(cfg, n)
    print(f"[{backend}] generated {n:,} hits in the database in {time.perf_counter() - t0:.1f} s", flush=True)
    base = bench_analysis(cfg, min(n, 20000))
    t0 = time.perf_counter()
    rate = bench_reindex(cfg, n)
    out["reindex"] = f"{rate:,.0f} hits/s ({n / rate:.0f} s)"
    out["analysis"] = f"{base:,.0f} hits/s"
    drain = bench_drain(cfg, min(n, 20000))
    out["drain"] = f"{drain:,.0f} hits/s"
    print(f"[{backend}] analysis alone (baseline): {base:,.0f} hits/s")
    print(
        f"[{backend}] bulk indexing (reindex from the database): {rate:,.0f} hits/s "
        f"= {rate / base:.2f} × the analysis baseline  (target ≥ 5,000)"
    )
    print(f"[{backend}] outbox drain (replacing indexed hits): {drain:,.0f} hits/s", flush=True)
    for facets in (False, True):
        times = bench_queries(cfg, queries, facets)
        key = "query+facets" if facets else "query"
        out[key] = f"p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms, max {max(times):.1f} ms"
        print(
            f"[{backend}] keyword + one filter + highlights{' + facets' if facets else ''}: {out[key]} "
            f"over {queries} queries  (target p95 < 100 ms)",
            flush=True,
        )
    for size in (1, 5):  # a grid manager's zone: 1 or 5 of the 20 grids (5 % or 25 % of the hits)
        times = bench_queries(cfg, queries, True, zone=set(grid_ids[:size]))
        key = f"zone of {size} grid(s)"
        out[key] = f"p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms, max {max(times):.1f} ms"
        print(
            f"[{backend}] zone of {size} grid(s), keyword + one filter + highlights + facets counted from the "
            f"database: {out[key]}",
            flush=True,
        )
    if backend == "postgres":
        with db.get_engine(cfg).connect() as conn:
            size = conn.execute(text("SELECT pg_total_relation_size('search_pg')")).scalar()
        out["index size"] = f"{size / 2**20:,.0f} MB"
    elif backend == "embedded":
        out["index size"] = "in the database file (search_fts*)"
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    out["load at the end"] = load
    print(f"[{backend}] load average (1/5/15 min) at the end: {load} on {os.cpu_count()} cores", flush=True)
    db.dispose(cfg)
    return out


# PostgreSQL settings for the benchmark's own server: memory a database server of a city deployment
# would have (the tests' server keeps 32 MB), and fewer checkpoints while a million rows load.
PG_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "effective_cache_size": "4GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1,000,000 hits")
    ap.add_argument("--hits", type=int, default=None, help="number of generated hits (default 100,000)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--backends", default="embedded,postgres", help="comma-separated: embedded, postgres")
    ap.add_argument("--pg-url", default=None, help="an existing PostgreSQL server (a user that may create databases)")
    ap.add_argument("--es-url", default=None, help="also run against this Elasticsearch cluster")
    ap.add_argument("--workdir", default=None, help="where the benchmark databases go (default: a temp dir)")
    args = ap.parse_args(argv)
    n = args.hits or (1_000_000 if args.full else 100_000)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results: dict[str, dict[str, str]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wangxun-bench-") as tmp:
        work = Path(args.workdir or tmp)
        if "embedded" in backends:
            results["embedded"] = run(n, args.queries, "embedded", work, {})
        if "postgres" in backends:
            results["postgres"] = run_postgres(n, args.queries, work, args.pg_url)
        if args.es_url:
            results["elasticsearch"] = run(n, args.queries, "elasticsearch", work, {"search.es_url": args.es_url})
    print_table(n, results, time.perf_counter() - started)


def run_postgres(n: int, queries: int, work: Path, pg_url: str | None) -> dict[str, str]:
    """The postgres backend on a database of its own: on --pg-url's server, or on a throwaway server
    started here (initdb in a temporary folder, a Unix socket only, stopped and removed at the end)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from tests import pg

    server = None
    if not pg_url:
        server = pg.Server()
        pg_url = server.start(PG_SETTINGS).url
        print(f"[postgres] started a throwaway PostgreSQL server (socket in {server.dir})", flush=True)
    name = f"wangxun_bench_{os.getpid()}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        return run(n, queries, "postgres", work, {"core.database_url": url})
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if server is not None:
            server.stop()


def print_table(n: int, results: dict[str, dict[str, str]], seconds: float) -> None:
    names = list(results)
    rows = [
        ("analysis alone, one process (baseline)", "analysis"),
        ("bulk indexing, reindex from the database", "reindex"),
        ("outbox drain (replacing 20,000 indexed hits)", "drain"),
        ("keyword + one filter + highlights", "query"),
        ("the same with facets", "query+facets"),
        ("zone of 1 grid (database decides)", "zone of 1 grid(s)"),
        ("zone of 5 grids (database decides)", "zone of 5 grid(s)"),
        ("index size", "index size"),
        ("load average at the end", "load at the end"),
    ]
    print(f"\n{n:,} hits, one run ({seconds / 60:.1f} min), {os.cpu_count()} cores\n")
    print("| figure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, key in rows:
        print(f"| {label} | " + " | ".join(results[b].get(key, "—") for b in names) + " |")


if __name__ == "__main__":
    main()
