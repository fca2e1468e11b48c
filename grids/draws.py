"""双随机一公开: draw venues to inspect (随机抽取检查对象) and two inspectors for each (随机选派执法人员),
then publish the list.

The share drawn depends on the venue's risk grade (`[draws] rates`; A and B are 0 unless a special
campaign's rates say otherwise). For each grade, ceil(rate × venues of that grade) venues are sampled.
Each drawn venue gets two inspectors sampled from the active pool, avoiding the pair that checked that
venue in its previous draw when the pool allows another pair.

Reproducibility: every input (venue ids per grade, inspector ids, the previous pairs, the rates) is
stored in SpotCheckDraw.params together with the seed, and the draw uses only `random.Random(seed)`
over those sorted lists. `reproduce()` re-runs from the stored inputs and compares, so anyone holding
the published seed and inputs can check the list was not hand-picked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cells import csv_text
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Inspector, SpotCheckDraw, SpotCheckItem, Venue

GRADES = ("A", "B", "C", "D")
CLOSED_VENUE_STATUS = "注销"


@dataclasses.dataclass(frozen=True)
class DrawParams:
    rates: Mapping[str, float]
    campaign: str = ""
    campaign_rates: Mapping[str, float] = dataclasses.field(default_factory=dict)
    ungraded_as: str = "C"
    categories: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> DrawParams:
        data = section.to_dict() if hasattr(section, "to_dict") else dict(section)
        return cls(
            rates={g: float(v) for g, v in dict(data["rates"]).items()},
            campaign=data.get("campaign", ""),
            campaign_rates={g: float(v) for g, v in dict(data.get("campaign_rates", {})).items()},
            ungraded_as=data.get("ungraded_as", "C"),
            categories=tuple(data.get("categories", ())),
        )

    def effective_rates(self) -> dict[str, float]:
        """The rates in force: a named campaign replaces the normal ones."""
        source = self.campaign_rates if self.campaign else self.rates
        return {g: float(source.get(g, 0.0)) for g in GRADES}


@dataclasses.dataclass
class Reproduction:
    ok: bool
    stored: list[tuple[int, int, int]]
    recomputed: list[tuple[int, int, int]]


def draw(
    session: Session, params: DrawParams | Mapping[str, Any], seed: str | None = None, as_of: dt.date | None = None
) -> SpotCheckDraw:
    """Make and store a draw; a missing seed is generated (and stored, so the draw stays reproducible)."""
    if not isinstance(params, DrawParams):
        params = DrawParams.from_config(params)
    seed = seed or secrets.token_hex(16)
    inputs = _inputs(session, params, as_of or dt.date.today())
    items = select_items(seed, inputs)
    row = SpotCheckDraw(seed=seed, params=inputs)
    session.add(row)
    session.flush()
    for venue_id, i1, i2 in items:
        session.add(SpotCheckItem(draw_id=row.id, venue_id=venue_id, inspector1_id=i1, inspector2_id=i2))
    session.flush()
    return row


def select_items(seed: str, inputs: Mapping[str, Any]) -> list[tuple[int, int, int]]:
    """The pure draw: (venue_id, inspector1_id, inspector2_id) from the seed and the stored inputs."""
    rng = random.Random(seed)
    chosen: list[int] = []
    for grade in GRADES:
        pool = sorted(inputs["venues"].get(grade, []))
        k = min(len(pool), math.ceil(float(inputs["rates"].get(grade, 0.0)) * len(pool) - 1e-9))
        if k > 0:
            chosen.extend(rng.sample(pool, k))
    inspectors = sorted(inputs["inspectors"])
    last_pairs = {int(v): tuple(p) for v, p in inputs.get("last_pairs", {}).items()}
    items = []
    for venue_id in sorted(chosen):
        i1, i2 = _pair(rng, inspectors, last_pairs.get(venue_id))
        items.append((venue_id, i1, i2))
    return items


def reproduce(session: Session, draw_id: int) -> Reproduction:
    """Re-run a stored draw from its seed and inputs and compare with what was stored."""
    row = _get(session, draw_id)
    stored = sorted(
        (i.venue_id, i.inspector1_id, i.inspector2_id)
        for i in session.scalars(select(SpotCheckItem).where(SpotCheckItem.draw_id == draw_id))
    )
    recomputed = sorted(select_items(row.seed, row.params))
    return Reproduction(ok=stored == recomputed, stored=stored, recomputed=recomputed)


def publish(session: Session, draw_id: int) -> SpotCheckDraw:
    row = _get(session, draw_id)
    row.published = True
    return row


def public_list(session: Session, draw_id: int) -> list[dict[str, Any]]:
    """The 一公开 list: drawn venues with their inspectors, in venue id order.

    The grade shown is the one the draw used (from its stored inputs), not the venue's grade today."""
    row = _get(session, draw_id)
    drawn_grade = {v: g for g, ids in row.params.get("venues", {}).items() for v in ids}
    inspector_names = {i.id: (i.name, i.badge_no) for i in session.scalars(select(Inspector))}
    rows = session.execute(
        select(SpotCheckItem, Venue)
        .join(Venue, Venue.id == SpotCheckItem.venue_id)
        .where(SpotCheckItem.draw_id == draw_id)
        .order_by(Venue.id)
    )
    out = []
    for item, venue in rows:
        n1, b1 = inspector_names.get(item.inspector1_id, ("?", ""))
        n2, b2 = inspector_names.get(item.inspector2_id, ("?", ""))
        out.append(
            {
                "venue_id": venue.id,
                "venue": venue.name,
                "category": venue.category,
                "address": venue.address or "",
                "licence_no": venue.licence_no or "",
                "grade": drawn_grade.get(venue.id, ""),
                "inspectors": f"{n1}({b1})、{n2}({b2})",
                "inspector_ids": [item.inspector1_id, item.inspector2_id],
            }
        )
    return out


def public_csv(session: Session, draw_id: int) -> str:
    """CSV of the public list with Chinese headers; UTF-8 with BOM so Excel opens it correctly."""
    header = ["序号", "检查对象", "类别", "地址", "许可证号", "风险等级", "执法人员"]
    rows = [
        [n, r["venue"], r["category"], r["address"], r["licence_no"], r["grade"], r["inspectors"]]
        for n, r in enumerate(public_list(session, draw_id), 1)
    ]
    return csv_text([header, *rows], bom=True)  # core.cells: names and addresses never run as formulas


def latest_draw(session: Session, published_only: bool = False) -> SpotCheckDraw | None:
    q = select(SpotCheckDraw).order_by(SpotCheckDraw.id.desc()).limit(1)
    if published_only:
        q = q.where(SpotCheckDraw.published.is_(True))
    return session.scalar(q)


# ---------------------------------------------------------------- helpers


def _inputs(session: Session, params: DrawParams, as_of: dt.date) -> dict[str, Any]:
    q = select(Venue.id, Venue.risk_grade).where(Venue.status != CLOSED_VENUE_STATUS).order_by(Venue.id)
    if params.categories:
        q = q.where(Venue.category.in_(params.categories))
    venues: dict[str, list[int]] = {g: [] for g in GRADES}
    for venue_id, grade in session.execute(q):
        venues[grade if grade in GRADES else params.ungraded_as].append(venue_id)
    inspectors = list(session.scalars(select(Inspector.id).where(Inspector.active.is_(True)).order_by(Inspector.id)))
    if len(inspectors) < 2:
        raise UserError(Msg(N_("双随机抽查至少需要两名在岗执法人员")))
    return {
        "as_of": as_of.isoformat(),
        "campaign": params.campaign,
        "rates": params.effective_rates(),
        "categories": list(params.categories),
        "venues": venues,
        "inspectors": inspectors,
        "last_pairs": _last_pairs(session),
    }


def _last_pairs(session: Session) -> dict[str, list[int]]:
    """venue id -> the inspector pair of its most recent draw (JSON keys are strings)."""
    pairs: dict[str, list[int]] = {}
    rows = session.execute(
        select(SpotCheckItem.venue_id, SpotCheckItem.inspector1_id, SpotCheckItem.inspector2_id).order_by(
            SpotCheckItem.draw_id, SpotCheckItem.id
        )
    )
    for venue_id, i1, i2 in rows:  # later draws overwrite earlier ones
        pairs[str(venue_id)] = sorted((i1, i2))
    return dict(sorted(pairs.items(), key=lambda kv: int(kv[0])))


def _pair(rng: random.Random, inspectors: list[int], avoid: tuple[int, ...] | None) -> tuple[int, int]:
    """Two distinct inspectors; never the avoided pair unless the pool holds no other pair."""
    first = rng.choice(inspectors)
    avoided = set(avoid or ())
    others = [i for i in inspectors if i != first and not (first in avoided and i in avoided)]
    if not others:  # a pool of exactly the previous two: repeating them is the only choice
        others = [i for i in inspectors if i != first]
    second = rng.choice(others)
    return min(first, second), max(first, second)


def _get(session: Session, draw_id: int) -> SpotCheckDraw:
    row = session.get(SpotCheckDraw, draw_id)
    if row is None:
        raise UserError(Msg(N_("没有编号为 %(id)s 的抽查"), id=draw_id))
    return row
