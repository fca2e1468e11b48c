"""Fetching the objects a request names: 404 if missing, 403 outside the zone (audited), for the object
in the URL (load_venue, load_hit) and for every id a write request carries (body_refs).

body_refs is the one place where ids in a request body become objects. It runs before every write
(check_body_refs, registered app-wide) and walks the form fields, the JSON body at any depth and the
query string; every field named `id`, `ids`, `*_id` or `*_ids` must be one that webmap.zones.REFERENCES
knows (each id is loaded and its zone checked) or one NOT_REFERENCES declares, and anything else is
refused with 400. A view reads the checked objects back with body_refs().one("venue_id").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, current_app, g, render_template, request

from webmap import audit, zones
from webmap.dbsession import get_session
from webmap.i18n import gettext as _
from webmap.services import hits as hit_service
from webmap.services import venues as venue_service

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MAX_IDS = 1000  # ids one request may name
MAX_DEPTH = 20  # nesting of a JSON body that is walked
ID_MAX = 2**63 - 1  # the database's integer range


def load_venue(venue_id: int, action: str = "view"):
    v = venue_service.get_venue(get_session(), venue_id)
    if v is None:
        abort(404)
    zones.require_venue(v)
    if action:
        audit.record(action, "venue", v.id, via=request.endpoint)
    return v


def load_hit(hit_id: int, action: str = "view"):
    h = hit_service.get_hit(get_session(), hit_id)
    if h is None:
        abort(404)
    zones.require_hit(h)
    if action:
        audit.record(action, "hit", h.id, via=request.endpoint)
    return h


# ---------------------------------------------------------------- ids carried by a request


@dataclass
class BodyRefs:
    """The zone-checked objects a write request names, by field (`venue_ids` lists under `venue_id`)."""

    objects: dict[str, list] = field(default_factory=dict)

    def one(self, name: str):
        """The object the field names, None when the request does not carry it; 400 for several."""
        found = self.objects.get(name, [])
        if len(found) > 1:
            _bad(_("字段 %(name)s 只能有一个编号", name=name))
        return found[0] if found else None

    def all(self, name: str) -> list:
        return list(self.objects.get(name, []))


def check_body_refs() -> None:
    """before_request for the whole app: every id a write carries is parsed, loaded and zone-checked
    before the view runs. Anonymous requests are left to the views (401 or the login page)."""
    if request.method not in WRITE_METHODS or request.endpoint is None:
        return
    from webmap.auth import current_user

    if current_user() is None:
        return
    body_refs()


def body_refs() -> BodyRefs:
    """The checked objects of this request's id fields (parsed once per request)."""
    cached = g.get("_body_refs")
    if cached is not None:
        return cached
    s = get_session()
    refs = BodyRefs()
    named = _id_fields()
    if sum(len(v) for _, v in named) > MAX_IDS:
        _bad(_("一次请求最多引用 %(n)s 个编号", n=MAX_IDS))
    for name, raw_values in named:
        key = _canonical(name)
        ref = zones.REFERENCES.get(key)
        if ref is None:
            if key in zones.NOT_REFERENCES:
                continue
            _bad(_("不认识的编号字段 %(name)s", name=name))
        for raw in raw_values:
            object_id = _parse_id(name, raw)
            if object_id is None:
                continue
            obj = s.get(ref.model, object_id)
            if obj is None:
                abort(404)
            ref.require(obj, via=request.endpoint, field=name)
            refs.objects.setdefault(key, []).append(obj)
    g._body_refs = refs
    return refs


def _canonical(name: str) -> str:
    """venue_ids and Venue_ID name what venue_id names."""
    key = name.lower()
    return key[:-1] if key.endswith("_ids") else key


def _is_id_field(name: str) -> bool:
    key = name.lower()
    return key in ("id", "ids") or key.endswith("_id") or key.endswith("_ids")


def _id_fields() -> list[tuple[str, list]]:
    """(field name, raw values) of every id field in the query string, the form and the JSON body."""
    out: list[tuple[str, list]] = []
    for source in (request.args, request.form):
        for name in source:
            if _is_id_field(name):
                values = []
                for v in source.getlist(name):
                    values += v.split(",") if name.lower().endswith("_ids") else [v]
                out.append((name, values))
    if request.is_json:
        body = request.get_json(silent=True)
        if body is not None:
            _walk_json(body, out, 0)
    return out


def _walk_json(value, out: list, depth: int) -> None:
    if depth > MAX_DEPTH:
        _bad(_("请求内容嵌套过深"))
    if isinstance(value, dict):
        for name, inner in value.items():
            if isinstance(name, str) and _is_id_field(name):
                out.append((name, inner if isinstance(inner, list) else [inner]))
            elif isinstance(inner, (dict, list)):
                _walk_json(inner, out, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _walk_json(inner, out, depth + 1)


def _parse_id(name: str, raw) -> int | None:
    """A whole number in the database's range; empty means the field is not given."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        _bad(_("字段 %(name)s 不是编号", name=name))
    text = raw.strip() if isinstance(raw, str) else str(raw)
    if not text.isascii() or not text.isdigit():
        _bad(_("字段 %(name)s 不是编号：%(value)s", name=name, value=repr(str(raw)[:40])))
    value = int(text)
    if not 0 < value <= ID_MAX:
        _bad(_("字段 %(name)s 超出编号范围", name=name))
    return value


def _bad(message: str) -> None:
    """400 with one line: JSON for the API, the error page for forms."""
    if request.path.startswith("/api/") or request.is_json:
        from webmap.services.clues import to_json

        abort(current_app.response_class(to_json({"error": message}), status=400, mimetype="application/json"))
    abort(current_app.response_class(render_template("error.html", code=400, message=message), status=400))
