"""Everything the scorers look at in one post, computed once: keyword matches and extracted
identifiers per field, and helpers that turn them into reasons with highlight spans."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from detection import extract_ids, extract_text
from detection.keywords import Match, Matcher
from detection.normalize import fold

FIELDS = ("title", "text")
# Component words preceded by these are excluded from the bundle ("不含住宿", "不当导游", "不做景点包车").
_NEGATED_BEFORE = re.compile(
    r"(?:不含|不包含|不包括|自理|自费|需自购|另付|自行|没有|无需|不需要|不提供|不当|不做|不带|不跑|不管|不代|不接)"
    r"[\u4e00-\u9fff]{0,3}$|不$"
)
# Piracy words in "don't buy pirated books" sentences are advice, not an offer.
_ADVICE_BEFORE = re.compile(
    r"(?:别买|不要买|不买|拒绝|抵制|远离|谨防|警惕|识别|辨别|鉴别|打击|举报|严禁|不是|绝非|并非|没有|"
    r"杜绝|小心|防止|区分|分辨|购买了|买到了?|不要向|不要找|别找|别信|不要相信|切勿|勿向|"
    r"不要跟|别跟|远离|请勿|勿购买|不要购买|拒绝购买|勿买|别买到|防范|不分享|不卖|不传播|不复印|不提供)[\u4e00-\u9fff]{0,3}$"
)
# "只接送不带玩", "不要在路边找黄牛": an offer word right after a negation, or after advice to avoid it.
_NEGATION_RIGHT_BEFORE = re.compile(
    r"(?:不|别|勿|莫|不会|不能|不提供|不负责|不含|不再|非|并非|不是|绝非|不收取?(?:任何)?|从不收取?)$|"
    r"不(?:跑|做|接|带|组织|安排|搞|提供)[\u4e00-\u9fff]{0,5}$|不包车$|"
    r"(?:不要|别|切勿|请勿|勿|谨防|不建议|千万别)[\u4e00-\u9fff]{0,5}(?:找|买|信|跟|联系|相信|理会|搭理)$"
)
# "接机送酒店": the hotel is where a transfer ends, not lodging sold.
_DROP_OFF_BEFORE = re.compile(r"(?:送到|送回|送至|接到|到达|抵达|直达|送往)$")
_DROP_OFF_SEND = re.compile(r"[送到]$")
_TRANSFER_WORDS = re.compile(r"接机|送机|接站|送站|接送|机场|车站|高铁站|火车站")
_NEGATED_AFTER = re.compile(
    r"[\u4e00-\u9fff？?，,\s]{0,3}(?:自理|自费|另付|不含|需另购|另购|另买|另外买|另行购买|另收|敬请自理|自行|官网|自己买|自己订|"
    r"自己购|不提供)"
)


@dataclass
class FieldSignals:
    name: str
    text: str
    folded: str
    matches: list[Match]
    licences: list[extract_ids.Licence]
    isbns: list[extract_ids.Isbn]
    serial_ids: list[extract_ids.SerialId]
    prices: list[extract_text.Price]
    set_counts: list[extract_text.SetCount]
    contacts: list[extract_text.Contact]
    business_names: list[extract_text.BusinessName]


class Span:
    """A span found by a scorer's own pattern, in the shape reasons expect (like the extractors')."""

    def __init__(self, span: tuple[int, int]):
        self.span = span


@dataclass
class Reason:
    label: str
    code: str
    text: str
    spans: list[list[int]]
    field: str

    def as_dict(self) -> dict:
        return {"label": self.label, "code": self.code, "text": self.text, "spans": self.spans, "field": self.field}


@dataclass
class Signals:
    fields: list[FieldSignals]
    source_name: str
    platform: str
    price: float | None
    seller_location: str
    account_subject: str = ""
    reasons: list[Reason] = field(default_factory=list)
    # The post's speech act (speech_act.SpeechAct, set by the detector): which words are the poster's own
    # offer. Anything with counts(field_name, start) -> bool; None counts every word.
    act: object | None = None
    _index: dict | None = field(default=None, repr=False)
    _offered: dict = field(default_factory=dict, repr=False)

    def matches(self, category: str) -> list[tuple[FieldSignals, Match]]:
        return list(self._by_category().get(category, ()))

    def has(self, category: str) -> bool:
        return category in self._by_category()

    def _by_category(self) -> dict[str, list[tuple[FieldSignals, Match]]]:
        if self._index is None:
            self._index = {}
            for f in self.fields:
                for m in f.matches:
                    self._index.setdefault(m.category, []).append((f, m))
        return self._index

    def offered(self, category: str) -> list[tuple[FieldSignals, Match]]:
        """Matches of `category` in the poster's own offer: not advice against it ("别买盗版"), not negated
        ("不带团"), not in quotations, warnings or complaints (see speech_act.py). Read once the act is set."""
        key = (category, id(self.act))
        if key not in self._offered:  # the scorers ask for the same categories several times
            self._offered[key] = [
                (f, m)
                for f, m in self.matches(category)
                if self.counts(f, m.start)
                and not _advice(f.folded, m)
                and not _NEGATION_RIGHT_BEFORE.search(f.folded[max(0, m.start - 9) : m.start])
            ]
        return list(self._offered[key])

    def counts(self, f: FieldSignals, start: int) -> bool:
        """Whether the words at `start` in `f` are the poster's own offer (the speech act decides)."""
        return self.act is None or self.act.counts(f.name, start)

    def counted(self, items: list[tuple[FieldSignals, object]]) -> list[tuple[FieldSignals, object]]:
        """`items` (keyword matches or extracts) that lie in the poster's own offer."""
        return [(f, i) for f, i in items if self.counts(f, i.start if isinstance(i, Match) else i.span[0])]

    def components(self) -> dict[str, list[tuple[FieldSignals, Match]]]:
        """Tour components offered (not excluded by 不含/自理): comp_transport -> up to 3 of its matches."""
        found = {}
        for category in ("comp_transport", "comp_lodging", "comp_ticket", "comp_guide", "comp_meal"):
            offered = []
            for f, m in self.matches(category):
                if not self.counts(f, m.start):
                    continue
                if not _negated(f.folded, m) and not (category == "comp_lodging" and _drop_off(f.folded, m)):
                    offered.append((f, m))
                    if len(offered) == 3:
                        break
            if offered:
                found[category] = offered
        return found

    def all(self, attribute: str) -> list[tuple[FieldSignals, object]]:
        return [(f, item) for f in self.fields for item in getattr(f, attribute)]

    def add(self, label: str, code: str, text: str, items: list[tuple[FieldSignals, object]] = ()) -> None:
        """A reason; `items` are (field, match-or-extract) pairs whose spans are highlighted."""
        by_field: dict[str, list[list[int]]] = {}
        for f, item in items:
            span = [item.start, item.end] if isinstance(item, Match) else list(item.span)
            by_field.setdefault(f.name, [])
            if span not in by_field[f.name]:
                by_field[f.name].append(span)
        if not by_field:
            self.reasons.append(Reason(label, code, text, [], "text"))
        for name, spans in by_field.items():
            self.reasons.append(Reason(label, code, text, sorted(spans), name))


def collect(post: dict, matcher: Matcher) -> Signals:
    """Signals for `post` (missing or non-string fields count as empty)."""
    fields = [_field(name, _text(post.get(name)), matcher) for name in FIELDS]
    return Signals(
        fields,
        _text(post.get("source_name")) or _text(post.get("account")),
        _text(post.get("platform")),
        _price(post.get("price")),
        _text(post.get("seller_location")),
        _text(post.get("account_subject")),
    )


def combine(weights: list[float]) -> float:
    """Noisy-OR of independent pieces of evidence, each able to make the case in part on its own."""
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - remaining


def quote(items: list[tuple[FieldSignals, object]], limit: int = 4) -> str:
    """「word」「word」 of the first distinct matched words, for reason texts; contacts appear masked."""
    words = []
    for f, item in items:
        if isinstance(item, extract_text.Contact):
            word = item.masked
        else:
            span = (item.start, item.end) if isinstance(item, Match) else item.span
            word = f.text[span[0] : span[1]]
        if word not in words:
            words.append(word)
    return "".join(f"「{w}」" for w in words[:limit])


def _field(name: str, text: str, matcher: Matcher) -> FieldSignals:
    folded = fold(text)  # once per field: every extractor works on the same folded copy
    return FieldSignals(
        name,
        text,
        folded,
        matcher.find(folded),
        extract_ids.find_licences(text, folded),
        extract_ids.find_isbns(text, folded),
        extract_ids.find_serial_ids(text, folded),
        extract_text.find_prices(text, folded),
        extract_text.find_set_counts(text, folded),
        extract_text.find_contacts(text, folded),
        extract_text.find_business_names(text, folded),
    )


def _negated(folded: str, m: Match) -> bool:
    before = folded[max(0, m.start - 8) : m.start]
    return bool(_NEGATED_BEFORE.search(before) or _NEGATED_AFTER.match(folded, m.end, m.end + 6))


def _drop_off(folded: str, m: Match) -> bool:
    before = folded[max(0, m.start - 3) : m.start]
    return bool(_DROP_OFF_BEFORE.search(before) or (_DROP_OFF_SEND.search(before) and _TRANSFER_WORDS.search(folded)))


def _advice(folded: str, m: Match) -> bool:
    return bool(_ADVICE_BEFORE.search(folded[max(0, m.start - 8) : m.start]))


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _price(value) -> float | None:
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    return price if price == price and price >= 0 else None  # NaN is not a price
