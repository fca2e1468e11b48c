"""Two officers acting on the same hit or clue at the same moment: one wins, the other is told why,
and no clue or step is recorded twice. Runs on SQLite and PostgreSQL (tests/conftest.py): on
PostgreSQL, READ COMMITTED lets both read the hit as new unless the read locks the row."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core import db
from core.errors import UserError
from core.models import Clue, Hit, User
from hits import clues
from tests.helpers import make_grid, make_hit, make_user

ROUNDS = 8


def _race(cfg, action, user_ids: list[int]) -> list[str]:
    """Run action(session, user) in one thread per user, all released at once; each outcome is
    "ok" or the UserError's message."""
    start = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def one(user_id: int) -> None:
        start.wait()
        try:
            with db.session_scope(cfg) as s:
                action(s, s.get(User, user_id))
            outcomes.append("ok")
        except UserError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=one, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_a_hit_confirmed_twice_at_once_becomes_one_clue(cfg):
    with db.session_scope(cfg) as s:
        grid = make_grid(s)
        officers = [make_user(s, role="patrol").id, make_user(s, role="admin").id]
        hits = [make_hit(s, grid=grid).id for _ in range(ROUNDS)]
    for hit_id in hits:
        outcomes = _race(cfg, lambda s, user, h=hit_id: clues.confirm_hit(s, h, user), officers)
        assert sorted(outcomes) == sorted(["ok", f"发现 #{hit_id} 已是“已转线索”，只有新发现可以转为线索"])
    with db.session_scope(cfg) as s:
        per_hit = dict(s.execute(select(Clue.hit_id, func.count()).group_by(Clue.hit_id)).all())
        assert per_hit == {h: 1 for h in hits}
        assert set(s.scalars(select(Hit.status))) == {"clue"}


def test_a_clue_closed_twice_at_once_is_closed_once(cfg):
    with db.session_scope(cfg) as s:
        grid = make_grid(s)
        officers = [make_user(s, role="patrol").id, make_user(s, role="admin").id]
        patrol = s.get(User, officers[0])
        ids = [clues.confirm_hit(s, make_hit(s, grid=grid).id, patrol).id for _ in range(ROUNDS)]
    for clue_id in ids:
        outcomes = _race(cfg, lambda s, user, c=clue_id: clues.close_clue(s, c, user, "no_violation"), officers)
        assert sorted(outcomes) == sorted(["ok", f"线索 #{clue_id} 已办结"])
    with db.session_scope(cfg) as s:
        for clue in s.scalars(select(Clue)):
            assert [step["step"] for step in clue.history] == ["confirmed", "closed"], clue.id
