"""Everything an export needs about one hit, loaded and checked: the hit, its page, the newest
evidence record of its page version and that record's files, each verified against its hash."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Config
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Clue, Evidence, Hit, Page, PageVersion
from evidence import chain, store
from evidence.verify import check_record


@dataclasses.dataclass
class Bundle:
    hit: Hit
    page_version: PageVersion | None
    page: Page | None
    evidence: Evidence
    case_no: str | None
    headers: dict[str, Any]
    body: bytes
    text: bytes
    screenshot: bytes | None

    def hash_summary(self) -> dict[str, Any]:
        """The chain record as hashed, plus its hash: what the WARC metadata and manifest carry."""
        return {
            "chain_record": chain.chain_fields(self.evidence),
            "record_hash": self.evidence.record_hash,
            "evidence_id": self.evidence.id,
        }


def load_bundle(session: Session, cfg: Config, hit_id: int) -> Bundle:
    """The hit's evidence, or UserError when the hit, its evidence or a check is missing/failing."""
    hit = session.get(Hit, hit_id)
    if hit is None:
        raise UserError(f"hit {hit_id} does not exist")
    ev = None
    if hit.page_version_id is not None:
        ev = session.scalars(
            select(Evidence)
            .where(Evidence.page_version_id == hit.page_version_id)
            .order_by(Evidence.seq.desc())
            .limit(1)
        ).first()
    if ev is None:
        raise UserError(Msg(N_("发现 #%(id)s 没有固定的证据，无可导出"), id=hit_id))
    _check_before_export(session, cfg, ev)
    pv = session.get(PageVersion, hit.page_version_id)
    files = {role: store.read_verified(cfg, ref) for role, ref in ev.files.items()}
    return Bundle(
        hit=hit,
        page_version=pv,
        page=session.get(Page, pv.page_id) if pv else None,
        evidence=ev,
        case_no=_case_no(session, hit.id),
        headers=json.loads(files["headers"]),
        body=files["body"],
        text=files["text"],
        screenshot=files.get("screenshot"),
    )


def _check_before_export(session: Session, cfg: Config, ev: Evidence) -> None:
    # A package must never carry evidence that fails its own chain record or link.
    prev = session.scalars(select(Evidence).where(Evidence.seq == ev.seq - 1)).first()
    prev_seq, prev_hash = (prev.seq, prev.record_hash) if prev else (0, chain.GENESIS_HASH)
    problems = check_record(cfg, ev, prev_seq, prev_hash)
    if problems:
        if len(problems) == 1:
            raise UserError(Msg(N_("证据核验未通过，未导出：%(problem)s"), problem=str(problems[0])))
        raise UserError(
            Msg(
                N_("证据核验未通过，未导出：%(problem)s（另有 %(more)s 处问题，请运行 wangxun evidence verify）"),
                problem=str(problems[0]),
                more=len(problems) - 1,
            )
        )


def _case_no(session: Session, hit_id: int) -> str | None:
    return session.scalars(
        select(Clue.case_no).where(Clue.hit_id == hit_id, Clue.case_no.is_not(None)).order_by(Clue.id.desc()).limit(1)
    ).first()
