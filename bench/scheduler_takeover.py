"""How long a standby scheduler takes to take over after the active one is killed -9.

    .venv/bin/python -m bench.scheduler_takeover            # 3 rounds, lease_seconds = 30 (the default)
    .venv/bin/python -m bench.scheduler_takeover --lease 5  # a shorter lease

Each round starts two `python -m jobs` processes on one fresh SQLite database with a job every second,
waits until the first holds the lease and the second waits, kills the first with SIGKILL, and measures
the time until the standby (a) holds the lease and (b) records its first run. The lease length is the
baseline: takeover is expected within it plus one poll (the standby retries every lease/6 s, at most 5
s), and the printed ratio is takeover / lease_seconds. Everything stays on this machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _wait(check, bound: float = 300.0, step: float = 0.05):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise SystemExit(f"gave up after {bound:g} s")


def one_round(lease_seconds: float) -> tuple[float, float]:
    from sqlalchemy import select

    from core import config, db
    from core.models import JobRun
    from jobs import lease as leases

    work = Path(tempfile.mkdtemp(prefix="wangxun-takeover-"))
    schedule = work / "schedule.toml"
    schedule.write_text('[[schedule]]\nid = "tick"\ntask = "check_alerts"\ninterval_seconds = 1\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(work / "var"),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(work / "keys" / "k"),
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_JOBS__SCHEDULE_FILE": str(schedule),
            "WANGXUN_JOBS__CRAWL_CRON": "",
            "WANGXUN_JOBS__WAKEUP_SECONDS": "0.5",
            "WANGXUN_JOBS__LEASE_SECONDS": str(lease_seconds),
        }
    )
    cfg = config.load(
        overrides={
            "core.data_dir": str(work / "var"),
            "core.database_url": "",
            "evidence.anchor_key_file": str(work / "keys" / "k"),
        },
        environ={},
    )
    db.upgrade(cfg)

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "jobs"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def holder() -> str:
        return leases.current(cfg).holder or ""

    def runs_by(pid: int) -> int:
        with db.session_scope(cfg) as s:
            rows = s.scalars(select(JobRun.detail).where(JobRun.job_id == "tick")).all()
            return sum(1 for d in rows if (d or {}).get("pid") == pid)

    active = start()
    standby = None
    try:
        _wait(lambda: f":{active.pid}:" in holder())
        _wait(lambda: runs_by(active.pid) >= 1)
        standby = start()
        time.sleep(min(3.0, lease_seconds / 2))  # the standby is up and polling
        killed = time.monotonic()
        active.send_signal(signal.SIGKILL)
        active.wait()
        _wait(lambda: f":{standby.pid}:" in holder(), bound=lease_seconds * 4 + 120)
        lease_at = time.monotonic() - killed
        _wait(lambda: runs_by(standby.pid) >= 1, bound=lease_seconds * 4 + 120)
        first_run_at = time.monotonic() - killed
    finally:
        for p in (active, standby):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        db.dispose(cfg)
    return lease_at, first_run_at


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lease", type=float, default=30.0, help="lease_seconds (default 30, the shipped value)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    rounds = max(1, min(args.rounds, 10))
    results = []
    for n in range(rounds):
        lease_at, first_run_at = one_round(args.lease)
        results.append((lease_at, first_run_at))
        print(f"round {n + 1}: lease taken {lease_at:.1f} s after the kill, first run {first_run_at:.1f} s", flush=True)
    lease_med = statistics.median(r[0] for r in results)
    run_med = statistics.median(r[1] for r in results)
    print(
        f"takeover (median of {rounds}): lease {lease_med:.1f} s, first run {run_med:.1f} s; "
        f"lease_seconds {args.lease:g} s (ratio {lease_med / args.lease:.2f}; target: within 60 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
