"""线索管理: the loop from a detector hit to an inspection and an outcome.

    hit (new) ──dismiss_hit──▶ hit (dismissed, reason)
        ├──transfer_hit──▶ hit (transferred) + clue (closed: transferred, receiving authority)
        └──confirm_hit──▶ clue (open, routed to a grid) ──start_inspection──▶ (inspecting)
              ──record_inspection──▶ Inspection (+ photos) ──close_clue──▶ (closed: no_violation |
              corrected | case + 立案 number)

Every step appends {at, user, step, …} to Clue.history (UTC timestamps); the web layer writes the audit
log in the same transaction. Hit, clue, inspection and venue point at each other (Clue.hit_id,
Clue.inspection_id, Clue.venue_id, Inspection.clue_id, Hit.status = "clue"), and the inspection is an
ordinary Inspection row, so the next grading run counts it. Grid managers act only on clues in their
zone (NotInZone); admins and patrol staff see the whole district.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import db
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Attachment, Clue, Grid, Hit, Inspection, User, Venue, utcnow
from core.users import zone_grid_ids
from core.vocabulary import (
    AUDIT_FIELD,
    CLOSE_OUTCOMES,
    CLUE_OUTCOME,
    CLUE_STATUS,
    CLUE_STEP,
    HIT_STATUS,
    INSPECTION_RESULTS,
    ROUTED,
    name,
)
from grids import location
from grids.inspections import Party, party_fields
from hits.lifecycle import change_hit

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic")


class NotInZone(UserError):
    """The user may not act on this clue or hit: it lies outside their zone (web: HTTP 403)."""


def dismiss_hit(session: Session, hit_id: int, user: User, reason: str) -> Hit:
    """Mark a new hit as a false alarm; the reason is required so the decision can be reviewed."""
    hit = _hit(session, hit_id)
    _check_zone(session, user, hit.grid_id)
    if hit.status != "new":
        raise UserError(_not_new(hit, N_("发现 #%(id)s 已是“%(status)s”，只有新发现可以排除")))
    reason = (reason or "").strip()
    if not reason:
        raise UserError(Msg(N_("请填写排除理由")))
    change_hit(session, hit, status="dismissed", dismiss_reason=reason)
    return hit


def confirm_hit(
    session: Session,
    hit_id: int,
    user: User,
    grid_id: int | None = None,
    venue_id: int | None = None,
    note: str | None = None,
) -> Clue:
    """Turn a hit into a clue routed to a grid: the one given, else the hit's, else the grid around its point."""
    hit = _hit(session, hit_id)
    _check_zone(session, user, hit.grid_id)
    if hit.status != "new":
        raise UserError(_not_new(hit, N_("发现 #%(id)s 已是“%(status)s”，只有新发现可以转为线索")))
    how = "chosen"
    if grid_id is None:
        grid_id, how = route(session, hit)
    elif session.get(Grid, grid_id) is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的网格"), id=grid_id))
    venue_id = venue_id if venue_id is not None else hit.venue_id
    if venue_id is not None and session.get(Venue, venue_id) is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的场所"), id=venue_id))
    clue = Clue(
        hit_id=hit.id, grid_id=grid_id, venue_id=venue_id, status="open", notes=note, created_by=user.id, history=[]
    )
    session.add(clue)
    change_hit(session, hit, status="clue", grid_id=hit.grid_id if hit.grid_id is not None else grid_id)
    _step(clue, user, "confirmed", grid_id=grid_id, routed=how, venue_id=venue_id, note=note)
    session.flush()
    return clue


def transfer_hit(session: Session, hit_id: int, user: User, authority: str, note: str | None = None) -> Clue:
    """移送外地: a new hit that belongs to another authority (a seller in another city) is handed over.
    It leaves the local to-do lists (hit "transferred", its clue closed with outcome "transferred") and
    the clue's history keeps who sent it where and why, for the record of the hand-over."""
    hit = _hit(session, hit_id)
    _check_zone(session, user, hit.grid_id)
    if hit.status != "new":
        raise UserError(_not_new(hit, N_("发现 #%(id)s 已是“%(status)s”，只有新发现可以移送外地")))
    authority = (authority or "").strip()
    if not authority:
        raise UserError(Msg(N_("请填写接收单位")))
    if len(authority) > 200:
        raise UserError(Msg(N_("接收单位名称过长（最多 %(max)s 个字）"), max=200))
    note = (note or "").strip() or None
    clue = Clue(
        hit_id=hit.id, grid_id=hit.grid_id, venue_id=None, status="closed", notes=note, created_by=user.id, history=[]
    )
    clue.outcome, clue.closed_at = "transferred", utcnow()
    session.add(clue)
    change_hit(session, hit, status="transferred")
    _step(clue, user, "transferred", authority=authority, note=note)
    session.flush()
    return clue


def route(session: Session, hit: Hit) -> tuple[int, str]:
    """(grid id, how): the hit's own grid, else the grid whose polygon contains its point."""
    if hit.grid_id is not None:
        return hit.grid_id, "hit_grid"
    if hit.lon is not None and hit.lat is not None:
        grid_id = location.grid_at(session, hit.lon, hit.lat)
        if grid_id is not None:
            return grid_id, "location"
    raise UserError(Msg(N_("该发现的位置不在任何网格内，请手动选择网格")))


def start_inspection(session: Session, clue_id: int, user: User, note: str | None = None) -> Clue:
    clue = get_clue(session, clue_id, user, for_update=True)
    if clue.status != "open":
        raise UserError(
            Msg(
                N_("线索 #%(id)s 当前为“%(status)s”，只有待处理的线索可以开始核查"),
                id=clue_id,
                status=Msg(name(CLUE_STATUS, clue.status)),
            )
        )
    clue.status = "inspecting"
    _step(clue, user, "inspecting", note=note)
    session.flush()
    return clue


def record_inspection(
    session: Session,
    clue_id: int,
    user: User,
    result: str,
    violations: str | None = None,
    penalty: float | None = None,
    notes: str | None = None,
    photos: Iterable[tuple[str, bytes]] = (),
    *,
    attachments_dir: Path | None = None,
    venue_id: int | None = None,
    date: dt.date | None = None,
    inspectors: str | None = None,
    party: Party | None = None,
) -> Inspection:
    """Record the on-site inspection of a clue; photos are (filename, bytes) saved with their SHA-256.

    The subject is the venue given (else the clue's), or, with `party`, a named party without a
    registered venue: that inspection belongs to the clue's grid."""
    clue = get_clue(session, clue_id, user, for_update=True)
    if clue.status == "closed":
        raise UserError(Msg(N_("线索 #%(id)s 已办结"), id=clue_id))
    if result not in INSPECTION_RESULTS:
        raise UserError(Msg(N_("检查结果必须是：%(choices)s"), choices=join_list([Msg(r) for r in INSPECTION_RESULTS])))
    venue_id = None if party is not None else _inspection_venue(session, clue, venue_id)
    photos = list(photos)
    if photos and attachments_dir is None:
        raise ValueError("attachments_dir is required when photos are given")
    inspection = Inspection(
        venue_id=venue_id,
        date=date or utcnow().date(),
        result=result,
        inspectors=inspectors or user.display_name,
        violations=violations or None,
        penalty_yuan=float(penalty) if penalty not in (None, "") else None,
        notes=notes,
        clue_id=clue.id,
        created_by=user.id,
        **(party.columns() if party is not None else {}),
        grid_id=clue.grid_id if party is not None else None,
    )
    session.add(inspection)
    session.flush()
    saved = [save_photo(session, inspection.id, name, data, attachments_dir) for name, data in photos]
    clue.inspection_id, clue.venue_id = inspection.id, venue_id
    if clue.status == "open":
        clue.status = "inspecting"
    _step(
        clue,
        user,
        "inspected",
        inspection_id=inspection.id,
        result=result,
        party=party.name if party is not None else None,
        photos=[a.sha256 for a in saved],
        note=notes,
    )
    session.flush()
    return inspection


def close_clue(
    session: Session, clue_id: int, user: User, outcome: str, case_no: str | None = None, note: str | None = None
) -> Clue:
    """Close as no_violation, corrected (责令整改 done) or case (立案, needs the case number)."""
    clue = get_clue(session, clue_id, user, for_update=True)
    if clue.status == "closed":
        raise UserError(Msg(N_("线索 #%(id)s 已办结"), id=clue_id))
    if outcome not in CLOSE_OUTCOMES:
        choices = join_list([Msg(name(CLUE_OUTCOME, o)) for o in CLOSE_OUTCOMES])
        raise UserError(Msg(N_("办结结果必须是：%(choices)s"), choices=choices))
    case_no = (case_no or "").strip() or None
    if outcome == "case" and not case_no:
        raise UserError(Msg(N_("立案办结须填写立案号")))
    if outcome != "no_violation" and clue.inspection_id is None:
        raise UserError(Msg(N_("办结为“已整改”或“已立案”前，请先记录检查")))
    clue.status, clue.outcome, clue.case_no, clue.closed_at = "closed", outcome, case_no, utcnow()
    _step(clue, user, "closed", outcome=outcome, case_no=case_no, note=note)
    session.flush()
    return clue


def get_clue(session: Session, clue_id: int, user: User, for_update: bool = False) -> Clue:
    """The clue, if the user's zone covers its grid (NotInZone otherwise); `for_update` locks it until
    the transaction ends, for a step that checks its status and then changes it."""
    clue = db.get_for_update(session, Clue, clue_id) if for_update else session.get(Clue, clue_id)
    if clue is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的线索"), id=clue_id))
    _check_zone(session, user, clue.grid_id)
    return clue


def list_clues(session: Session, user: User, status: str | None = None, grid_id: int | None = None) -> list[Clue]:
    """Clues in the user's zone, open ones first, then newest first."""
    q = select(Clue)
    zone = zone_grid_ids(session, user)
    if zone is not None:
        q = q.where(Clue.grid_id.in_(zone))
    if status == "active":
        q = q.where(Clue.status != "closed")
    elif status:
        q = q.where(Clue.status == status)
    if grid_id is not None:
        q = q.where(Clue.grid_id == grid_id)
    return list(session.scalars(q.order_by((Clue.status == "closed"), Clue.id.desc())))


def save_photo(session: Session, inspection_id: int, filename: str, data: bytes, attachments_dir: Path) -> Attachment:
    """Store a photo content-addressed (<sha256>.<ext>) so the same file is kept once and can be verified."""
    name = Path(filename or "photo.jpg").name
    suffix = Path(name).suffix.lower()
    if suffix not in PHOTO_SUFFIXES:
        raise UserError(Msg(N_("%(name)s：照片须是 %(suffixes)s 文件"), name=name, suffixes="、".join(PHOTO_SUFFIXES)))
    if not data:
        raise UserError(Msg(N_("%(name)s 是空文件"), name=name))
    digest = hashlib.sha256(data).hexdigest()
    rel = Path(digest[:2]) / f"{digest}{suffix}"
    target = Path(attachments_dir) / rel
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    att = Attachment(inspection_id=inspection_id, filename=name, path=rel.as_posix(), sha256=digest)
    session.add(att)
    session.flush()
    return att


def clue_summary(session: Session, clue: Clue) -> dict[str, Any]:
    """A JSON-ready view of a clue with its links (hit, grid, venue, inspection, photos)."""
    hit = session.get(Hit, clue.hit_id)
    grid = session.get(Grid, clue.grid_id) if clue.grid_id else None
    venue = session.get(Venue, clue.venue_id) if clue.venue_id else None
    inspection = session.get(Inspection, clue.inspection_id) if clue.inspection_id else None
    photos = (
        list(session.scalars(select(Attachment).where(Attachment.inspection_id == clue.inspection_id)))
        if clue.inspection_id
        else []
    )
    return {
        "id": clue.id,
        "status": clue.status,
        "status_name": name(CLUE_STATUS, clue.status),
        "outcome": clue.outcome,
        "outcome_name": name(CLUE_OUTCOME, clue.outcome),
        "case_no": clue.case_no,
        "notes": clue.notes,
        "created_at": _iso(clue.created_at),
        "closed_at": _iso(clue.closed_at),
        "history": clue.history,
        # The same steps in words (Chinese), for API clients that show them.
        "history_text": [
            {"at": line["at"], "user": line["user"], "step_name": str(line["step_name"]), "text": str(line["text"])}
            for line in history_lines(session, clue)
        ],
        "hit": {
            "id": hit.id,
            "title": hit.title,
            "url": hit.url,
            "labels": hit.labels,
            "status": hit.status,
            "lon": hit.lon,
            "lat": hit.lat,
        }
        if hit
        else None,
        "grid": {"id": grid.id, "code": grid.code, "name": grid.name} if grid else None,
        "venue": {"id": venue.id, "name": venue.name, "address": venue.address, "risk_grade": venue.risk_grade}
        if venue
        else None,
        "inspection": {
            "id": inspection.id,
            "date": inspection.date.isoformat(),
            "result": inspection.result,
            "violations": inspection.violations,
            "penalty_yuan": inspection.penalty_yuan,
            "notes": inspection.notes,
            "inspectors": inspection.inspectors,
            "party": party_fields(inspection),
        }
        if inspection
        else None,
        "photos": [{"id": a.id, "filename": a.filename, "sha256": a.sha256} for a in photos],
    }


# ---------------------------------------------------------------- history in words

# Keys of a history entry that are who and when, not what.
_ENTRY_KEYS = ("at", "user", "user_id", "step")


def history_lines(session: Session, clue: Clue) -> list[dict[str, Any]]:
    """The clue's history as the pages, exports and e-mails show it: each entry's time (UTC, ISO),
    user, step name and one sentence (a Msg) naming grids and venues, how the clue was routed, the
    inspection result, the photo count and the outcome. The stored entries stay machine-readable;
    entries written by older versions (any keys) are put into words the same way."""
    entries = list(clue.history or [])
    grid_ids = {e.get(k) for e in entries for k in ("grid_id", "from_grid", "to_grid")}
    venue_ids = {e.get("venue_id") for e in entries}
    grids = _names_by_id(session, Grid, grid_ids)
    venues = _names_by_id(session, Venue, venue_ids)
    return [
        {
            "at": e.get("at"),
            "user": e.get("user") or "",
            "step": e.get("step"),
            "step_name": Msg(name(CLUE_STEP, e.get("step"))),
            "text": step_text(e, grids, venues),
        }
        for e in entries
    ]


def step_text(entry: dict[str, Any], grids: dict[int, str], venues: dict[int, str]) -> Msg:
    """One history entry's details as a sentence; `grids` and `venues` name the ids it carries."""
    parts: list[Msg] = []
    details = {k: v for k, v in entry.items() if k not in _ENTRY_KEYS and v not in (None, [], "")}
    if "grid_id" in details:
        grid = details.pop("grid_id")
        how = details.pop("routed", None)
        grid_name = grids.get(grid) or Msg(N_("编号 %(id)s"), id=grid)
        if how:
            parts.append(Msg(N_("派发至网格 %(grid)s（%(how)s）"), grid=grid_name, how=Msg(name(ROUTED, how))))
        else:
            parts.append(Msg(N_("派发至网格 %(grid)s"), grid=grid_name))
    if "venue_id" in details:
        venue = details.pop("venue_id")
        parts.append(Msg(N_("涉及场所 %(venue)s"), venue=venues.get(venue) or Msg(N_("编号 %(id)s"), id=venue)))
    if "authority" in details:
        parts.append(Msg(N_("接收单位 %(authority)s"), authority=details.pop("authority")))
    if "inspection_id" in details:
        parts.append(Msg(N_("检查记录 #%(id)s"), id=details.pop("inspection_id")))
    if "result" in details:
        parts.append(Msg(N_("检查结果：%(result)s"), result=Msg(str(details.pop("result")))))
    if "party" in details:
        parts.append(Msg(N_("被检查当事人：%(party)s"), party=details.pop("party")))
    if "photos" in details:
        photos = details.pop("photos")
        count = len(photos) if isinstance(photos, (list, tuple)) else 1
        parts.append(Msg(N_("现场照片 %(count)d 张"), count=count))
    if "outcome" in details:
        parts.append(Msg(N_("办结结果：%(outcome)s"), outcome=Msg(name(CLUE_OUTCOME, details.pop("outcome")))))
    if "case_no" in details:
        parts.append(Msg(N_("立案号 %(case_no)s"), case_no=details.pop("case_no")))
    if "note" in details:
        parts.append(Msg(N_("说明：%(note)s"), note=details.pop("note")))
    for key, value in details.items():  # a key of an older or newer version: named, never as key=value
        parts.append(Msg(N_("%(field)s：%(value)s"), field=Msg(name(AUDIT_FIELD, key)), value=_plain(value)))
    return join_parts(parts)


def join_list(items: list) -> Msg | str:
    """Names listed as one message, separated by "、" (choices in an error, several weekdays)."""
    if not items:
        return ""
    out = items[0]
    for item in items[1:]:
        out = Msg(N_("%(first)s、%(rest)s"), first=out, rest=item)
    return out


def _not_new(hit: Hit, message_id: str) -> Msg:
    return Msg(message_id, id=hit.id, status=Msg(name(HIT_STATUS, hit.status)))


def join_parts(parts: list[Msg]) -> Msg:
    """Several sentence parts as one message, separated by "；" (a translatable separator)."""
    if not parts:
        return Msg(N_("—"))  # never Msg(""): gettext's "" is the catalogue's header
    if len(parts) == 1:
        return parts[0]
    return Msg(N_("%(first)s；%(rest)s"), first=parts[0], rest=join_parts(parts[1:]))


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "，".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _names_by_id(session: Session, model, ids: set) -> dict[int, str]:
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


# ---------------------------------------------------------------- helpers


def _hit(session: Session, hit_id: int) -> Hit:
    """The hit, locked until the transaction ends: two officers triaging it at once act one after the other."""
    hit = db.get_for_update(session, Hit, hit_id)
    if hit is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的发现"), id=hit_id))
    return hit


def _check_zone(session: Session, user: User, grid_id: int | None) -> None:
    zone = zone_grid_ids(session, user)
    if zone is not None and grid_id not in zone:
        raise NotInZone(Msg(N_("不在您的网格范围内")))


def _inspection_venue(session: Session, clue: Clue, venue_id: int | None) -> int:
    venue_id = venue_id if venue_id is not None else clue.venue_id
    if venue_id is None:
        raise UserError(Msg(N_("请选择被检查的场所，或填写无登记场所的当事人")))
    if session.get(Venue, venue_id) is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的场所"), id=venue_id))
    return venue_id


def _step(clue: Clue, user: User, step: str, **detail: Any) -> None:
    # A new list, not append(): SQLAlchemy only notices a JSON column change when the value is replaced.
    entry = {"at": _iso(utcnow()), "user": user.username, "user_id": user.id, "step": step}
    entry.update({k: v for k, v in detail.items() if v not in (None, [], "")})
    clue.history = [*(clue.history or []), entry]


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds") if moment else None
