"""Finding 15 (uploads): request bodies have a size limit, a clue photo must be a real JPEG, PNG, WebP
or GIF by its bytes (whatever its name says), and photos are served as downloads the browser may not
sniff, so an uploaded page can never run on the app's origin."""

from __future__ import annotations

import io
import struct
import zlib

from sqlalchemy import func, select

from core import db
from core.models import Attachment
from tests.webmap.conftest import csrf_from, login
from webmap import create_app

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def _png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


def _gm(app):
    c = app.test_client()
    assert login(c, "gm_own").status_code == 302
    c.csrf = csrf_from(c.get("/").text)
    return c


def _inspect(c, clue_id: int, files: list[tuple[bytes, str]], venue_id: int | None = None):
    c.post(f"/api/clues/{clue_id}/start", json={}, headers={"X-CSRFToken": c.csrf})
    return c.post(
        f"/api/clues/{clue_id}/inspection",
        data={
            "result": "未发现问题",
            "venue_id": str(venue_id),
            "photos": [(io.BytesIO(b), name) for b, name in files],
        },
        headers={"X-CSRFToken": c.csrf},
    )


def _attachments(cfg) -> int:
    with db.session_scope(cfg) as s:
        return s.scalar(select(func.count()).select_from(Attachment))


def test_a_page_named_like_a_photo_is_refused(cfg, users_world):
    app = create_app({"TESTING": True}, config=cfg)
    c = _gm(app)
    for data, name in ((HTML, "现场.jpg"), (SVG, "现场.png"), (b"\xff\xd8", "short.jpg"), (b"GIF8", "x.gif")):
        r = _inspect(c, users_world.clue_own, venue_id=users_world.venue_own, files=[(data, name)])
        assert r.status_code == 400, (name, r.status_code)
        assert "JPEG" in r.get_json()["error"]
    assert _attachments(cfg) == 0


def test_real_images_are_accepted_and_served_as_downloads(cfg, users_world):
    app = create_app({"TESTING": True}, config=cfg)
    c = _gm(app)
    r = _inspect(
        c,
        users_world.clue_own,
        venue_id=users_world.venue_own,
        files=[(JPEG, "a.jpg"), (_png(), "b.png"), (GIF, "c.gif"), (WEBP, "d.webp")],
    )
    assert r.status_code == 200, r.text
    photos = r.get_json()["photos"]
    assert len(photos) == 4
    types = []
    for p in photos:
        got = c.get(f"/clues/attachments/{p['id']}")
        assert got.status_code == 200
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Content-Disposition"].startswith("attachment")
        types.append(got.mimetype)
    assert types == ["image/jpeg", "image/png", "image/gif", "image/webp"]


def test_a_photo_named_as_another_type_is_stored_as_what_it_is(cfg, users_world):
    app = create_app({"TESTING": True}, config=cfg)
    c = _gm(app)
    r = _inspect(c, users_world.clue_own, venue_id=users_world.venue_own, files=[(_png(), "现场.jpg")])
    assert r.status_code == 200, r.text
    photo = r.get_json()["photos"][0]
    assert photo["filename"] == "现场.png"
    assert c.get(f"/clues/attachments/{photo['id']}").mimetype == "image/png"


def test_an_old_upload_that_is_not_an_image_is_served_as_plain_bytes(cfg, users_world):
    """Files stored before the check (or put there by hand) are never served as a page."""
    from hits import clues as logic
    from webmap.services.clues import attachments_dir

    with db.session_scope(cfg) as s:
        from core.models import Clue

        clue = s.get(Clue, users_world.clue_own)
        insp = logic.record_inspection(s, clue.id, _user(s, "gm_own"), "未发现问题", venue_id=users_world.venue_own)
        att = logic.save_photo(s, insp.id, "page.html.jpg", HTML, attachments_dir(cfg))
        att_id = att.id
    app = create_app({"TESTING": True}, config=cfg)
    got = _gm(app).get(f"/clues/attachments/{att_id}")
    assert got.status_code == 200
    assert got.mimetype == "application/octet-stream"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment")


def test_request_bodies_have_a_size_limit(cfg, users_world):
    app = create_app({"TESTING": True, "webmap.max_request_mb": 1}, config=cfg)
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    c = _gm(app)
    big = JPEG[:-2] + b"\x00" * (2 * 1024 * 1024) + b"\xff\xd9"
    r = _inspect(c, users_world.clue_own, venue_id=users_world.venue_own, files=[(big, "big.jpg")])
    assert r.status_code == 413
    assert "1 MB" in r.get_json()["error"]
    assert _attachments(cfg) == 0


def test_size_limit_page_is_chinese(cfg, users_world):
    app = create_app({"TESTING": True, "webmap.max_request_mb": 1}, config=cfg)
    c = _gm(app)
    r = c.post(
        f"/clues/{users_world.clue_own}/inspection",
        data={"csrf_token": c.csrf, "result": "未发现问题", "photos": (io.BytesIO(b"\x00" * (2 << 20)), "x.jpg")},
    )
    assert r.status_code == 413 and "上传的内容过大" in r.text


def _user(s, username):
    from core.models import User

    return s.scalar(select(User).where(User.username == username))
