"""`wangxun demo` as a newcomer runs it (#15 item 13): the web app answers while the first crawl still
runs in the background; the jobs page shows that crawl with its live progress; with output that is not
a terminal the demo prints plain progress lines; SIGTERM stops everything it started (the first crawl,
the scheduler, the sample site) with no traceback; and the counts it prints are the map's (streets and
grids apart, not one total)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tests.conftest import PROJECT_ROOT
from tests.helpers import wait_for

BOUND_S = 180  # generous bound for each state waited on (a 2-core machine running other tests)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (no psutil here)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(what: str, check, bound: float = BOUND_S):
    return wait_for(what, check, bound, step=0.3)


class Lines:
    """A pipe read in the background into a list of lines."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def find(self, pattern: str) -> str | None:
        return next((line for line in list(self.lines) if re.search(pattern, line)), None)


def test_the_demo_serves_first_shows_the_crawl_and_stops_everything_on_sigterm(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(tmp_path / "keys" / "evidence-anchor.key"),
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_SAMPLESITE__PORT": "0",
            "WANGXUN_DEMO__WEB_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    wangxun = Path(sys.executable).with_name("wangxun")
    proc = subprocess.Popen(
        [str(wangxun), "demo"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    started: set[int] = set()
    try:
        base = f"http://127.0.0.1:{port}"

        def login_page():
            try:
                return requests.get(f"{base}/login", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        _wait_for("the web app to answer", login_page)
        started = _descendants(proc.pid)  # the sample site and the scheduler, killed below if the test fails
        counts = out.find("示例辖区")
        assert counts and "8 个街道" in counts and "64 个网格" in counts, out.lines

        web = requests.Session()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', web.get(f"{base}/login", timeout=10).text)
        r = web.post(
            f"{base}/login",
            data={"username": "admin", "password": "wangxun-demo", "csrf_token": token.group(1)},
            timeout=10,
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text[:500]

        # Served first: the first crawl is still running, and the jobs page shows how far it is.
        def live_row():
            page = web.get(f"{base}/admin/jobs", timeout=10).text
            return "live-progress" in page and page

        page = _wait_for("the jobs page to show the running first crawl", live_row)
        assert re.search(r"运行中 · 已用 \d+ 秒", page)
        progress = r"采集中 crawling \S+: \d+ 页 pages, \d+ 条发现 hits"
        _wait_for("a plain progress line on stdout", lambda: out.find(progress))

        started |= _descendants(proc.pid)
        crawls = [p for p in started if b"crawlers" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert crawls, "no crawl process under the demo"
        assert len(started) >= 3, started  # the sample site, the scheduler and the crawl at least

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=BOUND_S) == 0
        _wait_for("every process the demo started to end", lambda: not any(_alive(p) for p in started))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in started:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    out.thread.join(timeout=10)
    err.thread.join(timeout=10)
    assert not any("Traceback" in line for line in err.lines + out.lines), "\n".join(err.lines[-40:])
