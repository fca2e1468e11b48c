"""Soak test: the web app under gunicorn (4 workers, 127.0.0.1) while a crawl runs and the alerts job
fires, used by simulated users for a bounded time. Prints requests, errors, p50/p95/p99 per page and
the app's memory (RSS of gunicorn and its workers) at minute 2 and at the end.

    .venv/bin/python -m bench.soak                  # quick: 10 users for 60 s
    .venv/bin/python -m bench.soak --full           # the target: 50 users for 10 minutes

The world is 10× the demo: 29,000 venues and 5,000 hits in a city of 400 grids (bench/map_world.py),
indexed by the embedded search backend. Each simulated user logs in (as admin, patrol staff or a grid
manager) and loops over the pages a patrol officer uses: the map and its three APIs, a search, a hit
page, a hit popup and a CSV export, with a think time of 0.5–2 s between requests. The baseline, measured
in the same run before the soak, is one user alone with no crawl: the report gives each page's p95
under load as a ratio of that.

Memory is flat when RSS grows less than 10% from minute 2 to the end (the first two minutes fill
caches). Every request goes to 127.0.0.1; the loops are bounded by --seconds and --users.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

from bench.map_world import PASSWORD, WEST, build_world

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("admin", "patrol", "gm", "gm2")
QUERIES = ("一日游", "盗版", "线索", "旅游 报名", "电子书")


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(workdir / "var"),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(workdir / "keys" / "evidence-anchor.key"),
            "WANGXUN_WEBMAP__TILE_PROVIDER": "none",
            # Every simulated user comes from 127.0.0.1: the per-address login limit would refuse them.
            "WANGXUN_WEBMAP__LOGIN_IP_ATTEMPTS_PER_MINUTE": "100000",
            "PYTHONIOENCODING": "utf-8",
        }
    )
    return env


def _prepare(workdir: Path, env: dict[str, str]) -> None:
    from core import config, db
    from core.models import SavedSearch, User

    os.environ.update({k: v for k, v in env.items() if k.startswith("WANGXUN_")})
    cfg = config.load()
    db.upgrade(cfg)
    build_world(cfg, venues=29_000, hits=5_000, streets=4, side=10, zone_grids=50)
    with db.session_scope(cfg) as s:
        for user in s.query(User).all():  # the alerts job has saved searches to check
            s.add(SavedSearch(user_id=user.id, name="一日游监控", query="一日游 OR 线索", last_hit_id=0))
    wangxun = Path(sys.executable).with_name("wangxun")
    subprocess.run([str(wangxun), "reindex"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []

    def add(self, page: str, seconds: float, ok: bool, why: str = "") -> None:
        with self.lock:
            self.times[page].append(seconds)
            if not ok:
                self.errors[page] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{page}: {why}")


def _user(base: str, role: str, stats: Stats, stop: threading.Event, rnd: random.Random, think: tuple) -> None:
    web = requests.Session()

    def call(page: str, path: str, **kw) -> requests.Response | None:
        t0 = time.perf_counter()
        try:
            r = web.get(base + path, timeout=60, **kw)
        except requests.RequestException as exc:
            stats.add(page, time.perf_counter() - t0, False, str(exc)[:200])
            return None
        ok = r.status_code == 200
        stats.add(page, time.perf_counter() - t0, ok, f"HTTP {r.status_code} {path}")
        return r if ok else None

    login = web.get(base + "/login", timeout=60)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login.text).group(1)
    t0 = time.perf_counter()
    r = web.post(
        base + "/login",
        data={"username": role, "password": PASSWORD, "csrf_token": token},
        timeout=60,
        allow_redirects=False,
    )
    stats.add("login", time.perf_counter() - t0, r.status_code == 302, f"HTTP {r.status_code}")
    hit_ids: list[int] = []
    while not stop.is_set():
        lon = rnd.uniform(WEST, WEST + 0.1)
        bbox = f"{lon:.4f},31.28,{lon + 0.03:.4f},31.31"
        step = rnd.random()
        if step < 0.15:
            call("map page", "/")
        elif step < 0.3:
            call("api grids", "/api/grids")
        elif step < 0.45:
            call("api venues", f"/api/venues?bbox={bbox}&zoom=15")
        elif step < 0.6:
            r = call("api hits", f"/api/hits?bbox={bbox}")
            if r is not None:
                hit_ids = [row[0] for row in r.json().get("rows", [])][:50] or hit_ids
        elif step < 0.75:
            call("search", "/search", params={"q": rnd.choice(QUERIES)})
        elif step < 0.85 and hit_ids:
            call("hit page", f"/hits/{rnd.choice(hit_ids)}")
        elif step < 0.95 and hit_ids:
            call("hit popup", f"/api/hits/{rnd.choice(hit_ids)}")
        else:
            call("hits csv", "/export/hits.csv", params={"date_from": "2026-10-20"})
        stop.wait(rnd.uniform(*think))


def _run_users(base: str, users: int, seconds: float, think: tuple, seed: int) -> Stats:
    stats, stop = Stats(), threading.Event()
    threads = [
        threading.Thread(
            target=_user,
            args=(base, ROLES[i % len(ROLES)], stats, stop, random.Random(seed + i), think),
            daemon=True,
        )
        for i in range(users)
    ]
    for t in threads:
        t.start()
        time.sleep(0.05)  # a ramp, not 50 logins in the same millisecond
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=90)
    return stats


def _rss_kb(pid: int) -> int:
    """RSS of `pid` and every process below it (gunicorn's master and workers)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        m = re.search(r"VmRSS:\s+(\d+)", status)
        total += int(m.group(1)) if m else 0
    return total


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _wait_up(base: str, proc: subprocess.Popen, bound: float = 120) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited {proc.returncode}")
        try:
            if requests.get(base + "/login", timeout=30).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still importing the app
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer within 120 s")


def _background(env: dict[str, str], stop: threading.Event, alerts_every: float, log: list[str]) -> None:
    """The crawl (one source of the sample site, again and again) and the alerts job on its interval."""
    site = subprocess.Popen(
        [sys.executable, "-m", "samplesite", "--quiet"], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    url = re.search(r"(https?://\S+?)/?\s", site.stdout.readline()).group(1)
    threading.Thread(target=site.stdout.read, daemon=True).start()
    crawl_env = {**env, "WANGXUN_CRAWL__SAMPLE_SITE_URL": url}
    crawl = None
    next_alerts = time.monotonic()
    crawls = alerts = 0
    try:
        while not stop.is_set():
            if crawl is not None and crawl.poll() not in (None, 0):
                log.append(f"a crawl exited {crawl.returncode}")
            if crawl is None or crawl.poll() is not None:
                crawl = subprocess.Popen(
                    [sys.executable, "-m", "crawlers", "shop_search"],
                    env=crawl_env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                crawls += 1
            if time.monotonic() >= next_alerts:
                r = subprocess.run(
                    [sys.executable, "-m", "jobs", "run", "check_alerts"],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
                alerts += 1
                if r.returncode != 0:
                    log.append(f"alerts job failed: {r.stdout[-300:]} {r.stderr[-300:]}")
                next_alerts = time.monotonic() + alerts_every
            stop.wait(1.0)
    finally:
        for p in (crawl, site):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        log.append(f"crawls started: {crawls}; alerts job runs: {alerts}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="50 users for 600 s (the target)")
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--baseline-seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    users = args.users or (50 if args.full else 10)
    seconds = args.seconds or (600 if args.full else 60)
    users, seconds = max(1, min(users, 200)), max(10.0, min(seconds, 3600.0))  # bounded

    workdir = Path(tempfile.mkdtemp(prefix="wangxun-soak-"))
    env = _env(workdir)
    print(f"preparing a world in {workdir} …", flush=True)
    _prepare(workdir, env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "gunicorn.log", "w"),  # noqa: SIM115 - closed with the process
    )
    stop_bg, log = threading.Event(), []
    bg = None
    try:
        _wait_up(base, gunicorn)
        print(f"baseline: 1 user, no crawl, {args.baseline_seconds:g} s …", flush=True)
        baseline = _run_users(base, 1, args.baseline_seconds, (0.05, 0.2), args.seed + 1000)
        bg = threading.Thread(target=_background, args=(env, stop_bg, 60.0, log), daemon=True)
        bg.start()
        memory: dict[str, int] = {"start": _rss_kb(gunicorn.pid)}
        sampler_stop = threading.Event()

        def sample():
            t0 = time.monotonic()
            while not sampler_stop.wait(5):
                if "minute 2" not in memory and time.monotonic() - t0 >= min(120, seconds / 5):
                    memory["minute 2"] = _rss_kb(gunicorn.pid)
            memory["end"] = _rss_kb(gunicorn.pid)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        print(f"soak: {users} users for {seconds:g} s, a crawl running, the alerts job every 60 s …", flush=True)
        t0 = time.monotonic()
        stats = _run_users(base, users, seconds, (0.5, 2.0), args.seed)
        elapsed = time.monotonic() - t0
        sampler_stop.set()
        sampler.join(timeout=30)
    finally:
        stop_bg.set()
        if bg is not None:
            bg.join(timeout=90)  # its crawl and sample site stopped, its counts in `log`
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=60)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
    time.sleep(1)
    _report(stats, baseline, memory, elapsed, users, log)
    errors = sum(stats.errors.values())
    return 1 if errors else 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _report(stats: Stats, baseline: Stats, memory: dict, elapsed: float, users: int, log: list[str]) -> None:
    total = sum(len(v) for v in stats.times.values())
    errors = sum(stats.errors.values())
    print(f"\n{users} users, {elapsed:.0f} s: {total} requests ({total / elapsed:.1f}/s), {errors} errors")
    print(f"{'page':<12} {'n':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95 alone':>10} {'ratio':>6}")
    for page in sorted(stats.times):
        v = stats.times[page]
        alone = _pct(baseline.times.get(page, []), 95)
        p95 = _pct(v, 95)
        ratio = p95 / alone if alone == alone and alone > 0 else float("nan")
        print(
            f"{page:<12} {len(v):>6} {stats.errors[page]:>4} {_pct(v, 50) * 1000:>8.0f} {p95 * 1000:>8.0f} "
            f"{_pct(v, 99) * 1000:>8.0f} {alone * 1000:>10.0f} {ratio:>6.1f}"
        )
    start, m2, end = memory.get("start"), memory.get("minute 2"), memory.get("end")
    print(f"memory (RSS of gunicorn and its workers): start {start / 1024:.0f} MB", end="")
    if m2 and end:
        growth = (end - m2) / m2
        verdict = "flat" if growth < 0.10 else "GROWING"
        print(f", minute 2 {m2 / 1024:.0f} MB, end {end / 1024:.0f} MB: {growth:+.1%} ({verdict})")
    else:
        print()
    for line in log + stats.examples:
        print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
