"""Checking the whole evidence store: chain continuity, every record's hash, every stored file."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from core import db
from core.config import Config
from core.models import Evidence, Hit
from core.progress import track
from evidence import anchor, chain, store


@dataclasses.dataclass(frozen=True)
class Problem:
    seq: int
    evidence_id: int
    what: str  # the field or file that failed, e.g. "record_hash", "prev_hash", "file body"
    detail: str
    hit_id: int | None = None  # set for a hit whose evidence is gone (then seq and evidence_id are 0)

    def __str__(self) -> str:
        if self.hit_id is not None:
            return f"hit {self.hit_id}: {self.what}: {self.detail}"
        if not self.evidence_id:  # found by the anchors (evidence.anchor), not by reading a record
            return f"record seq {self.seq}: {self.what}: {self.detail}" if self.seq else f"{self.what}: {self.detail}"
        return f"record seq {self.seq} (evidence id {self.evidence_id}): {self.what}: {self.detail}"


@dataclasses.dataclass
class VerifyReport:
    checked: int = 0
    files_checked: int = 0
    head_seq: int = 0
    head_hash: str = chain.GENESIS_HASH
    problems: list[Problem] = dataclasses.field(default_factory=list)
    anchors: int = 0  # signed heads checked (evidence.anchor)
    last_anchor: dict | None = None  # the newest anchor line, parsed
    anchor_note: str = ""  # why the chain is not anchored (no key yet), else ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(cfg: Config, progress: bool = True, witness: dict | None = None) -> VerifyReport:
    """Walk the chain in seq order and report every break, then check it against its signed anchors
    (evidence.anchor: truncation and rewrites); never stops at the first problem. `witness`: an anchor
    recorded elsewhere earlier ({"n", "line_sha256"}) that the anchors file must still hold."""
    report = VerifyReport()
    with db.session_scope(cfg) as session:
        total = session.scalar(select(func.count()).select_from(Evidence)) or 0
        rows = session.scalars(select(Evidence).order_by(Evidence.seq).execution_options(yield_per=200))
        if progress:
            rows = track(rows, "核验证据链 verifying evidence", total=total)
        prev_seq, prev_hash = 0, chain.GENESIS_HASH
        for ev in rows:
            report.problems.extend(check_record(cfg, ev, prev_seq, prev_hash))
            report.checked += 1
            report.files_checked += len(ev.files) if isinstance(ev.files, dict) else 0
            prev_seq, prev_hash = ev.seq, ev.record_hash
            session.expunge(ev)  # keep memory flat on large stores
        report.head_seq, report.head_hash = prev_seq, prev_hash
        report.problems.extend(hits_without_evidence(session))
        check = anchor.verify_anchors(cfg, session, witness)
        report.anchors, report.last_anchor, report.anchor_note = len(check.anchors), check.last, check.note
        report.problems.extend(Problem(p.seq, 0, p.what, p.detail) for p in check.problems)
    return report


def hits_without_evidence(session) -> list[Problem]:
    """Hits the crawl stored with evidence (they name a page version) whose evidence record is gone:
    a deleted row is not a break in the chain when it was the newest, so the chain walk alone would
    not notice it."""
    recorded = select(Evidence.id).where(Evidence.page_version_id == Hit.page_version_id).exists()
    q = select(Hit.id, Hit.page_version_id).where(Hit.page_version_id.is_not(None), ~recorded).order_by(Hit.id)
    return [
        Problem(0, 0, "evidence", f"no evidence record for its page version {version_id}", hit_id=hit_id)
        for hit_id, version_id in session.execute(q)
    ]


def check_record(cfg: Config, ev: Evidence, prev_seq: int, prev_hash: str) -> list[Problem]:
    """The problems of one record, given the record before it in the chain."""
    found: list[Problem] = []

    def problem(what: str, detail: str) -> None:
        found.append(Problem(ev.seq, ev.id, what, detail))

    if ev.seq != prev_seq + 1:
        problem("seq", _gap(prev_seq, ev.seq))
    if ev.prev_hash != prev_hash:
        problem("prev_hash", f"{ev.prev_hash} does not match the previous record's hash {prev_hash}")
    expected = chain.record_hash(ev)
    if ev.record_hash != expected:
        problem("record_hash", f"stored {ev.record_hash}, fields hash to {expected} (a field was changed)")
    files = ev.files if isinstance(ev.files, dict) else {}
    for role, ref in sorted(files.items()):
        try:
            store.read_verified(cfg, ref if isinstance(ref, dict) else {})
        except store.StoredFileError as exc:
            problem(f"file {role}", str(exc))
    for role in ("body", "headers", "text"):
        if role not in files:
            problem(f"file {role}", "not recorded")
    return found


def _gap(prev_seq: int, seq: int) -> str:
    if seq == prev_seq + 2:
        return f"record seq {prev_seq + 1} is missing"
    if seq > prev_seq + 2:
        return f"records seq {prev_seq + 1}..{seq - 1} are missing"
    return f"seq does not follow {prev_seq}"
