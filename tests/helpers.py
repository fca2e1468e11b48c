"""Plain builders for records (Aleph-style factories without an ORM factory library)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from itertools import count

from shapely.geometry import box, mapping
from sqlalchemy import func, select

from core.models import (
    Agency,
    Clue,
    GradingRun,
    Grid,
    Hit,
    Inspection,
    Inspector,
    JobRun,
    Page,
    PageVersion,
    SavedSearch,
    SpotCheckDraw,
    SpotCheckItem,
    User,
    UserGrid,
    Venue,
    VenueGrade,
)

_ids = count(1)


def _id(row_or_id) -> int:
    """Builders take a row or its id (fixtures often keep only ids across sessions)."""
    return row_or_id if isinstance(row_or_id, int) else row_or_id.id


def make_grid(
    session,
    code=None,
    name=None,
    bounds=(120.60, 31.30, 120.61, 31.31),
    level="grid",
    parent=None,
    manager_name="张网格",
) -> Grid:
    n = next(_ids)
    poly = box(*bounds)
    g = Grid(
        code=code or f"320508001{n:03d}",
        name=name or f"测试网格{n}",
        level=level,
        parent_id=parent.id if parent else None,
        geometry=json.dumps(mapping(poly)),
        min_lon=bounds[0],
        min_lat=bounds[1],
        max_lon=bounds[2],
        max_lat=bounds[3],
        centroid_lon=poly.centroid.x,
        centroid_lat=poly.centroid.y,
        manager_name=manager_name,
    )
    session.add(g)
    session.flush()
    return g


def make_venue(session, grid=None, name=None, category="网吧", lon=120.605, lat=31.305, **kw) -> Venue:
    n = next(_ids)
    v = Venue(
        name=name or f"测试场所{n}",
        category=category,
        licence_no=kw.pop("licence_no", f"TEST{n:06d}"),
        licence_expiry=kw.pop("licence_expiry", dt.date(2027, 12, 31)),
        address=kw.pop("address", "姑苏区测试路1号"),
        lon=lon,
        lat=lat,
        grid_id=grid.id if grid else None,
        **kw,
    )
    session.add(v)
    session.flush()
    return v


def make_agency(session, name="苏州测试国际旅行社有限公司", licence_no="L-JS-CJ00001", **kw) -> Agency:
    a = Agency(name=name, licence_no=licence_no, address=kw.pop("address", "姑苏区人民路1号"), **kw)
    session.add(a)
    session.flush()
    return a


def make_inspection(session, venue, date=dt.date(2026, 3, 1), result="未发现问题", clue=None, **kw) -> Inspection:
    """An inspection of `venue`; with `clue`, the clue's inspection, linked both ways as
    hits.clues.record_inspection links it (an open clue moves on to "inspecting"). `venue=None` with
    party_name=… and grid_id=… is a named party's inspection (no registered venue)."""
    i = Inspection(
        venue_id=_id(venue) if venue is not None else None,
        date=date,
        inspectors=kw.pop("inspectors", "王执法、李执法"),
        result=result,
        clue_id=clue.id if clue is not None else None,
        **kw,
    )
    session.add(i)
    session.flush()
    if clue is not None:
        clue.inspection_id, clue.venue_id = i.id, i.venue_id
        if clue.status == "open":
            clue.status = "inspecting"
        session.flush()
    return i


def make_inspector(session, name=None, badge_no=None, **kw) -> Inspector:
    """An enforcement officer for the 双随机 draws (grids.sample.load writes the demo's the same way)."""
    n = next(_ids)
    i = Inspector(name=name or f"执法员{n}", badge_no=badge_no or f"3205080{n:05d}", **kw)
    session.add(i)
    session.flush()
    return i


def make_user(session, username=None, role="patrol", password="secret-pass", grids=()) -> User:
    from werkzeug.security import generate_password_hash

    u = User(
        username=username or f"user{next(_ids)}",
        password_hash=generate_password_hash(password),
        display_name=username or "测试用户",
        role=role,
    )
    session.add(u)
    session.flush()
    for g in grids:
        session.add(UserGrid(user_id=u.id, grid_id=g.id))
    session.flush()
    return u


def make_hit(
    session,
    grid=None,
    venue=None,
    title=None,
    lon=None,
    lat=None,
    label="unlicensed_travel",
    text=None,
    page_version=None,
    **kw,
) -> Hit:
    """A detected hit, written the way the product writes one (hits.lifecycle: queued for the index).
    Any Hit column can be given as a keyword (status, score, platform, source, detected_at …).
    With `page_version` (see make_page_version) the hit is that version's: its page, URL, title,
    account and text."""
    from hits.lifecycle import add_hit

    n = next(_ids)
    if page_version is not None:
        pv = page_version
        kw = {"page_id": pv.page_id, "page_version_id": pv.id, "account": pv.account, **kw}
        kw.setdefault("url", session.get(Page, pv.page_id).url)
        title = title if title is not None else pv.title
        text = text if text is not None else pv.text
    title = title if title is not None else f"测试线索{n}"
    score = kw.pop("score", 0.9)
    values = {
        "url": f"https://mp.weixin.qq.com/s/test{n}",
        "source": "test",
        "platform": "wechat",
        "title": title,
        "text": text if text is not None else f"{title}，联系微信下单",
        "labels": [label] if label else [],
        "scores": {label: score} if label else {},
        "score": score,
        "reasons": [{"label": label, "code": "kw", "text": "关键词命中", "spans": [], "field": "text"}]
        if label
        else [],
        "location_name": "姑苏区" if lon is not None else None,
        "lon": lon,
        "lat": lat,
        "grid_id": grid.id if grid is not None else None,
        "venue_id": venue.id if venue is not None else None,
        "detected_at": dt.datetime(2026, 5, 1, 9, 30),
    }
    values.update(kw)
    return add_hit(session, **values)


def make_clue(session, hit, grid=None, status="open", **kw) -> Clue:
    """A clue on `hit` in `grid` (default: the hit's), as confirm_hit would leave it, without the triage
    step; the hit's status follows through the lifecycle."""
    from hits.lifecycle import change_hit

    clue = Clue(hit_id=hit.id, grid_id=grid.id if grid is not None else hit.grid_id, status=status, history=[], **kw)
    session.add(clue)
    change_hit(session, hit, status="clue")
    session.flush()
    return clue


def make_page_version(session, n: int = 1, url=None, platform="web", **kw) -> PageVersion:
    """A stored page with one version (what the crawl's page store keeps for a fetched page)."""
    page = Page(url=url or f"http://example.test/post/{n}-{next(_ids)}", source="test", platform=platform)
    session.add(page)
    session.flush()
    values = {
        "content_sha256": hashlib.sha256(str(n).encode()).hexdigest(),
        "title": f"出境游{n}",
        "account": "某某旅游",
        "text": f"港澳台团队游报名 {n}",
    }
    values.update(kw)
    pv = PageVersion(page_id=page.id, **values)
    session.add(pv)
    session.flush()
    page.latest_version_id = pv.id
    session.flush()
    return pv


def make_saved_search(session, user, query, name=None, last_hit_id=None, **kw) -> SavedSearch:
    """A saved search of `user`. Like the web form (webmap.services.search.create_saved) its alerts
    cover hits found from now on (last_hit_id = the newest hit), but the query is not checked, so a
    test can store one that no longer runs."""
    if last_hit_id is None:
        last_hit_id = session.scalar(select(func.max(Hit.id))) or 0
    ss = SavedSearch(user_id=user.id, name=name or query[:100], query=query, last_hit_id=last_hit_id, **kw)
    session.add(ss)
    session.flush()
    return ss


def make_job_run(session, job_id, status="running", pid=None, task=None, error=None, ended_at=None, **kw) -> JobRun:
    """A job's run history row as jobs.runner records it (detail: task, args, trigger, pid), for states a
    test cannot reach by running a task: a run still going in another process, a past failure."""
    detail = {"task": task or job_id.split(":", 1)[0], "args": {}, "trigger": "schedule", "pid": pid}
    detail.update(kw.pop("detail", {}))
    run = JobRun(job_id=job_id, status=status, error=error, ended_at=ended_at, detail=detail, **kw)
    session.add(run)
    session.flush()
    return run


def make_draw(
    session, venues, inspectors=None, at=dt.datetime(2026, 6, 1, 2, 0), published=True, seed="s"
) -> SpotCheckDraw:
    """A 双随机 draw of `venues` (each checked by two inspectors), as draws.draw stores one, without the
    random part: for tests about what is shown of a draw, not about drawing."""
    first, second = inspectors or (make_inspector(session), make_inspector(session))
    draw = SpotCheckDraw(at=at, seed=seed, params={}, published=published)
    session.add(draw)
    session.flush()
    for venue in venues:
        session.add(
            SpotCheckItem(draw_id=draw.id, venue_id=_id(venue), inspector1_id=first.id, inspector2_id=second.id)
        )
    session.flush()
    return draw


def make_grade(session, venue, grade="D", score=30.0, factors=None, as_of="2026-06-01") -> VenueGrade:
    """A venue's grade in a grading run of its own, with the factors behind it, as grading.grade_all
    records them."""
    run = GradingRun(params={"as_of": as_of})
    session.add(run)
    session.flush()
    row = VenueGrade(run_id=run.id, venue_id=_id(venue), score=score, grade=grade, factors=factors or {})
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- waiting and serving

WAIT_BOUND_S = 180.0  # generous: a 2-core machine running other tests


def wait_for(what: str, check, bound: float = WAIT_BOUND_S, step: float = 0.1):
    """Poll `check` until it returns something truthy and return that; fail naming `what` after
    `bound` seconds. Tests wait on state like this, never on a fixed time."""
    import time

    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"waited {bound:g} s for {what}")


@contextlib.contextmanager
def serving(app):
    """The Flask `app` on a free port of 127.0.0.1 in a thread (for Chromium tests); yields its URL."""
    import threading

    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(timeout=30)
