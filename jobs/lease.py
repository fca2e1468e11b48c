"""The scheduler lease: one scheduler runs the jobs, any number wait as hot standbys.

The running scheduler holds the row `scheduler_leases.name = "scheduler"` and renews it every third of
`[jobs] lease_seconds`. A standby (a second `wangxun jobs`, on this machine or another one sharing the
database) tries to take the row every few seconds and succeeds once the holder has not renewed it for
`lease_seconds`: after a kill -9, a crash or a lost network. Taking and renewing are each one UPDATE
whose WHERE says "still mine, or expired", so two processes can never both succeed, on SQLite or
PostgreSQL. A holder that fails to renew (the row was taken: it was too slow or cut off) stops
scheduling at once.

Times are the machines' own UTC clocks: keep them in step (NTP), and keep lease_seconds well above the
skew. Runs are made unique per job and scheduled time by the database (job_runs.scheduled_for), so
even a brief overlap of two holders cannot run a slot twice.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core import db
from core.config import Config
from core.models import SchedulerLease, utcnow

LEASE_NAME = "scheduler"


def new_holder() -> str:
    """This process's name in the lease: host, pid and a random part (a pid can be reused)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class LeaseState:
    holder: str | None
    expires_at: dt.datetime | None


class Lease:
    def __init__(self, cfg: Config, holder: str | None = None, seconds: float | None = None):
        self.cfg = cfg
        self.holder = holder or new_holder()
        self.seconds = float(seconds if seconds is not None else cfg.jobs.lease_seconds)

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; True when we hold it now."""
        now = utcnow()
        expires = now + dt.timedelta(seconds=self.seconds)
        with db.session_scope(self.cfg) as s:
            taken = s.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == LEASE_NAME,
                    or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
                )
                .values(holder=self.holder, acquired_at=now, expires_at=expires)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken:
                return True
            exists = s.scalar(select(SchedulerLease.name).where(SchedulerLease.name == LEASE_NAME))
        if exists is not None:
            return False
        try:  # the very first scheduler of this database
            with db.session_scope(self.cfg) as s:
                row = {"name": LEASE_NAME, "holder": self.holder, "acquired_at": now, "expires_at": expires}
                s.execute(insert(SchedulerLease).values(**row))
        except IntegrityError:  # another process inserted it first
            return False
        return True

    def renew(self) -> bool:
        """Extend our lease; False when it is no longer ours (then stop scheduling at once)."""
        now = utcnow()
        with db.session_scope(self.cfg) as s:
            return bool(
                s.execute(
                    update(SchedulerLease)
                    .where(
                        SchedulerLease.name == LEASE_NAME,
                        SchedulerLease.holder == self.holder,
                        SchedulerLease.expires_at >= now,
                    )
                    .values(expires_at=now + dt.timedelta(seconds=self.seconds))
                    .execution_options(synchronize_session=False)
                ).rowcount
            )

    def release(self) -> None:
        """Give the lease up on a clean stop, so a standby takes over at once instead of waiting."""
        with db.session_scope(self.cfg) as s:
            s.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder)
                .values(expires_at=utcnow() - dt.timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )


def current(cfg: Config) -> LeaseState:
    """Who holds the lease and until when (the jobs page, `wangxun jobs list`)."""
    with db.session_scope(cfg) as s:
        row = s.get(SchedulerLease, LEASE_NAME)
        return LeaseState(row.holder, row.expires_at) if row is not None else LeaseState(None, None)
