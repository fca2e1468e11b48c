"""kill -9 of an import while it writes: the register is all or nothing (nothing of the killed import
is in the database), and importing the same file again succeeds, once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from bench.import_venues import SAMPLE, write_register
from core import db
from grids.sample.load import load_sample
from tests.conftest import PROJECT_ROOT, make_config
from tests.faults.killpoints import kill_point

ROWS = 60_000  # long enough for the kill to land while the import writes


def _count(path) -> int:
    conn = sqlite3.connect(path, timeout=60)
    try:
        return conn.execute("SELECT count(*) FROM venues").fetchone()[0]
    finally:
        conn.close()


def test_a_killed_import_leaves_nothing_and_the_next_one_succeeds(tmp_path):
    cfg = make_config(tmp_path)
    db.upgrade(cfg)
    load_sample(cfg)  # the sample district: grids to assign venues to, and venues already there
    database = cfg.database_url.split("///", 1)[1]
    before = _count(database)
    conn = sqlite3.connect(database)  # the register reuses the sample's licence format: those rows update
    sample_licences = {row[0] for row in conn.execute("SELECT licence_no FROM venues")}
    conn.close()
    grids = [
        f["properties"]["code"]
        for f in json.loads((SAMPLE / "district.geojson").read_text(encoding="utf-8"))["features"]
        if f["properties"]["level"] == "grid"
    ]
    register = tmp_path / "venues.csv"
    write_register(register, ROWS, grids)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env.update({"WANGXUN_CORE__DATA_DIR": str(cfg.data_dir), "WANGXUN_CORE__DATABASE_URL": cfg.database_url})
    command = [sys.executable, "-m", "core.cli", "import-venues", str(register), "--crs", "wgs84"]
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = tmp_path / "var" / "wangxun.db-wal"
    start_size = wal.stat().st_size if wal.exists() else 0
    # A random moment of the write: after 0.2 to 4 MB of WAL (the seed replays it).
    grown, note = kill_point("import_wal_kb", 200, 4000)
    for _ in range(2400):  # bounded: two minutes at 50 ms; the import is writing once the WAL grows
        if proc.poll() is not None:
            pytest.fail(f"the import ended before it could be killed ({note}): " + proc.stderr.read().decode()[-2000:])
        if wal.exists() and wal.stat().st_size > start_size + grown * 1000:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the import never started writing")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert _count(database) == before, note  # all or nothing: the killed transaction left no row
    again = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    updated = len(sample_licences & {f"32050800{i:07d}" for i in range(ROWS)})
    assert _count(database) == before + ROWS - updated
    db.dispose(cfg)
