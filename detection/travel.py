"""unlicensed_travel: a post that offers organised tourism and a seller the registry does not license.

Two questions, in order. Does the post sell a tour (tour words, a bundle of two or more services at one
price, a private guide) to people it solicits (sign-up, deposit, contact)? And is the seller a licensed
agency under its own name? Vocabulary answers the first; only the registry answers the second.
"""

from __future__ import annotations

import re

from detection import speech_act
from detection.keywords import Library
from detection.registry import Registry
from detection.seller import check_seller
from detection.signals import Signals, Span, combine, quote

LABEL = "unlicensed_travel"
_COMPONENT_NAMES = {
    "comp_transport": "交通",
    "comp_lodging": "住宿",
    "comp_ticket": "门票",
    "comp_guide": "导游",
    "comp_meal": "餐饮",
}
_BREAKFAST = {"早餐", "含早", "自助早餐", "双早", "单早"}
_NUM = r"[0-9一二三四五六七八九十两]{1,2}"
# "还有八个位子", "仅剩3个名额", "余2座": seats left on a departure are a sign-up, whatever the opener says.
_SEATS_LEFT = re.compile(
    r"(?:还有|还剩|仅剩|只剩|剩下?|余|空)[0-9一二三四五六七八九十两几]{1,3}\s*个?\s*(?:位子|位置|座位|空位|名额|车位|座|位)|"
    r"[0-9一二三四五六七八九十两]{1,2}\s*人(?:起|起订|成行|发团)|(?:最少|至少|满)[0-9一二三四五六七八九十两]{1,2}\s*人"
)
# A scenic area, museum or park selling its own tickets, boats and guided talks is not a travel agency.
_VENUE_SELLER = re.compile(
    r"景区|风景区|名胜|博物馆|博物院|纪念馆|纪念堂|美术馆|艺术馆|展览馆|科技馆|文化馆|故居|遗址|书院|"
    r"公园|管理处|管委会|度假区|乐园|游客中心|游船公司|索道公司"
)
# "高铁票400，住宿300，门票380": each service with its own price is an account of costs, not one price.
_OWN_PRICE_AFTER = re.compile(
    r"[^，。,;；\n+＋]{0,3}?[0-9]++(?:\.[0-9]+)?(?!\s*(?:张|晚|人|间|分钟|天|日|位|个|次|小时|公里|米|km|座|号|点|[:：]|月|年|岁|楼|层|星|钻|期|%))"
)
# "3天2晚", "五天四夜", "2晚3天", "D1…D2", "第一天…第二天": an itinerary of several days.
_ITINERARY = re.compile(
    rf"{_NUM}\s*[天日]\s*{_NUM}\s*[晚夜]|{_NUM}\s*[晚夜]\s*{_NUM}\s*[天日]|\bd(?:ay)?\s*2\b|第[二2]天"
)


def score(signals: Signals, registry: Registry, library: Library) -> float:
    """Probability-like score in [0, 1]; adds its reasons to `signals`."""
    weights = {name: c.weight for name, c in library.categories.items()}
    positives, offer, product, n_components = _offer_evidence(signals, weights)
    if not offer:
        return combine(positives) * 0.3
    act = speech_act.explain(signals, LABEL)  # a diary, a notice or a complaint is not an offer
    seller_weight = check_seller(signals, registry, LABEL)
    if seller_weight is None:  # the registry licenses this seller
        return min(0.2, combine(positives) * 0.15)
    positives.append(seller_weight)
    return combine(positives) * act * _dampening(signals, product, n_components)


def _offer_evidence(signals: Signals, weights: dict[str, float]) -> tuple[list[float], bool, bool, int]:
    """Signals that the post sells a tour: (weights, is it an offer, tour words or private guide, number of
    bundled services)."""
    product = signals.offered("tour_product") + _itinerary(signals)
    private = signals.offered("private_guide")
    components = _components(signals)
    solicit = _solicitation(signals)
    priced = (
        bool(signals.counted(signals.all("prices")))
        or signals.price is not None
        or bool(signals.offered("cost_mention"))
    )
    itemised = sum(1 for pairs in components.values() if any(_OWN_PRICE_AFTER.match(f.folded, m.end) for f, m in pairs))
    bundle = len(components) >= 2 and bool(solicit or signals.all("licences") or (priced and itemised < 2))
    positives = []
    if product:
        positives.append(weights["tour_product"])
        signals.add(LABEL, "tour_product", f"招揽组团旅游：{quote(product)}", product)
    if private:
        positives.append(weights["private_guide"])
        signals.add(LABEL, "private_guide", f"私人导游/带团：{quote(private)}", private)
    if bundle:
        positives.append(0.35 if len(components) == 2 else 0.4)
        items = [pair for pairs in components.values() for pair in pairs[:1]]
        names = "、".join(_COMPONENT_NAMES[c] for c in components)
        signals.add(LABEL, "bundle", f"打包销售{len(components)}项服务（{names}）", items)
    logistics = signals.offered("tour_logistics")
    if logistics and (product or bundle):
        positives.append(weights["tour_logistics"])
        signals.add(LABEL, "tour_logistics", f"出团安排：{quote(logistics)}", logistics)
    if solicit:
        positives.append(weights["tour_signup"])
        signals.add(LABEL, "solicitation", f"招揽报名或联系方式：{quote(solicit)}", solicit)
    guiding = not (product or private or bundle) and list(components) == ["comp_guide"] and priced and solicit
    if guiding:  # paid guiding sold by someone who is not an agency: a private guide
        positives.append(0.35)
        signals.add(
            LABEL, "guide_service", f"有偿导游讲解服务：{quote(components['comp_guide'])}", components["comp_guide"]
        )
    # A licence number shown next to a tour is a sales pitch: nobody quotes one in a diary.
    pitched = bool(solicit) or bool(signals.all("licences"))
    # A priced bundle of two or more services is an offer in itself: the registry check must run on it.
    offer = bool((product or private) and (pitched or priced)) or bundle or bool(guiding)
    return positives, offer, bool(product or private), len(components)


def _itinerary(signals: Signals) -> list:
    found = [(f, Span(m.span())) for f in signals.fields for m in _ITINERARY.finditer(f.text.lower())]
    return signals.counted(found)[:3]


def _components(signals: Signals) -> dict:
    """Bundled services; a hotel's own breakfast is part of the room, not a second service, and a room
    with meals and nothing else is a hotel package (湖景房一晚+双早+晚餐), not a tour."""
    components = signals.components()
    if set(components) == {"comp_lodging", "comp_meal"}:
        del components["comp_meal"]
    if "comp_lodging" in components and "comp_meal" in components:
        meals = [(f, m) for f, m in components["comp_meal"] if m.keyword not in _BREAKFAST]
        if meals:
            components["comp_meal"] = meals
        else:
            del components["comp_meal"]
    return components


def _solicitation(signals: Signals) -> list:
    return signals.counted(
        signals.matches("tour_signup")
        + signals.matches("contact_invite")
        + signals.all("contacts")
        + _seats_left(signals)
    )


def _seats_left(signals: Signals) -> list:
    return [(f, Span(m.span())) for f in signals.fields for m in _SEATS_LEFT.finditer(f.folded)][:3]


def _dampening(signals: Signals, product: bool, n_components: int) -> float:
    """What is offered is not a tour: training, a job, an explicit "we do not do tours", a venue's own
    tickets and guides, a single service (who speaks and how is the speech act's, see speech_act.py)."""
    factor = 1.0
    other = signals.offered("not_a_tour")
    if other:
        factor *= 0.3
        signals.add(LABEL, "not_a_tour", f"不是旅游产品（招聘，或声明不提供旅游服务）：{quote(other)}", other)
    training = signals.offered("training")
    if training and not product:  # a 导游证 camp with lodging and tickets is a tour, exam or not
        factor *= 0.3
        signals.add(LABEL, "training", f"培训或考证课程，不是旅游产品：{quote(training)}", training)
    if not product and _VENUE_SELLER.search(signals.source_name or ""):
        factor *= 0.4
        signals.add(LABEL, "venue_seller", f"景区、场馆自营的门票或讲解服务：「{signals.source_name}」")
    single = signals.offered("single_service")
    if single and not product and n_components <= 1:
        factor *= 0.4
        signals.add(LABEL, "single_service", f"单项服务：{quote(single)}", single)
    return factor
