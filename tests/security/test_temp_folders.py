"""#12 finding 11 — every web evidence download left a temporary folder in data_dir.

The package is built in a folder of its own under data_dir; the download must leave data_dir as it
found it: after a complete download, when the client goes away before reading the body, and when the
build fails (a hit without evidence, tampered evidence).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from core import db
from core.models import Evidence
from evidence import record_fetch
from tests.conftest import make_config
from tests.evidence.test_evidence import make_fetch, make_page_hit, stored_path
from tests.helpers import make_hit, make_page_version, make_user
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app


@pytest.fixture
def cfg(tmp_path):
    """The shared cfg without printing PDFs (Chromium is not what this is about)."""
    c = make_config(tmp_path, **{"evidence.write_pdf": False})
    db.upgrade(c)
    yield c
    db.dispose(c)


@pytest.fixture
def hits(cfg) -> dict[str, int]:
    with db.session_scope(cfg) as s:
        pv = make_page_version(s, 3)
        record_fetch(s, cfg, pv.id, make_fetch(3, with_screenshot=True))
        with_evidence = make_page_hit(s, pv)
        without = make_hit(s, None, None, "没有证据的线索")
        make_user(s, "patrol", role="patrol", password=PASSWORD)
        return {"with": with_evidence.id, "without": without.id}


@pytest.fixture
def client(cfg, hits):
    c = create_app({"TESTING": True}, config=cfg).test_client()
    login(c, "patrol")
    return c


def folders(cfg) -> list[str]:
    """Every folder under data_dir (the evidence store's included), as relative paths."""
    root = Path(cfg.data_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())


def test_a_complete_download_leaves_no_folder(cfg, client, hits):
    before = folders(cfg)
    r = client.get(f"/hits/{hits['with']}/evidence.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert any(n.endswith("manifest.json") for n in names)
    r.close()
    assert folders(cfg) == before


def test_a_client_that_goes_away_before_reading_leaves_no_folder(cfg, client, hits):
    before = folders(cfg)
    r = client.get(f"/hits/{hits['with']}/evidence.zip", buffered=False)
    assert r.status_code == 200
    assert folders(cfg) == before  # gone before the body is sent, so a dropped connection leaves nothing
    first = next(iter(r.response))  # the body is still whole
    assert first.startswith(b"PK")
    r.close()
    assert folders(cfg) == before


def test_failed_builds_leave_no_folder(cfg, client, hits):
    before = folders(cfg)
    r = client.get(f"/hits/{hits['without']}/evidence.zip")  # no evidence recorded: a message
    assert r.status_code == 302
    r.close()
    assert folders(cfg) == before
    with db.session_scope(cfg) as s:
        ev = s.scalars(select(Evidence)).one()
    path = stored_path(cfg, ev, "body")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    r = client.get(f"/hits/{hits['with']}/evidence.zip")  # tampered evidence: refused mid-build
    assert r.status_code == 302
    r.close()
    assert folders(cfg) == before
