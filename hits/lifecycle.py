"""A hit's one life. Every write to a hit goes through this module: `insert_hit` when the page store
records it, `change_hit` for every later change (label, status, grid, venue, triage), `delete_hit`.
Each one queues the hit for the search index in the caller's transaction, on every database, so the
index can never miss a change that was committed, and a rolled-back change queues nothing.

Why not database triggers: they fed the outbox on SQLite only, so on PostgreSQL a confirmed,
dismissed or reassigned hit never reached Elasticsearch. Migration 0005 dropped them; this module is
now the only path, and the same code runs on every backend.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.db import StatementConnection
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Grid, Hit, SearchOutbox, Venue, utcnow
from core.vocabulary import HIT_LABELS, HIT_STATUSES
from hits import neardup

# Built once: the page store runs these for every hit, and StatementConnection compiles each
# statement object once.
_INSERT_HIT = Hit.__table__.insert()
_QUEUE = SearchOutbox.__table__.insert()
# What change_hit may set; anything else about a hit (its text, URL, evidence) is fixed at detection.
CHANGEABLE = ("labels", "status", "grid_id", "venue_id", "dismiss_reason")


def insert_hit(conn: Connection | StatementConnection, values: dict[str, Any]) -> int:
    """Insert a hit row from Core values (the crawl's page store) and queue it; returns its id.
    `values` names every column with a Python-side default (StatementConnection applies none)."""
    _check_labels(values.get("labels") or [])
    values = {**values, "simhash": values.get("simhash", neardup.simhash(values.get("title"), values.get("text")))}
    hit_id = conn.execute(_INSERT_HIT, values).inserted_primary_key[0]
    conn.execute(_QUEUE, {"hit_id": hit_id, "op": "index", "created_at": values["detected_at"], "attempts": 0})
    return hit_id


def add_hit(session: Session, **values: Any) -> Hit:
    """Insert a hit through the ORM (imports, tools, tests) and queue it; returns the flushed row."""
    _check_labels(values.get("labels") or [])
    if values.get("status", "new") not in HIT_STATUSES:
        raise UserError(Msg(N_("不认识的发现状态 %(status)r"), status=values["status"]))
    values.setdefault("simhash", neardup.simhash(values.get("title"), values.get("text")))
    hit = Hit(**values)
    session.add(hit)
    session.flush()
    _queue(session, hit.id, "index")
    return hit


def change_hit(session: Session, hit: Hit, **changes: Any) -> dict[str, tuple[Any, Any]]:
    """Apply `changes` (a subset of CHANGEABLE) to `hit`, queue it for the index when anything
    changed, and return {field: (old, new)} for the audit record. Values are checked: a status or
    label outside the vocabulary, or a grid or venue that does not exist, is a UserError."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ValueError(f"change_hit cannot set {', '.join(unknown)}")
    _check(session, changes)
    done = {}
    for field, new in changes.items():
        old = getattr(hit, field)
        if field == "labels":
            new = list(new)
        if old != new:
            setattr(hit, field, new)
            done[field] = (old, new)
    if done:
        hit.updated_at = utcnow()
        session.flush()
        _queue(session, hit.id, "index")
    return done


def delete_hit(session: Session, hit: Hit) -> None:
    """Remove a hit and queue its removal from the index."""
    hit_id = hit.id
    session.delete(hit)
    session.flush()
    _queue(session, hit_id, "delete")


def _queue(session: Session, hit_id: int, op: str) -> None:
    session.add(SearchOutbox(hit_id=hit_id, op=op, created_at=utcnow(), attempts=0))
    session.flush()


def _check(session: Session, changes: dict[str, Any]) -> None:
    if "status" in changes and changes["status"] not in HIT_STATUSES:
        raise UserError(Msg(N_("不认识的发现状态 %(status)r"), status=changes["status"]))
    if "labels" in changes:
        _check_labels(changes["labels"])
    grid_id = changes.get("grid_id")
    if grid_id is not None:
        if session.get(Grid, grid_id) is None:
            raise UserError(Msg(N_("没有编号为 %(id)s 的网格"), id=grid_id))
    venue_id = changes.get("venue_id")
    if venue_id is not None and session.get(Venue, venue_id) is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的场所"), id=venue_id))


def _check_labels(labels) -> None:
    bad = [label for label in labels if label not in HIT_LABELS]
    if bad:
        raise UserError(Msg(N_("不认识的发现类型 %(labels)s"), labels="、".join(map(repr, bad))))
