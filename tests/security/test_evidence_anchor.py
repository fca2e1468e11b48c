"""Finding 9 of #12: deleting the newest evidence records, or rewriting a record and re-hashing the
rest of the chain, passed `wangxun evidence verify`. The head is now signed with a key outside the
database and data_dir into an append-only anchors file, and every such change is reported with the
record number: truncation, a rewrite, a wrong key, and an anchors file cut or edited."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import delete, select

from core import db
from core.cli import main
from core.config import with_overrides
from core.models import Evidence
from evidence import anchor, chain, export_hit, record_fetch, verify
from jobs import tasks
from tests.evidence.test_evidence import make_fetch, make_page_hit, record_chain
from tests.helpers import make_page_version


@pytest.fixture
def keyed(cfg):
    """The test database with an anchor key (outside data_dir) and the chain's first records anchored."""
    anchor.generate_key(cfg)
    record_chain(cfg, 5)
    first = anchor.anchor_head(cfg, "test")
    assert first["seq"] == 5 and first["new"] and first["n"] == 1
    return cfg


def _problems(cfg, **kw):
    return verify(cfg, progress=False, **kw).problems


def _more(cfg, n0: int, count: int):
    with db.session_scope(cfg) as session:
        for n in range(n0, n0 + count):
            record_fetch(session, cfg, make_page_version(session, n).id, make_fetch(n))


def test_clean_anchored_chain_verifies_and_an_unchanged_head_is_not_signed_twice(keyed):
    report = verify(keyed, progress=False)
    assert report.ok and report.anchors == 1 and report.last_anchor["seq"] == 5
    assert anchor.anchor_head(keyed, "again")["new"] is False
    _more(keyed, 6, 2)
    second = anchor.anchor_head(keyed, "crawl:test")
    assert (second["n"], second["seq"], second["new"]) == (2, 7, True)
    lines = anchor.anchors_path(keyed).read_text().splitlines()
    assert len(lines) == 2 and set(json.loads(lines[1])) == {
        "v", "n", "seq", "records", "head", "at", "reason", "key_id", "prev", "sig"
    }  # fmt: skip
    assert verify(keyed, progress=False).ok


def test_deleting_the_newest_records_is_reported_with_their_numbers(keyed):
    with db.session_scope(keyed) as session:  # the attacker: a database administrator
        session.execute(delete(Evidence).where(Evidence.seq >= 4))
    problems = _problems(keyed)
    assert [(p.seq, p.what) for p in problems] == [(4, "anchor")]
    assert "records seq 4..5 are missing" in str(problems[0])
    # and a crawl does not sign the cut chain
    assert "no longer matches" in anchor.try_anchor(keyed, "crawl:x")["error"]


def test_rewriting_a_record_and_rehashing_the_rest_is_reported_with_the_record_number(keyed):
    _more(keyed, 6, 3)
    anchor.anchor_head(keyed, "crawl:test")  # anchors at seq 5 and seq 8
    with db.session_scope(keyed) as session:
        rows = session.scalars(select(Evidence).where(Evidence.seq >= 7).order_by(Evidence.seq)).all()
        rows[0].final_url = "https://innocent.test/"
        prev = session.scalar(select(Evidence.record_hash).where(Evidence.seq == 6))
        for ev in rows:  # re-hash record 7 and everything after it: the chain itself walks clean
            ev.prev_hash = prev
            ev.record_hash = chain.record_hash(ev)
            prev = ev.record_hash
    problems = _problems(keyed)
    assert [(p.seq, p.what) for p in problems] == [(6, "anchor")]
    assert "rewritten at a record from seq 6 to 8" in str(problems[0])


def test_a_chain_rewritten_from_its_first_record_is_reported(keyed):
    with db.session_scope(keyed) as session:
        prev = chain.GENESIS_HASH
        for ev in session.scalars(select(Evidence).order_by(Evidence.seq)):
            ev.url = ev.url + "?x"
            ev.prev_hash = prev
            ev.record_hash = chain.record_hash(ev)
            prev = ev.record_hash
    problems = _problems(keyed)
    assert [(p.seq, p.what) for p in problems] == [(1, "anchor")]


def test_anchors_signed_with_another_key_are_reported(keyed):
    anchor.generate_key(keyed, force=True)  # someone replaced the key to sign a rewritten chain
    problems = _problems(keyed)
    assert [p.what for p in problems] == ["anchors file"]
    assert "line 1: signed with key" in str(problems[0]) and "not this deployment's key" in str(problems[0])


def test_forged_anchor_line_without_the_key_is_reported(keyed):
    path = anchor.anchors_path(keyed)
    line = json.loads(path.read_text().splitlines()[0])
    line["seq"], line["records"] = 3, 3  # move the anchor back, so that deleting 4..5 would pass
    with db.session_scope(keyed) as session:
        line["head"] = session.scalar(select(Evidence.record_hash).where(Evidence.seq == 3))
        session.execute(delete(Evidence).where(Evidence.seq >= 4))
    path.write_text(json.dumps(line, separators=(",", ":")) + "\n")
    problems = _problems(keyed)
    assert any("line 1: the signature does not match its fields" in str(p) for p in problems)


def test_anchors_file_cut_edited_or_thinned_is_reported(keyed):
    _more(keyed, 6, 1)
    anchor.anchor_head(keyed, "b")
    _more(keyed, 7, 1)
    anchor.anchor_head(keyed, "c")
    path = anchor.anchors_path(keyed)
    whole = path.read_bytes()
    lines = whole.splitlines(keepends=True)
    path.write_bytes(whole[:-20])  # cut mid-line
    assert any("line 3: the last line is cut" in str(p) for p in _problems(keyed))
    path.write_bytes(lines[0] + lines[2])  # the middle anchor removed
    assert any("anchor 3 does not follow anchor 1" in str(p) for p in _problems(keyed))
    path.write_bytes(lines[0] + b"not json\n" + lines[2])
    assert any("line 2: not an anchor" in str(p) for p in _problems(keyed))
    # The tail cut cleanly back to line 1: the anchors file alone cannot tell, the anchor a job run
    # recorded earlier can.
    witness = {"n": 3, "line_sha256": anchor.line_sha256(lines[2])}
    path.write_bytes(lines[0])
    assert _problems(keyed) == []
    assert "ends at anchor 1, but anchor 3 was recorded earlier" in str(_problems(keyed, witness=witness)[0])
    path.unlink()  # and deleted altogether while the key exists
    assert "is missing though the key exists" in str(_problems(keyed)[0])


def test_nightly_job_anchors_a_clean_head_and_fails_on_truncation(keyed):
    _more(keyed, 6, 2)
    result = tasks.verify_evidence(keyed)
    assert result.detail["last_anchored"]["seq"] == 5 and result.detail["anchor"]["seq"] == 7
    with db.session_scope(keyed) as session:
        session.execute(delete(Evidence).where(Evidence.seq == 7))
    with pytest.raises(tasks.TaskFailed, match="records seq 7..7 are missing"):
        tasks.verify_evidence(keyed)


def test_export_carries_the_signed_anchor_that_covers_the_record(keyed, tmp_path):
    with db.session_scope(keyed) as session:
        pv = make_page_version(session, 20)
        ev = record_fetch(session, keyed, pv.id, make_fetch(20))
        hit_id, seq = make_page_hit(session, pv).id, ev.seq
    folder = export_hit(keyed, hit_id, tmp_path / "out")  # seq 6 is not anchored yet: the export anchors it
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    a = manifest["anchor"]
    assert a["seq"] >= seq and {"anchor.jsonl", "anchor_public_key.pem", "chain_to_anchor.jsonl"} <= {
        f["name"] for f in manifest["files"]
    }
    # Checkable with the package alone: the signature, and the records from this one to the head.
    line = json.loads((folder / "anchor.jsonl").read_text())
    key = load_pem_public_key((folder / "anchor_public_key.pem").read_bytes())
    fields = {k: line[k] for k in line if k != "sig"}
    message = (
        b"wangxun-evidence-anchor/1\n"
        + json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )
    key.verify(base64.b64decode(line["sig"]), message)  # raises if it does not match
    path = [json.loads(x) for x in (folder / "chain_to_anchor.jsonl").read_text().splitlines()]
    assert path[0]["record"]["seq"] == seq and path[-1]["record_hash"] == line["head"]
    for before, item in zip([None, *path], path, strict=False):
        canonical = json.dumps(item["record"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(canonical.encode()).hexdigest() == item["record_hash"]
        if before is not None:
            assert item["record"]["prev_hash"] == before["record_hash"]
    assert "号锚点覆盖" in (folder / "summary.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(folder.with_name(folder.name + ".zip")) as zf:
        assert f"{folder.name}/anchor.jsonl" in zf.namelist()


# ---------------------------------------------------------------- the key


def test_key_inside_data_dir_is_refused_in_one_line(cfg):
    inside = with_overrides(cfg, {"evidence.anchor_key_file": str(cfg.data_dir / "anchor.key")})
    with pytest.raises(anchor.AnchorError, match="inside data_dir"):
        anchor.generate_key(inside)
    with pytest.raises(anchor.AnchorError, match="inside data_dir"):
        anchor.load_signing_key(inside)


def test_missing_unreadable_or_wrong_key_is_one_clear_line(cfg, tmp_path):
    with pytest.raises(anchor.AnchorError, match=r"no evidence anchor key at .* run `wangxun evidence keygen`"):
        anchor.load_signing_key(cfg)
    record_chain(cfg, 1)
    report = verify(cfg, progress=False)  # no key, no anchors: a warning, not a failure
    assert report.ok and "not anchored" in report.anchor_note
    folder = tmp_path / "a-directory"
    folder.mkdir()
    with pytest.raises(anchor.AnchorError, match="cannot be read"):
        anchor.load_signing_key(with_overrides(cfg, {"evidence.anchor_key_file": str(folder)}))
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    with pytest.raises(anchor.AnchorError, match="not an Ed25519 private key"):
        anchor.load_signing_key(with_overrides(cfg, {"evidence.anchor_key_file": str(garbage)}))
    anchor.generate_key(cfg)
    with pytest.raises(anchor.AnchorError, match="already exists"):
        anchor.generate_key(cfg)


def test_keygen_and_verify_on_the_command_line(cfg, monkeypatch, capsys):
    monkeypatch.setenv("WANGXUN_CORE__DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("WANGXUN_CORE__DATABASE_URL", "")
    monkeypatch.setenv("WANGXUN_EVIDENCE__ANCHOR_KEY_FILE", cfg.evidence.anchor_key_file)
    record_chain(cfg, 3)

    def run(argv):
        try:
            main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    assert run(["evidence", "keygen"]) == 0
    out = capsys.readouterr().out
    assert "anchor key" in out and "anchored: head seq 3" in out
    assert run(["evidence", "verify"]) == 0
    assert "1 anchor(s), the last at seq 3" in capsys.readouterr().out
    with db.session_scope(cfg) as session:
        session.execute(delete(Evidence).where(Evidence.seq == 3))
    assert run(["evidence", "verify"]) == 1
    captured = capsys.readouterr()
    assert "record seq 3: anchor: records seq 3..3 are missing" in captured.out
    assert "Traceback" not in captured.err
    monkeypatch.setenv("WANGXUN_EVIDENCE__ANCHOR_KEY_FILE", str(cfg.data_dir / "k.key"))
    assert run(["evidence", "keygen"]) == 1
    err = capsys.readouterr().err
    assert "inside data_dir" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_crawl_anchors_the_head_when_it_ends(tmp_path):
    from tests.conftest import make_config
    from tests.security.test_crawler_egress import Site, _crawl, _page

    cfg = make_config(tmp_path)  # the key path the crawl below is given too (tmp_path/keys)
    anchor.generate_key(cfg)
    site = Site({"/a": _page([])})
    try:
        summary, err, _left = _crawl(
            tmp_path,
            {
                "name": "anchored",
                "kind": "generic",
                "platform": "web",
                "start_urls": [f"http://127.0.0.1:{site.port}/a"],
                "selectors": {"title": "h1"},
                "download_delay": 0.0,
                "private_addresses": [f"127.0.0.1:{site.port}"],
            },
        )
    finally:
        site.close()
    assert summary["anchor"]["n"] == 1 and summary["anchor"]["new"], err[-2000:]
    assert json.loads(anchor.anchors_path(cfg).read_text())["reason"] == "crawl:anchored"
    db.dispose(cfg)
