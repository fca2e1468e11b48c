"""The subject of an inspection: a registered venue, or else a named party (0008).

An online seller or an unlicensed tour operator has no venue. Such an inspection (and the case it may
lead to) is recorded against the party as known — a name, the platform account, a contact and an
address — with `venue_id` None and `grid_id` the grid it belongs to (the clue's, or the venue page's).
Grading and 双随机 draws count venue inspections only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Inspection

# Column lengths (core.models.Inspection) with the Chinese names used in messages.
PARTY_FIELDS = (
    ("name", N_("当事人名称"), 200),
    ("account", N_("平台账号"), 200),
    ("contact", N_("联系方式"), 100),
    ("address", N_("地址"), 300),
)


@dataclass(frozen=True)
class Party:
    """A named party: only the name is required."""

    name: str
    account: str | None = None
    contact: str | None = None
    address: str | None = None

    @classmethod
    def parse(cls, name=None, account=None, contact=None, address=None) -> Party:
        """From form or JSON values: trimmed, empty is None; no name or a value too long is a UserError."""
        values = {}
        for (key, label, length), raw in zip(PARTY_FIELDS, (name, account, contact, address), strict=True):
            text = str(raw).strip() if raw is not None else ""
            if len(text) > length:
                raise UserError(Msg(N_("%(field)s不能超过 %(max)s 个字"), field=Msg(label), max=length))
            values[key] = text or None
        if not values["name"]:
            raise UserError(Msg(N_("请填写当事人名称（无登记场所时必填）")))
        return cls(**values)

    def columns(self) -> dict[str, str | None]:
        """The Inspection columns that hold the party."""
        return {
            "party_name": self.name,
            "party_account": self.account,
            "party_contact": self.contact,
            "party_address": self.address,
        }


def party_of(inspection: Inspection) -> Party | None:
    """The named party of a venue-less inspection, None for a venue inspection."""
    if inspection.venue_id is not None or not inspection.party_name:
        return None
    return Party(inspection.party_name, inspection.party_account, inspection.party_contact, inspection.party_address)


def party_fields(inspection: Inspection) -> dict[str, str | None] | None:
    """party_of as a JSON-ready dict (name, account, contact, address), None for a venue inspection."""
    party = party_of(inspection)
    return asdict(party) if party is not None else None


def party_text(name: str | None, account: str | None = None) -> str:
    """How lists show a named party: the name, with the platform account in brackets."""
    name = name or "（未填写当事人）"
    return f"{name}（{account}）" if account else name
