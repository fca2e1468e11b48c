"""The attack suite (#12): every route × every method × every role, with another zone's ids in the path,
in the query string and in the body (form fields and JSON), for every id field the app knows.

Generated from the app's url_map. Who may use a route is declared once, in ACCESS
(tests/webmap/test_access_matrix.py); how a valid write looks (its body, its path values) is declared
here in WRITES. A new route without an ACCESS entry, or a new write without a WRITES entry, fails
test_every_route_is_declared. CSRF is on: every POST carries the token the pages give.

Roles and what each must get:
  anon          not logged in: 401 or a redirect to the login page, except the PUBLIC routes
                (/login, /static, and /public/* which is public by design: 双随机、一公开)
  grid manager  both grid managers, each sending the *other* zone's ids (and an unpublished draw, another
                user's saved search): 403 or 404 for every path, query and body variant; then, as a
                control, their own zone's ids must be granted, and what they read must not name the
                other zone's venue or hit
  admin, patrol district-wide: another zone's ids are theirs. Routes their role may not use (ACCESS 403)
                and the few objects that are not theirs either (an unpublished draw for patrol,
                another user's saved search) must be refused; everything else must be granted
Every refused request must leave the database (all record tables, see db_snapshot) and the attachment
files as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import select

from core import db
from core.models import Attachment, Clue, User, Venue
from grids import draws
from tests.helpers import make_inspection, make_inspector, make_saved_search
from tests.security.db_snapshot import changes, snapshot
from tests.webmap.conftest import PASSWORD, csrf_from, login
from tests.webmap.test_access_matrix import ACCESS, Access
from webmap import create_app, zones

ROLES = ("anon", "gm_own", "gm_other", "admin", "patrol")
# Every id field a request body may carry; each is sent, as another zone's id, to every write route.
ID_FIELDS = ("attachment_id", "clue_id", "draw_id", "grid_id", "hit_id", "inspection_id", "venue_id")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Reachable without logging in.
PUBLIC = {"static", "auth.login", "jobs.public_draw", "jobs.public_draw_csv"}
# Public pages list every drawn venue of a published draw, whoever asks (一公开).
NAMES_OTHER_ZONE_BY_DESIGN = {"jobs.draw", "jobs.draw_csv", "jobs.public_draw", "jobs.public_draw_csv"}
OWN = "{own}"  # a WRITES body value: the caller's own id of that field's kind
ME = "{me}"  # a WRITES body value: the caller's user name


@dataclasses.dataclass(frozen=True)
class Write:
    """A valid request to a write route: fixed path values and the body (OWN marks an own-zone id)."""

    values: dict = dataclasses.field(default_factory=dict)
    body: dict = dataclasses.field(default_factory=dict)


INSPECTION = {"date": "2026-04-01", "inspectors": "王执法、李执法", "result": "未发现问题"}
CLUE_STEPS = [
    Write({"step": "start"}, {"note": "开始核查"}),
    Write({"step": "inspection"}, {"result": "未发现问题", "venue_id": OWN}),
    Write({"step": "inspection"}, {"result": "立案查处", "subject": "party", "party_name": "某网店"}),  # no venue
    Write({"step": "close"}, {"outcome": "no_violation", "note": "查无问题"}),
]
WRITES: dict[str, list[Write]] = {
    "auth.login POST": [Write(body={"username": ME, "password": PASSWORD})],
    "auth.logout": [Write()],
    "auth.set_locale": [Write(body={"locale": "zh_CN"})],
    "venues.add_inspection": [Write(body=INSPECTION)],
    "hits.assign": [Write(body={"grid_id": OWN})],
    "hits.dismiss": [Write(body={"reason": "测试"})],
    "triage.bulk": [
        Write(body={"action": "dismiss", "reason": "测试", "hit_id": OWN}),
        Write(body={"action": "dismiss", "reason": "测试", "hit_id": OWN, "confirmed": "1"}),
    ],
    "hits.transfer": [Write(body={"authority": "杭州市文化市场综合行政执法队", "note": "卖家在杭州"})],
    "hits.confirm": [Write(body={"grid_id": OWN, "venue_id": OWN, "note": "测试"})],
    "hits.api_dismiss": [Write(body={"reason": "测试"})],
    "hits.api_transfer": [Write(body={"authority": "杭州市文化市场综合行政执法队"})],
    "hits.api_confirm": [Write(body={"grid_id": OWN, "venue_id": OWN})],
    "clues.work": CLUE_STEPS,
    "clues.api_work": CLUE_STEPS,
    "alerts.saved POST": [Write(body={"name": "测试", "query": "一日游"})],
    "alerts.delete_saved": [Write()],
    "alerts.alerts_seen": [Write()],
    "jobs.act": [Write({"action": a}, {"job_id": "none"}) for a in ("pause", "resume", "run")],
    "jobs.new_draw": [Write(body={"seed": "suite", "campaign": ""})],
    "jobs.publish": [Write()],
}


# ---------------------------------------------------------------- the world


@dataclasses.dataclass
class Zones:
    """Ids by kind: `zone1`/`zone2` hold each zone's objects; draws and saved searches are shared."""

    zone1: dict[str, int]
    zone2: dict[str, int]
    published_draw: int
    unpublished_draw: int
    saved: dict[str, int]  # username -> their saved search
    markers: dict[int, tuple[str, ...]]  # zone -> names only that zone's pages may show

    def ids(self, caller: str, foreign: bool) -> dict:
        """The ids a caller sends: its own (zone 1 for admin and patrol) or another's."""
        home = 2 if caller == "gm_other" else 1
        zone = (3 - home) if foreign else home
        base = dict(self.zone1 if zone == 1 else self.zone2)
        base["draw_id"] = self.unpublished_draw if foreign else self.published_draw
        owner = caller if caller in self.saved else "gm_own"
        other_owner = "gm_other" if owner == "gm_own" else "gm_own"
        base["ss_id"] = self.saved[other_owner if foreign else owner]
        base["me"] = caller if caller != "anon" else "nobody"
        return base


@pytest.fixture
def world(cfg, users_world) -> Zones:
    w = users_world
    zone_ids = {}
    with db.session_scope(cfg) as s:
        folder = Path(cfg.data_dir) / "attachments"
        for n, venue, clue in ((1, w.venue_own, w.clue_own), (2, w.venue_other, w.clue_other)):
            # Photos exist only through the clue loop: the clue's inspection, with a photo.
            inspection = make_inspection(s, s.get(Venue, venue), dt.date(2026, 4, 1), clue=s.get(Clue, clue))
            name = f"zone{n}.png"
            (folder / "ab").mkdir(parents=True, exist_ok=True)
            (folder / "ab" / name).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([n]) * 32)
            att = Attachment(inspection_id=inspection.id, filename=name, path=f"ab/{name}", sha256="0" * 64)
            s.add(att)
            s.flush()
            zone_ids[n] = {"inspection_id": inspection.id, "attachment_id": att.id}
        make_inspector(s), make_inspector(s)
        every = draws.DrawParams(rates={g: 1.0 for g in draws.GRADES})
        published = draws.draw(s, every, seed="published")
        draws.publish(s, published.id)
        unpublished = draws.draw(s, every, seed="unpublished")
        saved = {}
        for username in ("gm_own", "gm_other", "admin", "patrol"):
            user = s.scalar(select(User).where(User.username == username))
            saved[username] = make_saved_search(s, user, "一日游", name=f"{username}的监控").id
        world = Zones(
            zone1={
                "grid_id": w.grid_own,
                "venue_id": w.venue_own,
                "hit_id": w.hit_own,
                "clue_id": w.clue_own,
                **zone_ids[1],
            },
            zone2={
                "grid_id": w.grid_other,
                "venue_id": w.venue_other,
                "hit_id": w.hit_other,
                "clue_id": w.clue_other,
                **zone_ids[2],
            },
            published_draw=published.id,
            unpublished_draw=unpublished.id,
            saved=saved,
            markers={1: ("平江网吧", "平江路低价一日游"), 2: ("沧浪书店", "沧浪盗版教辅")},
        )
    return world


@pytest.fixture
def suite_app(cfg, world):
    # The login rate limit is per address and every client here is 127.0.0.1: it is tested in test_auth.
    return create_app({"TESTING": True, "webmap.login_ip_attempts_per_minute": 10000}, config=cfg)


# ---------------------------------------------------------------- requests


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def access(endpoint: str, method: str) -> Access | None:
    entry = ACCESS.get(f"{endpoint} {method}")
    if entry is None and endpoint in ACCESS and ACCESS[endpoint].method == method:
        entry = ACCESS[endpoint]
    return entry


def writes(endpoint: str, method: str) -> list[Write] | None:
    found = WRITES.get(f"{endpoint} {method}")
    return found if found is not None else WRITES.get(endpoint) if method in WRITE_METHODS else None


@dataclasses.dataclass
class Caller:
    role: str
    client: object
    token: str | None


def caller(app, role: str) -> Caller:
    c = app.test_client()
    if role == "anon":
        return Caller(role, c, csrf_from(c.get("/login").text))
    r = login(c, role)
    assert r.status_code == 302, f"login {role} failed: {r.status_code}"
    return Caller(role, c, csrf_from(c.get("/clues").text))


@dataclasses.dataclass(frozen=True)
class Attempt:
    how: str  # path | query | form:<field> | json:<field> | own
    url: str
    method: str
    form: dict | None = None
    json: dict | None = None


def _url(app, rule, values: dict, ids: dict[str, int]) -> str:
    args = dict(values)
    for name in rule.arguments:
        if name in ids:
            args[name] = ids[name]
        elif name == "filename":
            args[name] = "css/app.css"
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def _body(write: Write, ids: dict) -> dict:
    return {k: (ids[k] if v == OWN else ids["me"] if v == ME else v) for k, v in write.body.items()}


def attempts(app, rule, method: str, entry: Access, variant: Write, own: dict, other: dict) -> list[Attempt]:
    """Every way to point this request at another zone, then the same request with own ids."""
    path_ids = [a for a in rule.arguments if a in own]
    out = []
    if path_ids:
        out.append(Attempt("path", _url(app, rule, variant.values, {**own, **other}), method, _body(variant, own)))
    url = _url(app, rule, variant.values, own)
    body = _body(variant, own)
    if method in WRITE_METHODS:
        for field in ID_FIELDS:
            out.append(Attempt(f"form:{field}", url, method, form={**body, field: str(other[field])}))
            out.append(Attempt(f"json:{field}", url, method, json={**body, field: other[field]}))
    elif entry.zone_query:
        out.append(Attempt("query", url + ("&" if "?" in url else "?") + f"grid={other['grid_id']}", method))
    out.append(Attempt("own", url, method, form=body if method in WRITE_METHODS else None))
    return out


def send(app, who: Caller, rule, attempt: Attempt):
    if rule.endpoint.startswith("auth.") and who.role != "anon":
        who = caller(app, who.role)  # logging in or out must not end the shared session
    elif who.role == "anon" and attempt.method in WRITE_METHODS:
        who = caller(app, "anon")  # a failed login starts a new session, and with it a new token
    c = who.client
    headers = {"X-CSRFToken": who.token} if attempt.method in WRITE_METHODS else {}
    if attempt.method == "GET":
        r = c.get(attempt.url)
    elif attempt.json is not None:
        r = c.open(attempt.url, method=attempt.method, json=attempt.json, headers=headers)
    else:
        form = {**(attempt.form or {}), "csrf_token": who.token}
        r = c.open(attempt.url, method=attempt.method, data={k: str(v) for k, v in form.items()}, headers=headers)
    body = r.get_data()
    r.close()
    return r, body


# ---------------------------------------------------------------- the tests


def test_every_route_is_declared(suite_app, world):
    missing, unwritten, public = [], [], []
    for rule, method in routes(suite_app):
        entry = access(rule.endpoint, method)
        if entry is None:
            missing.append(f"{rule.endpoint} {method}")
            continue
        if method in WRITE_METHODS and writes(rule.endpoint, method) is None:
            unwritten.append(f"{rule.endpoint} {method}")
        opens_without_login = entry.anon not in (302, 401) or rule.rule.startswith("/public/")
        if opens_without_login and rule.endpoint not in PUBLIC:
            public.append(f"{rule.endpoint} {method}")
    assert missing == [], f"routes without an ACCESS entry (tests/webmap/test_access_matrix.py): {missing}"
    assert unwritten == [], f"write routes without a WRITES entry (a valid body) in this file: {unwritten}"
    assert public == [], f"routes open without login that PUBLIC does not name: {public}"
    references = set(getattr(zones, "REFERENCES", ()))  # the id fields webmap.views.loaders checks
    unsent = references - set(ID_FIELDS)
    assert unsent == set(), f"id fields the app checks but this suite never sends (add them to ID_FIELDS): {unsent}"
    assert set(ID_FIELDS) <= set(world.ids("gm_own", foreign=True)), "an id field without a foreign object"


def _run(suite_app, world, cfg, roles) -> list[str]:
    failures: list[str] = []
    for role in roles:
        who = caller(suite_app, role)
        own, other = world.ids(role, foreign=False), world.ids(role, foreign=True)
        for rule, method in routes(suite_app):
            entry = access(rule.endpoint, method)
            if entry is None or rule.endpoint == "static":
                continue
            for variant in writes(rule.endpoint, method) or [Write(dict(entry.values))]:
                tries = attempts(suite_app, rule, method, entry, variant, own, other)
                before = None
                for attempt in tries[:-1]:
                    refused = _refused(role, rule, entry, attempt)
                    if refused and before is None:
                        before = snapshot(cfg)
                    r, _ = send(suite_app, who, rule, attempt)
                    where = f"{role} {method} {attempt.url} [{attempt.how}]"
                    problem = _judge(role, rule, attempt, refused, r)
                    if problem:
                        failures.append(f"{where}: {problem}")
                    if refused:
                        diff = changes(before, snapshot(cfg))
                        if diff:
                            failures.append(f"{where}: refused, yet the database changed: {diff}")
                    else:
                        before = None  # a granted request may change things: take a new baseline
                if role.startswith("gm_"):
                    failures += _control(
                        suite_app, who, rule, entry, tries[-1], world.markers[1 if role == "gm_other" else 2]
                    )
    return failures


# Objects a district-wide role may still not touch: an unpublished draw is the admins' (#12 finding 8),
# a saved search its owner's (an admin may delete anyone's).
NOT_THEIRS = {"admin": set(), "patrol": {"ss_id", "draw_id"}}


def _refused_by_role(role: str, entry: Access) -> bool:
    return getattr(entry, "gm_own" if role.startswith("gm_") else role) == 403


def _refused(role: str, rule, entry: Access, attempt: Attempt) -> bool:
    """Whether this attempt must be refused (and so change nothing)."""
    if role == "anon":
        return rule.endpoint not in PUBLIC or (rule.rule.startswith("/public/") and attempt.how == "path")
    if role.startswith("gm_") or _refused_by_role(role, entry):
        return True
    if attempt.how == "path":
        return bool(set(rule.arguments) & NOT_THEIRS[role])
    field = attempt.how.partition(":")[2]
    return field in NOT_THEIRS[role]


def _judge(role: str, rule, attempt: Attempt, refused: bool, r) -> str | None:
    status = r.status_code
    if status >= 500:
        return f"server error {status}"
    if not refused:  # granted: whatever the request then meets (a missing job, a finished clue) is no refusal
        return None if status not in (401, 403) else f"{status}, expected the request to be granted"
    if role == "anon" and rule.endpoint not in PUBLIC:
        if status == 401 or (status == 302 and "/login" in r.headers.get("Location", "")):
            return None
        return f"{status}, expected 401 or a redirect to the login page"
    return None if status in (403, 404) else f"{status}, expected 403 or 404"


def _control(app, who: Caller, rule, entry: Access, attempt: Attempt, markers: tuple[str, ...]) -> list[str]:
    """The grid manager's own-zone request: granted (where the role may use the route), and what it reads
    names nothing of the other zone."""
    if _refused_by_role(who.role, entry) or rule.endpoint.startswith("auth."):
        return []
    r, body = send(app, who, rule, attempt)
    where = f"{who.role} {attempt.method} {attempt.url} [own ids]"
    if r.status_code in (401, 403, 404) or r.status_code >= 500:
        return [f"{where}: {r.status_code}, expected the request to be granted"]
    if attempt.method == "GET" and rule.endpoint not in NAMES_OTHER_ZONE_BY_DESIGN:
        text = body.decode("utf-8", "replace")
        try:  # JSON may carry the names as \u escapes
            text += json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
        leaked = [m for m in markers if m in text]
        if leaked:
            return [f"{where}: shows the other zone's {leaked}"]
    return []


def test_grid_managers_are_refused_another_zones_ids_everywhere(suite_app, world, cfg):
    failures = _run(suite_app, world, cfg, ("gm_own", "gm_other"))
    assert failures == [], "\n".join(failures)


def test_anonymous_callers_get_the_login_page_and_public_pages_only(suite_app, world, cfg):
    failures = _run(suite_app, world, cfg, ("anon",))
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", ["admin", "patrol"])
def test_district_roles_are_refused_only_what_is_not_theirs(suite_app, world, cfg, role):
    failures = _run(suite_app, world, cfg, (role,))
    assert failures == [], "\n".join(failures)


def test_refusals_name_the_object_in_the_audit_log(suite_app, world, cfg):
    from core.models import AuditLog

    gm = caller(suite_app, "gm_own")
    other = world.ids("gm_own", foreign=True)
    own = world.ids("gm_own", foreign=False)
    r = gm.client.post(
        f"/api/clues/{own['clue_id']}/inspection",
        json={"result": "未发现问题", "venue_id": other["venue_id"]},
        headers={"X-CSRFToken": gm.token},
    )
    assert r.status_code == 403
    assert gm.client.get(f"/clues/attachments/{other['attachment_id']}").status_code == 403
    with db.session_scope(cfg) as s:
        denied = [(a.object_type, a.object_id) for a in s.scalars(select(AuditLog).where(AuditLog.action == "denied"))]
    assert ("venue", str(other["venue_id"])) in denied
