"""Plain builders for records (Aleph-style factories without an ORM factory library)."""

from __future__ import annotations

import datetime as dt
import json
from itertools import count

from shapely.geometry import box, mapping

from core.models import Agency, Grid, Inspection, User, UserGrid, Venue

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
