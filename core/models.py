"""Tables shared by the packages. Coordinates are WGS-84 (EPSG:4326) everywhere in the database;
importers convert GCJ-02/BD-09 input on the way in (see grids/coords.py) and the map converts back
only when its tiles are GCJ-02.

Schema changes go through Alembic revisions in core/migrations/versions/ (never create_all in code
paths that touch a real database), so `wangxun init` can upgrade a database without losing rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from core.licences import licence_key


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


# ---------------------------------------------------------------- grids, venues, registry (0001)

# Allowed codes (levels, categories, roles, statuses, labels) and their names: core/vocabulary.py.


class Grid(Base):
    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # one of vocabulary.GRID_LEVELS (区县 → 街道/片区 → 网格)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON geometry, WGS-84
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    manager_name: Mapped[str | None] = mapped_column(String(50))
    manager_phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Grid | None] = relationship(remote_side=[id])


class Road(Base):
    """A road line for the offline base map (imported by `wangxun import-roads`; 0013). Roads are base-map
    data, not records: a new import replaces them all, and every role sees every road."""

    __tablename__ = "roads"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))  # None for an unnamed line (still drawn)
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON LineString or MultiLineString, WGS-84
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Venue(Base):
    """一户一档: one record per licensed venue."""

    __tablename__ = "venues"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)  # one of vocabulary.VENUE_CATEGORIES
    licence_no: Mapped[str | None] = mapped_column(String(64), unique=True)  # as written in the register
    # core.licences.licence_key(licence_no): what imports match on, so a licence typed in another case or
    # with another dash is the same venue (0006). Set with licence_no; None only on old duplicates (0006).
    licence_key: Mapped[str | None] = mapped_column(String(64))
    licence_expiry: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    legal_rep: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(16), default="营业")  # 营业 / 停业 / 注销
    risk_grade: Mapped[str | None] = mapped_column(String(1), index=True)  # A-D, set by grading
    risk_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    grid: Mapped[Grid | None] = relationship()
    # grid/category/grade covers the map's per-grid statistics and clusters without reading rows (0004).
    __table_args__ = (
        Index("ix_venues_lon_lat", "lon", "lat"),
        Index("ix_venues_grid_category_grade", "grid_id", "category", "risk_grade"),
        Index("uq_venues_licence_key", "licence_key", unique=True),
    )

    @validates("licence_no")
    def _keep_licence_key(self, _key, value):
        self.licence_key = licence_key(value)
        return value


class Agency(Base):
    """A licensed travel agency in the registry (旅行社业务经营许可证)."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    licence_no: Mapped[str] = mapped_column(String(64), unique=True)  # as written in the registry
    licence_key: Mapped[str | None] = mapped_column(String(64))  # as Venue.licence_key (0006)
    address: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("uq_agencies_licence_key", "licence_key", unique=True),)

    @validates("licence_no")
    def _keep_licence_key(self, _key, value):
        self.licence_key = licence_key(value)
        return value


class Inspection(Base):
    __tablename__ = "inspections"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The subject: a registered venue, or else (venue_id None, 0008) a named party — an online seller or an
    # unlicensed operator known only by name, platform account, contact and address. Such an inspection
    # belongs to grid_id, the grid of the clue (or venue page) it was recorded from; grading and 双随机 draws
    # use venue inspections only.
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True)  # set when venue_id is None
    party_name: Mapped[str | None] = mapped_column(String(200))
    party_account: Mapped[str | None] = mapped_column(String(200))  # platform and account / shop name
    party_contact: Mapped[str | None] = mapped_column(String(100))
    party_address: Mapped[str | None] = mapped_column(String(300))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    inspectors: Mapped[str] = mapped_column(String(200))  # names, "、"-separated
    result: Mapped[str] = mapped_column(String(20))  # 未发现问题 / 责令整改 / 立案查处
    violations: Mapped[str | None] = mapped_column(Text)
    penalty_yuan: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    clue_id: Mapped[int | None] = mapped_column(Integer, index=True)  # set when the clue loop drove it
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    venue: Mapped[Venue | None] = relationship()


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(16))  # one of vocabulary.ROLES
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # failed_logins and locked_until (per account) were dropped in 0007: LoginThrottle counts per account
    # and source address, so a stranger cannot lock a user out.
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The web app's language (0012): "zh_CN" (default; NULL reads the same) or "en" (webmap/i18n.py).
    locale: Mapped[str | None] = mapped_column(String(16), default="zh_CN", server_default="zh_CN")

    grids: Mapped[list[Grid]] = relationship(secondary="user_grids")


class UserGrid(Base):
    """A grid manager's zone: the grids assigned to them (a street assigns all its grids)."""

    __tablename__ = "user_grids"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True)


class WebSession(Base):
    """A login of the web app (0007). The cookie carries a random session id; this row holds only its
    SHA-256, so the server can end a session (logout, password or role change, a disabled user) and a
    copy of the database gives no usable cookie. Every web worker reads the same rows."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # for the absolute lifetime
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # for the idle lifetime
    address: Mapped[str | None] = mapped_column(String(64))  # where the login came from


class LoginThrottle(Base):
    """Wrong passwords for one username from one source address (0007), for any typed username, known or
    not, so the lockout tells nothing about which accounts exist and one address cannot lock out another."""

    __tablename__ = "login_throttle"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50))  # as typed (stripped), even when no such user exists
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row; a successful login deletes the row
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("username", "address"),)


class AuditLog(Base):
    """执法全过程记录: every view of a hit or venue, every export and every change."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str | None] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(40), index=True)  # view / export / create / update / login …
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))


# ---------------------------------------------------------------- crawl, evidence, hits (0002)


class Page(Base):
    """A URL seen by a crawl; its content lives in versions."""

    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    source: Mapped[str] = mapped_column(String(60), index=True)  # source name from the crawl config
    platform: Mapped[str] = mapped_column(String(20))  # wechat | shop | note | forum | web
    state: Mapped[str] = mapped_column(String(20), default="ok")  # ok/deleted/expired/removed/captcha/unavailable
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    latest_version_id: Mapped[int | None] = mapped_column(Integer)


class PageVersion(Base):
    """One distinct content of a page (a changed page makes a new version)."""

    __tablename__ = "page_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default="ok")
    title: Mapped[str | None] = mapped_column(Text)
    account: Mapped[str | None] = mapped_column(String(200))  # public account or shop name
    author: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    text: Mapped[str | None] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Float)
    seller_location: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # images, links, parser-specific fields
    __table_args__ = (UniqueConstraint("page_id", "content_sha256"),)


class Evidence(Base):
    """Court-ready evidence of one fetch, in an append-only hash chain (prev_hash → record_hash)."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    page_version_id: Mapped[int] = mapped_column(ForeignKey("page_versions.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))  # requested URL
    final_url: Mapped[str] = mapped_column(String(2000))  # after redirects
    status: Mapped[int] = mapped_column(Integer)
    fetched_at_utc: Mapped[dt.datetime] = mapped_column(DateTime)
    fetched_at_local: Mapped[str] = mapped_column(String(40))  # ISO with offset, e.g. +08:00
    files: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # {"body": {"path":…, "sha256":…}, "headers":…, "text":…, "screenshot":…}
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Hit(Base):
    """A page version the detectors flagged, with why and where."""

    __tablename__ = "hits"
    # The 研判台 lists open hits by score or by time (migration 0010).
    __table_args__ = (
        Index("ix_hits_status_score", "status", "score", "id"),
        Index("ix_hits_status_detected", "status", "detected_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    page_version_id: Mapped[int | None] = mapped_column(ForeignKey("page_versions.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(60), index=True)
    platform: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    account: Mapped[str | None] = mapped_column(String(200))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)  # subset of vocabulary.HIT_LABELS
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # label -> [0,1]
    score: Mapped[float] = mapped_column(Float, default=0.0, index=True)  # max over labels
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{label, code, text, spans}]
    location_name: Mapped[str | None] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)  # one of vocabulary.HIT_STATUSES
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # 64-bit SimHash of title and text (hits.neardup), so triage groups reposts; None: a hit from
    # before migration 0011 (filled in when triage first lists it).
    simhash: Mapped[int | None] = mapped_column(BigInteger)


class SearchOutbox(Base):
    """Hits waiting to be (re)indexed; rows leave only after the index confirmed them."""

    __tablename__ = "search_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(Integer, index=True)
    op: Mapped[str] = mapped_column(String(10), default="index")  # index | delete
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class SavedSearch(Base):
    """关键词监控: a saved query whose new matches become alerts."""

    __tablename__ = "saved_searches"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)
    notify_email: Mapped[str | None] = mapped_column(String(200))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_hit_id: Mapped[int] = mapped_column(Integer, default=0)  # alerts cover hits with a larger id
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"), index=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("saved_search_id", "hit_id"),)


# ---------------------------------------------------------------- jobs and the enforcement loop (0002)


class JobRun(Base):
    __tablename__ = "job_runs"
    # One run per job and scheduled time, whichever scheduler fires it (a standby that took over, two
    # that briefly both believe they lead): the database refuses the second. Runs by hand have no slot.
    __table_args__ = (Index("uq_job_runs_job_slot", "job_id", "scheduled_for", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), index=True)
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC; None for runs by hand
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running / ok / failed
    pages: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SchedulerLease(Base):
    """Which scheduler process runs the jobs (jobs.lease): the holder renews the lease; a standby on
    another machine takes it over once it has expired."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:random, unique per process start
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC


class GradingRun(Base):
    __tablename__ = "grading_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # weights and thresholds used


class VenueGrade(Base):
    __tablename__ = "venue_grades"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(1))
    factors: Mapped[dict[str, Any]] = mapped_column(JSON)  # factor -> {value, weight, points}


class Inspector(Base):
    """执法人员 pool for 双随机 draws."""

    __tablename__ = "inspectors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    badge_no: Mapped[str] = mapped_column(String(30), unique=True)  # 执法证号
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SpotCheckDraw(Base):
    """A 双随机 draw; seed plus inputs reproduce it exactly."""

    __tablename__ = "spot_check_draws"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seed: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # rates, campaign, venue and inspector ids
    published: Mapped[bool] = mapped_column(Boolean, default=False)


class SpotCheckItem(Base):
    __tablename__ = "spot_check_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("spot_check_draws.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    inspector1_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))
    inspector2_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))


class Clue(Base):
    """线索: a confirmed hit routed to a grid, followed to an inspection and an outcome."""

    __tablename__ = "clues"
    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    case_no: Mapped[str | None] = mapped_column(String(60))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{at, user, step, note}]


class Attachment(Base):
    """Files attached to an inspection (photos), stored under data_dir with their SHA-256."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
