"""#12 finding 8 — unpublished 双随机 draws were visible to grid managers.

Until an administrator publishes it, a draw (which venues will be inspected, by whom, and the seed that
reproduces it) is the administrators' alone: its page, its CSV and its line in the list. Once
published it is public by design (双随机、一公开) at /public/draws/…, and its page under /draws too.
"""

from __future__ import annotations

from sqlalchemy import select

from core import db
from core.models import AuditLog, SpotCheckDraw
from grids import draws
from tests.helpers import make_inspector
from tests.webmap.conftest import login


def _draws(cfg, users_world) -> tuple[int, int]:
    """Two real draws of every venue (rate 1 for each grade): one unpublished, one published."""
    every = draws.DrawParams(rates={g: 1.0 for g in draws.GRADES})
    with db.session_scope(cfg) as s:
        make_inspector(s), make_inspector(s)
        hidden = draws.draw(s, every, seed="hidden-seed")
        shown = draws.draw(s, every, seed="shown-seed")
        draws.publish(s, shown.id)
        return hidden.id, shown.id


def test_unpublished_draw_is_for_admins_only(cfg, app, users_world):
    hidden, shown = _draws(cfg, users_world)
    for username in ("gm_own", "gm_other", "patrol"):
        c = app.test_client()
        login(c, username)
        assert c.get(f"/draws/{hidden}").status_code in (403, 404), username
        r = c.get(f"/draws/{hidden}.csv")
        assert r.status_code in (403, 404) and "平江网吧" not in r.get_data(as_text=True), username
        listing = c.get("/draws").text
        assert "hidden-seed" not in listing and f"/draws/{hidden}" not in listing, username
        assert "shown-seed" in listing  # published draws stay listed
        assert c.get(f"/draws/{shown}").status_code == 200
        assert c.get(f"/draws/{shown}.csv").status_code == 200
    with db.session_scope(cfg) as s:
        denied = {(a.username, a.object_type) for a in s.scalars(select(AuditLog).where(AuditLog.action == "denied"))}
    assert ("gm_own", "spot_check_draw") in denied


def test_admin_sees_and_publishes_and_the_public_sees_only_published(cfg, app, users_world):
    hidden, shown = _draws(cfg, users_world)
    anon = app.test_client()
    assert anon.get(f"/public/draws/{hidden}").status_code == 404
    assert anon.get(f"/public/draws/{hidden}.csv").status_code == 404
    assert anon.get(f"/public/draws/{shown}").status_code == 200
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/draws/{hidden}")
    assert page.status_code == 200 and "平江网吧" in page.text
    assert "平江网吧" in admin.get(f"/draws/{hidden}.csv").get_data(as_text=True)
    assert "hidden-seed" in admin.get("/draws").text
    with db.session_scope(cfg) as s:
        s.get(SpotCheckDraw, hidden).published = True
    gm = app.test_client()
    login(gm, "gm_own")
    assert gm.get(f"/draws/{hidden}").status_code == 200
    assert anon.get(f"/public/draws/{hidden}.csv").status_code == 200
