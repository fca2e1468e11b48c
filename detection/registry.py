"""The licensed travel-agency registry: licence lookup and seller-name matching.

A seller is licensed only when the registry lists a licence under the seller's own name. Names are
compared by their "core" (see data/names.toml): place prefixes, legal-form and branch suffixes dropped
and the usual short forms applied, so 苏州青旅 is 苏州中国青年旅行社有限公司 but 苏州青旅户外 is not.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from detection.extract_ids import licence_key
from detection.normalize import fold

NAME_RULES = Path(__file__).resolve().parent / "data" / "names.toml"
# Cores this short or this generic say nothing about which agency it is; keep the place in them.
_GENERIC_CORES = {"旅", "国旅", "青旅", "中旅", "旅行", "国际旅", ""}
# Trade words a brand is followed by, after short forms are applied (see data/names.toml).
_TRADE_WORDS = ("国旅", "青旅", "中旅", "旅游", "旅行", "旅")
_SEPARATORS = r"[\s·・|｜:：\-—_/]"
# Above this similarity two cores are the same name with a typo; between LOOKALIKE and SAME a look-alike.
SAME_NAME_SCORE = 92
LOOKALIKE_SCORE = 60


@dataclass(frozen=True)
class Agency:
    name: str
    licence_no: str
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    grid_id: int | None = None


@dataclass(frozen=True)
class NameMatch:
    agency: Agency
    score: float  # 0..100
    same: bool  # True: the same business; False: only a look-alike


class Registry:
    def __init__(self, agencies: list[dict] | list[Agency]):
        self.agencies = [a if isinstance(a, Agency) else _agency(a) for a in agencies]
        self.agencies = [a for a in self.agencies if a.name and a.licence_no]
        self._by_licence = {licence_key(a.licence_no): a for a in self.agencies}
        self._cores = [name_core(a.name) for a in self.agencies]
        self._matched: dict[str, NameMatch | None] = {}  # sellers post many times under one name
        self._by_core: dict[str, list[Agency]] = {}
        for agency in self.agencies:
            for core in name_cores(agency.name):
                self._by_core.setdefault(core, []).append(agency)
        self._by_brand: dict[str, list[Agency]] = {}
        for agency in self.agencies:
            brand = name_brand(agency.name)
            if brand:
                self._by_brand.setdefault(brand, []).append(agency)

    def __len__(self) -> int:
        return len(self.agencies)

    def by_licence(self, number: str) -> Agency | None:
        return self._by_licence.get(licence_key(number))

    def near_licence(self, number: str, max_distance: int = 2) -> Agency | None:
        """The registry licence one or two characters away from `number` (a near miss), if any."""
        key = licence_key(number)
        if not key or not self._by_licence:
            return None
        best = process.extractOne(key, list(self._by_licence), scorer=Levenshtein.distance, score_cutoff=max_distance)
        return self._by_licence[best[0]] if best else None

    def match_name(self, name: str) -> NameMatch | None:
        """The registry agency `name` refers to (same=True), or the closest look-alike (same=False)."""
        if name not in self._matched:
            if len(self._matched) > 10_000:
                self._matched.clear()
            self._matched[name] = self._match_name(name)
        return self._matched[name]

    def _match_name(self, name: str) -> NameMatch | None:
        cores = name_cores(name)
        core = cores[-1]
        if not core or not self.agencies:
            return None
        for candidate in reversed(cores):
            exact = self._by_core.get(candidate)
            if exact:
                return NameMatch(exact[0], 100.0, True)
        branch = _branch_parent(name)
        if branch and branch in self._by_core:
            return NameMatch(self._by_core[branch][0], 100.0, True)
        brand = _seller_brand(name)
        if brand and len(self._by_brand.get(brand, [])) == 1:  # 苏州文旅假期 for 苏州文旅假期国际旅行社
            return NameMatch(self._by_brand[brand][0], 95.0, True)
        county = self._county_dropped(core)
        if county:  # 新安江旅行社 for 杭州建德新安江旅行社: a county or district prefix left out
            return NameMatch(county, 96.0, True)
        best = process.extractOne(core, self._cores, scorer=fuzz.ratio, score_cutoff=LOOKALIKE_SCORE)
        if not best:
            return None
        agency = self.agencies[best[2]]
        # A typo is the same name; another trade word (旅游 for 旅行社) is another business.
        families = {_trade_family(core), _trade_family(self._cores[best[2]])} - {None}
        same = best[1] >= SAME_NAME_SCORE and len(core) >= 6 and len(families) <= 1
        return NameMatch(agency, best[1], same)

    def _county_dropped(self, core: str) -> Agency | None:
        """The one agency whose core is `core` behind a 2-3 character place (建德新安江旅 for 新安江旅); the
        seller's brand must have three characters of its own besides the trade word (假日旅行社 is too
        generic to be 东钱湖假日旅行社)."""
        trade = next((t for t in _TRADE_WORDS if core.endswith(t)), None)
        if not trade or len(core) - len(trade) < 3 or not re.fullmatch(r"[\u4e00-\u9fff]+", core):
            return None
        found = {
            a
            for c, agencies in self._by_core.items()
            for a in agencies
            if c.endswith(core) and 2 <= len(c) - len(core) <= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", c[: -len(core)])
        }
        return found.pop() if len(found) == 1 else None

    def is_short_form(self, name: str, agency: Agency) -> bool:
        """True when `name`, which shows `agency`'s own licence number, is `agency` under a short form:
        the registered name or an obvious short form (is_holder), or the agency's brand with or without
        a trade word (熊猫之旅, 锦城旅行社, 曲江文旅 for 成都锦城国际旅行社 …), naming no other kind of
        business (旅游有限公司, 文化传播, 俱乐部, 合作门店 are look-alikes borrowing the number)."""
        if self.is_holder(name, agency):
            return True
        if _other_business(name, agency.name):
            return False
        seller, holder = name_cores(name)[-1], name_cores(agency.name)[-1]
        if _trade_family(seller) and _trade_family(holder) and _trade_family(seller) != _trade_family(holder):
            return False  # 天一旅行社 is not 天一旅游有限公司, nor the other way round
        return bool(_brand_forms(name) & _brand_forms(agency.name))

    def is_holder(self, name: str, agency: Agency) -> bool:
        """True when `name` is `agency`'s registered name or an obvious short form of it."""
        holder_cores = set(name_cores(agency.name))
        if holder_cores & set(name_cores(name)) or _branch_parent(name) in holder_cores:
            return True
        brand = _seller_brand(name)
        if brand and brand == name_brand(agency.name):
            return True
        match = self.match_name(name)
        return bool(match and match.same and match.agency == agency)


def _other_business(name: str, agency_name: str) -> bool:
    rules = _rules()
    folded, own = fold(name or ""), fold(agency_name or "")
    words = rules["other_business_words"] + rules["club_words"] + rules["cooperation_words"]
    return any(w in folded and w not in own for w in words)


def _trade_family(core: str) -> str | None:
    """旅行社 (旅, 国旅, 青旅, 中旅, 旅行) or 旅游: the kind of business a name's trade word says it is."""
    trade = next((t for t in _TRADE_WORDS if core.endswith(t) and len(core) > len(t)), None)
    if trade is None:
        return None
    return "旅游" if trade == "旅游" else "旅行社"


def _brand_forms(name: str) -> set[str]:
    """A name's core and the core without its trade word, minus bare places: {熊猫之旅国旅, 熊猫之旅}."""
    rules = _rules()
    forms = set()
    for core in name_cores(name):
        forms.add(core)
        for trade in _TRADE_WORDS:
            if core.endswith(trade) and len(core) > len(trade):
                forms.add(core[: -len(trade)])
                break
    return {f for f in forms if len(f) >= 2 and f not in rules["place_names"] and f not in _GENERIC_CORES}


def name_core(name: str | None) -> str:
    """The comparable core of a business name (see the module docstring and data/names.toml)."""
    return name_cores(name)[-1]


@functools.lru_cache(maxsize=4096)
def name_cores(name: str | None) -> tuple[str, ...]:
    """Cores of a name from the most to the least qualified: 苏州姑苏国际旅行社 -> [苏州姑苏国旅, 姑苏国旅].
    Place prefixes are dropped one at a time, stopping before the core becomes generic (国旅, 青旅), where
    the place is what tells two agencies apart."""
    rules = _rules()
    text = strip_decoration(fold(name or "").strip())
    text = re.sub(r"[\s()（）【】\[\]·・,，.。\-]", "", text)
    text = _strip_staff_tail(text, rules)
    previous = None
    while text != previous:  # 某某旅行社有限公司苏州分公司: branch, then place, then legal form
        previous = text
        text = _strip_suffixes(text, rules["account_suffixes"])
        text = _strip_suffixes(text, rules["branch_suffixes"])
        text = _strip_trailing_place(text, rules)
        text = _strip_suffixes(text, rules["legal_suffixes"])
    text = rules["place_with_ending"].sub(lambda m: m.group(1), text)  # 江苏省国旅 -> 江苏国旅
    cores = [_apply_short_forms(text, rules)]
    while True:
        shorter = _strip_one_place(text, rules)
        core = _apply_short_forms(shorter, rules)
        if shorter == text or core in _GENERIC_CORES:
            return tuple(cores)
        text = shorter
        cores.append(core)


def strip_decoration(name: str) -> str:
    """A seller name without the marketplace it was crawled from: 淘宝·余杭青旅 -> 余杭青旅 (see data/names.toml)."""
    rules = _rules()
    m = rules["platform_pattern"].match(name)
    if m and len(name) - m.end() >= 2:
        return name[m.end() :]
    return name


def club_or_partner(name: str) -> bool:
    """True when a seller name has a club, studio or partner word (户外分会, 俱乐部, 合作, 加盟)."""
    rules = _rules()
    folded = fold(name or "")
    return any(w in folded for w in rules["club_words"] + rules["cooperation_words"])


def _strip_staff_tail(text: str, rules: dict) -> str:
    """苏州青旅小王, XX国旅客服 -> the agency's name (a staff account); 苏州青旅户外 is left alone."""
    m = rules["staff_pattern"].fullmatch(text)
    if m and m.group(2) and len(m.group(1)) >= 3:
        return m.group(1)
    return text


def name_brand(name: str | None) -> str | None:
    """The brand of an agency name: its core without the trade word (文旅假期国旅 -> 文旅假期), or None
    when nothing distinctive is left (苏州青旅 -> 苏州 is only a place)."""
    core = name_cores(name)[-1]
    for trade in _TRADE_WORDS:
        if core.endswith(trade) and len(core) > len(trade):
            brand = core[: -len(trade)]
            rules = _rules()
            if _strip_one_place(brand, rules) == brand and brand not in rules["place_names"] and len(brand) >= 2:
                return brand
            return None
    return None


def _seller_brand(name: str) -> str | None:
    """A seller name that is only a brand (no trade word at all): 苏州文旅假期 -> 文旅假期."""
    core = name_cores(name)[-1]
    if core.endswith(_TRADE_WORDS) or len(core) < 2:
        return None
    return core if core not in _rules()["place_names"] else None


def _branch_parent(name: str) -> str | None:
    """For 苏州青旅观前门市部, the core of the parent 苏州青旅; None when `name` is not a branch."""
    rules = _rules()
    text = re.sub(r"[\s()（）【】\[\]·・]", "", fold(name or ""))
    text = _strip_suffixes(text, rules["legal_suffixes"])
    stripped = _strip_suffixes(text, rules["branch_suffixes"])
    if stripped == text:
        return None
    ends = [stripped.rfind(word) + len(word) for pair in rules["short_forms"] for word in pair if word in stripped]
    if not ends or any(word in stripped[max(ends) :] for word in rules["cooperation_words"]):
        return None
    # The parent's name ends at its trade word (旅行社, 青旅 …); what follows is the branch's place.
    return name_core(stripped[: max(ends)])


def _strip_suffixes(text: str, suffixes: list[str]) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)], True
    return text


def _strip_one_place(text: str, rules: dict) -> str:
    """`text` without its first place name (苏州, 苏州市, 姑苏区, 江苏省); unchanged when it has none."""
    for place in rules["place_names_sorted"]:
        if text.startswith(place) and len(text) > len(place):
            rest = text[len(place) :]
            for ending in rules["place_endings"]:  # 苏州 + 市
                if rest.startswith(ending) and len(rest) > len(ending):
                    return rest[len(ending) :]
            return rest
    m = rules["place_pattern"].match(text)
    if m and len(m.group(0)) < len(text):
        return text[m.end() :]
    return text


def _strip_trailing_place(text: str, rules: dict) -> str:
    """春秋国旅苏州 -> 春秋国旅: a shop name with the city after the brand."""
    for place in rules["place_names_sorted"]:
        if text.endswith(place) and len(text) > len(place) + 1:
            return text[: -len(place)]
    return text


def _apply_short_forms(text: str, rules: dict) -> str:
    for long, short in rules["short_forms"]:
        text = text.replace(long, short)
    return text


@functools.cache
def _rules() -> dict:
    rules = tomllib.loads(NAME_RULES.read_text(encoding="utf-8"))
    rules["place_names_sorted"] = sorted(rules["place_names"], key=len, reverse=True)
    endings = "|".join(map(re.escape, sorted(rules["place_endings"], key=len, reverse=True)))
    rules["place_pattern"] = re.compile(r"[\u4e00-\u9fff]{2,4}?(?:" + endings + ")")
    names = "|".join(map(re.escape, rules["place_names_sorted"]))
    rules["place_with_ending"] = re.compile(r"(" + names + r")(?:省|市)")
    loose = [p for p in rules["platform_prefixes"] if p not in rules["platform_prefixes_need_separator"]]

    def by_len(words):
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    rules["platform_pattern"] = re.compile(
        rf"(?:(?:{by_len(rules['platform_prefixes'])})\s*(?:小组|商城|店铺|直播间)?{_SEPARATORS}+|(?:{by_len(loose)})(?=[\u4e00-\u9fff]))"
    )
    trade = "旅行社|国旅|青旅|中旅|旅游|旅行|公司"
    rules["staff_pattern"] = re.compile(rf"(.*(?:{trade}))({rules['staff_tail']})")
    return rules


def _agency(record: dict) -> Agency:
    def number(key):
        value = record.get(key)
        try:
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    licence = record.get("licence_no") or record.get("license_no") or ""
    return Agency(
        str(record.get("name") or "").strip(),
        str(licence).strip(),
        record.get("address") or None,
        number("lon"),
        number("lat"),
        record.get("grid_id"),
    )
