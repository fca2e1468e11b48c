"""Plain builders for records (Aleph-style factories without an ORM factory library)."""

from __future__ import annotations

import datetime as dt
import json
from itertools import count

from shapely.geometry import box, mapping

from core.models import Agency, Clue, Grid, Hit, Inspection, User, UserGrid, Venue

_ids = count(1)


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


def make_inspection(session, venue, date=dt.date(2026, 3, 1), result="未发现问题", **kw) -> Inspection:
    i = Inspection(venue_id=venue.id, date=date, inspectors=kw.pop("inspectors", "王执法、李执法"), result=result, **kw)
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
    **kw,
) -> Hit:
    """A detected hit, written the way the product writes one (hits.lifecycle: queued for the index).
    Any Hit column can be given as a keyword (status, score, platform, source, detected_at …)."""
    from hits.lifecycle import add_hit

    n = next(_ids)
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
