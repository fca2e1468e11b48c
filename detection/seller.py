"""Who sells, checked against the registry: the outcome is one reason code.

licensed_agency         the seller is a registry agency (registered name or short form), and any licence
                        it shows is its own: not a hit
licence_held_by_other   a registry licence shown by someone who is not its holder (冒用/借用/挂靠)
licence_not_in_registry a well-formed licence number the registry does not have (near misses named)
malformed_licence       a licence-like number of the wrong form, or a credit code / ICP filing shown as one
no_licence              no licence shown and the seller is not a registry agency
"""

from __future__ import annotations

import re

from detection.registry import Agency, Registry, club_or_partner, strip_decoration
from detection.signals import Signals, Span, quote

# "费用支付给阿亮个人微信", "钱转到我个人支付宝": the money goes to a person, not to the agency.
_PAID_TO_PERSON = re.compile(
    r"(?:支付|付款|付|转账|转|打款|打|交)(?:给|到|至)?[\u4e00-\u9fffa-z]{0,4}个人(?:微信|支付宝|账户|账号|卡)"
)
WEIGHTS = {
    "private_order": 0.55,
    "licence_held_by_other": 0.55,
    "licence_not_in_registry": 0.5,
    "malformed_licence": 0.5,
    "no_licence": 0.25,
}
# A 认证主体 that is a company or an institution, not a person (personal accounts show a person's name).
_ORGANISATION = re.compile(
    r"公司|旅行社|国旅|青旅|中旅|集团|中心|门市|营业部|分社|合作社|工作室|俱乐部|协会|学校|学院|局|馆|院|所|店|部|厂"
)
_NAME_PARTS = re.compile(r"[()（）【】\[\]|｜/·・\s\-—_@]+")
_KIND_TEXT = {"credit_code": "统一社会信用代码", "icp": "ICP备案号", "other": "非许可证格式的编号"}


def check_seller(signals: Signals, registry: Registry, label: str) -> float | None:
    """The evidence weight the seller adds, or None when the registry licenses the seller."""
    names = _seller_names(signals)
    own = _registry_agency(names, registry)
    licences = signals.all("licences")
    private = _private_order(signals)
    if private:  # an agency's name or staff taking orders for themselves: the agency's licence does not cover it
        signals.add(label, "private_order", f"以旅行社名义私下接单、收款，不走旅行社：{quote(private)}", private)
        outcomes = [_licence_outcome(signals, registry, [], None, f, lic, label) for f, lic in licences]
        return max([WEIGHTS["private_order"]] + [WEIGHTS[o] for o in outcomes if o])
    if not licences:
        if own:
            signals.add(label, "licensed_agency", f"发布者「{own.name}」为登记在册的旅行社（{own.licence_no}）")
            return None
        return _no_licence(signals, names, registry, label)
    outcomes = [_licence_outcome(signals, registry, names, own, f, lic, label) for f, lic in licences]
    if any(o is None for o in outcomes) and not any(o == "licence_held_by_other" for o in outcomes):
        holder = own or registry.by_licence(licences[0][1].normalized)
        signals.add(
            label, "licensed_agency", f"许可证号属发布者本人登记的旅行社「{holder.name if holder else ''}」", licences
        )
        return None
    return max(WEIGHTS[o] for o in outcomes if o)


def _licence_outcome(
    signals: Signals, registry: Registry, names: list[str], own: Agency | None, f, lic, label: str
) -> str | None:
    item = [(f, lic)]
    if lic.kind != "licence":
        signals.add(
            label, "malformed_licence", f"以{_KIND_TEXT[lic.kind]}冒充旅行社业务经营许可证：「{lic.raw}」", item
        )
        return "malformed_licence"
    holder = registry.by_licence(lic.normalized)
    if holder:
        if (own and own == holder) or any(registry.is_short_form(n, holder) for n in names):
            return None
        who = names[0] if names else "发布者"
        signals.add(
            label,
            "licence_held_by_other",
            f"许可证号{lic.normalized}登记在「{holder.name}」名下，与发布者「{who}」不符（冒用/借用/挂靠）",
            item,
        )
        return "licence_held_by_other"
    if not lic.well_formed:
        signals.add(label, "malformed_licence", f"许可证号格式不正确：「{lic.raw}」", item)
        return "malformed_licence"
    near = registry.near_licence(lic.normalized)
    hint = f"，与登记号{near.licence_no}（{near.name}）相近" if near else ""
    signals.add(label, "licence_not_in_registry", f"许可证号{lic.normalized}不在旅行社名录中{hint}", item)
    return "licence_not_in_registry"


def _private_order(signals: Signals) -> list:
    found = signals.matches("private_order")
    found += [(f, Span(m.span())) for f in signals.fields for m in _PAID_TO_PERSON.finditer(f.folded)]
    return found


def _no_licence(signals: Signals, names: list[str], registry: Registry, label: str) -> float:
    lookalike = next((m for m in (registry.match_name(n) for n in names) if m and not m.same), None)
    who = names[0] if names else "发布者"
    if lookalike:
        signals.add(label, "lookalike_name", f"「{who}」与登记旅行社「{lookalike.agency.name}」名称近似但不是同一主体")
    signals.add(label, "no_licence", f"未展示旅行社业务经营许可证，「{who}」不在旅行社名录中")
    return WEIGHTS["no_licence"]


def _seller_names(signals: Signals) -> list[str]:
    """The seller's own names: the account's 认证主体 when it is an organisation (the registered company
    behind a WeChat account is the seller, whatever the account is called), else the account or shop
    (and its bracketed parts: 小王（苏州青旅） is 苏州青旅's salesperson), else business names the text
    signs with."""
    subject = strip_decoration(signals.account_subject or "")
    if subject and _ORGANISATION.search(subject):
        return [subject]
    if signals.source_name:
        name = strip_decoration(signals.source_name)  # 淘宝·余杭青旅 -> 余杭青旅
        if club_or_partner(name):  # 北山青旅(户外分会): a club on an agency's name, not the agency
            return [name]
        parts = [p for p in _NAME_PARTS.split(name) if len(p) >= 2]
        return [name] + [p for p in parts if p != name]
    return [name.name for _, name in signals.all("business_names")][:3]


def _registry_agency(names: list[str], registry: Registry) -> Agency | None:
    for name in names:
        match = registry.match_name(name)
        if match and match.same:
            return match.agency
    return None
