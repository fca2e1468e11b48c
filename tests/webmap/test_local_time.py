"""Local time everywhere (#15 item 9): the database keeps UTC; exports, their file names, the map's
date filter and the jobs page speak the [core] timezone (Beijing time) and say so."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from core import db
from search import outbox
from tests.helpers import make_grid, make_hit, make_user
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app

# 17:30 UTC on 12-05 is 01:30 on 12-06 in Beijing: the day differs, so a UTC slip shows.
FOUND_UTC = dt.datetime(2026, 12, 5, 17, 30)


@pytest.fixture
def client(cfg):
    with db.session_scope(cfg) as s:
        grid = make_grid(s, code="320508001001", name="平江一网格", bounds=(120.60, 31.30, 120.62, 31.32))
        make_hit(s, grid, None, "深夜一日游", 120.61, 31.31, detected_at=FOUND_UTC)
        make_user(s, "admin", role="admin", password=PASSWORD)
    outbox.drain(cfg)
    c = create_app({"TESTING": True}, config=cfg).test_client()
    login(c, "admin")
    return c


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_hit_export_is_in_beijing_time_and_says_so(client):
    for url in ("/export/hits.csv", "/search/export.csv?q=一日游"):
        rows = _csv(client.get(url).data)
        header, row = rows[0], rows[1]
        assert "发现时间（北京时间）" in header, (url, header)
        assert row[header.index("发现时间（北京时间）")] == "2026-12-06 01:30:00", url
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/export/hits.xlsx").data)).active
    values = list(sheet.values)
    column = values[0].index("发现时间（北京时间）")
    assert values[1][column] == "2026-12-06 01:30:00"


def test_export_file_names_use_local_time(client):
    disposition = client.get("/export/hits.csv").headers["Content-Disposition"]
    stamp = re.search(r"wangxun-hits-(\d{8}-\d{6})\.csv", disposition).group(1)
    named = dt.datetime.strptime(stamp, "%Y%m%d-%H%M%S")
    local_now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs((local_now - named).total_seconds()) < 600  # Beijing's clock, not UTC's (8 h apart)


def test_the_map_date_filter_means_local_days(client):
    def rows(query: str) -> int:
        return len(_csv(client.get(f"/export/hits.csv?{query}").data)) - 1

    assert rows("date_from=2026-12-06&date_to=2026-12-06") == 1  # found on the 6th, Beijing time
    assert rows("date_from=2026-12-05&date_to=2026-12-05") == 0  # though it was still the 5th in UTC


def test_the_jobs_page_shows_the_heartbeat_in_local_time(client, cfg):
    # A live heartbeat written on a machine whose own zone is UTC (the scheduler writes its local time).
    beat = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    (cfg.data_dir / "scheduler.json").write_text(
        json.dumps({"pid": 1, "beat_at": beat.isoformat(), "running": True}), encoding="utf-8"
    )
    local = beat.astimezone(ZoneInfo("Asia/Shanghai"))
    page = client.get("/admin/jobs").text
    assert "调度进程运行中" in page and f"最近心跳 {local:%Y-%m-%d %H:%M:%S}" in page
    assert "时间均为北京时间" in page and "+00:00" not in page
    assert client.get("/api/jobs").json["scheduler"]["beat_at"] == local.isoformat()
