"""`wangxun evidence verify` and `wangxun evidence export` through the real command entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import db
from core.cli import main
from evidence import record_fetch
from tests.conftest import make_config
from tests.evidence.test_evidence import make_fetch, make_page_hit, record_chain, stored_path
from tests.helpers import make_page_version


@pytest.fixture
def env_cfg(cfg, monkeypatch):
    """Point the command line at the test database (it reads config through the environment)."""
    monkeypatch.setenv("WANGXUN_CORE__DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("WANGXUN_CORE__DATABASE_URL", cfg.core.database_url)  # "" on SQLite: the data_dir's
    monkeypatch.setenv("WANGXUN_EVIDENCE__WRITE_PDF", "false")
    monkeypatch.setenv("WANGXUN_EVIDENCE__ANCHOR_KEY_FILE", cfg.evidence.anchor_key_file)  # never ~/.config
    return cfg


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_verify_passes_clean_then_fails_naming_the_record_after_one_byte_changes(env_cfg, capsys):
    records = record_chain(env_cfg, 3)
    assert run(["evidence", "verify"]) == 0
    assert "OK: 3 record(s)" in capsys.readouterr().out

    path = stored_path(env_cfg, records[1], "body")
    data = bytearray(path.read_bytes())
    data[20] ^= 0x40
    path.write_bytes(bytes(data))
    assert run(["evidence", "verify"]) == 1
    captured = capsys.readouterr()
    problem_lines = captured.out.strip().splitlines()
    assert len(problem_lines) == 1
    assert problem_lines[0].startswith(f"record seq 2 (evidence id {records[1].id}): file body:")
    assert "1 problem(s)" in captured.err


def test_export_writes_the_package_where_asked(env_cfg, tmp_path, capsys):
    with db.session_scope(env_cfg) as session:
        pv = make_page_version(session)
        record_fetch(session, env_cfg, pv.id, make_fetch(1))
        hit_id = make_page_hit(session, pv).id
    out = tmp_path / "case"
    assert run(["evidence", "export", str(hit_id), "--out", str(out), "--officer", "王执法"]) == 0
    lines = capsys.readouterr().out.splitlines()
    folder = Path(lines[0].split(": ", 1)[1])
    assert folder.parent == out and folder.with_name(folder.name + ".zip").exists()
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["officer"] == "王执法"
    assert "disabled by evidence.write_pdf" in lines[-1]


def test_export_of_an_unknown_hit_is_one_line_and_exit_1(env_cfg, tmp_path, capsys):
    assert run(["evidence", "export", "4242", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["错误 error: hit 4242 does not exist"]


def test_verify_on_a_database_without_schema_says_to_run_init(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANGXUN_CORE__DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.setenv("WANGXUN_CORE__DATABASE_URL", "")
    assert run(["evidence", "verify"]) == 1
    assert "run `wangxun init` first" in capsys.readouterr().err
    db.dispose(make_config(tmp_path, **{"core.data_dir": str(tmp_path / "fresh")}))
