"""Prices, "全套N册" counts, phone numbers, WeChat ids and business names in post text.

Like extract_ids, each function takes the original text and returns spans into it. Contacts carry a
masked form, because the UI shows posts to many users and a phone number is personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from detection.normalize import fold

_NUM = r"([0-9]+(?:\.[0-9]{1,2})?)"
_PRICE_PATTERNS = (
    re.compile(r"[¥￥]\s*" + _NUM),
    re.compile(_NUM + r"\s*(?:元|块钱|块|rmb|米|r(?![a-z]))(?![\u4e00-\u9fff]{0,1}(?:起步价))"),
    re.compile(r"(?:价格|售价|团费|费用|价|一口价|仅需|只要|特价)\s*[:：]?\s*" + _NUM),
    re.compile(_NUM + r"\s*/\s*(?:人|位|套|本|册|份|个|张|大人|成人|小孩)"),
    # "打包6.6", "仅需9.9", "整套38": a bare amount after a sale word.
    re.compile(
        r"(?:打包|仅需|仅|只要|才|只需|一口价|全套|整套|全年)\s*([0-9]+(?:\.[0-9]{1,2})?)(?![0-9%.]|\s*[册本卷期年月日号天])"
    ),
    # "一份6.6", "每人380": the amount after the unit it is quoted for.
    re.compile(r"(?:一份|每份|一套|一本|一册|一位|每位|一人|每人|一个人)\s*([0-9]+(?:\.[0-9]{1,2})?)(?![0-9%])"),
    # A bare amount right after a trip's length: "九寨3日 680", "稻城6日 2680".
    re.compile(r"[0-9一二三四五六七八九十两]\s*[日天晚]游?\s+([0-9]{2,5})(?![0-9.%]|\s*[年月号日])"),
    # Bare amounts sellers write without a unit: "19.9全部打包", "35包邮", "60全带走".
    re.compile(r"(?<![0-9.])([0-9]{1,4}\.(?:9|8|99|98|88))(?![0-9%a-z.])"),
    re.compile(
        _NUM + r"\s*(?:包邮|全带走|带走|拿走|全部打包|一套|一本|一册|一张|起售|起|秒发|"
        r"一天|每天|一位|每位|一晚|每晚|一人|每人|"
        r"全出|出(?![发游行团国境差来去现租售])|一起出|打包出)"
    ),
)
_PER_UNIT = re.compile(r"\s*(?:元|块)?\s*(?:/|每|一)\s*(人|位|套|本|册|份|个|张|大人|成人|小孩|天|晚)")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_COUNT_NUM = r"([0-9]{1,4}|[零〇一二两三四五六七八九十百]{1,5})"
_SET_COUNT = (
    re.compile(r"(?:全套|全|共|一套|整套|合计|套装)\s*" + _COUNT_NUM + r"\s*(?:册|本|卷|部)"),
    re.compile(_COUNT_NUM + r"\s*(?:册|本|卷)\s*(?:全套|全|一套|套装|合售|打包|只要|仅需|仅售|才|一共|总共)"),
)
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[\s\-]?([0-9]{4})[\s\-]?([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(0[1-9][0-9]{1,2})[\s\-]([0-9]{7,8})(?![0-9])|(?<![0-9])(400)[\s\-]?([0-9]{3})[\s\-]?([0-9]{4})(?![0-9])"
)
# Numbers written in Chinese digits or spaced out to dodge filters ("一三九 八零二八 三三五六",
# "1 3 0 9 1 8 2 7 4 4 6"): digits are mapped one to one (offsets kept) and separators skipped.
_CN_DIGIT_TABLE = str.maketrans("零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖幺", "001234567891234567891")
_ANY_DIGIT = "[0-9零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖幺]"
_SPELLED_RUN = re.compile(_ANY_DIGIT + r"(?:[ \t\-·.]{0,2}" + _ANY_DIGIT + "){4,}")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \t\-·.]{0,2}[0-9]){4,14}(?![0-9])")
_QQ_CUE = re.compile(r"(?:q\s*q|扣扣|企鹅|群号|qq群|加群|进群)\s*[:：号]?\s*$")
# A WeChat id typed with spaces ("v zc lw 2 0 2 4"): the cue, then letters and digits with spaces.
_WECHAT_SPACED = re.compile(
    r"(?<![a-z])(?:微信号?|威信|薇信|v信|vx|wx|weixin|wechat|加v|\+v|加微|v)\s*[:：]?\s*((?:[a-z0-9_\-]\s?){6,24})(?![a-z0-9_\-])"
)
_WECHAT = re.compile(
    r"(?<![a-z])(?:微信号?|威信|薇信|v信|vx|wx|weixin|wechat|加v|\+v|加微|vx号|v)[^\w\u4e00-\u9fff]{0,3}"
    r"([a-z][a-z0-9_\-]{5,19})(?![a-z0-9_\-])"
)
# Words that end a business name; longest first so 国际旅行社 wins over 旅行社.
_BUSINESS_SUFFIXES = sorted(
    [
        "国际旅行社有限公司",
        "旅行社有限责任公司",
        "旅行社有限公司",
        "国际旅行社",
        "旅行社",
        "国旅",
        "青旅",
        "中旅",
        "旅游服务有限公司",
        "旅行服务有限公司",
        "旅游有限公司",
        "旅游公司",
        "国际旅游",
        "旅游发展有限公司",
        "文化传播有限公司",
        "文化传媒有限公司",
        "文化发展有限公司",
        "户外运动俱乐部",
        "户外俱乐部",
        "俱乐部",
        "工作室",
        "户外",
        "有限公司",
        "书店",
        "书局",
        "书社",
        "书城",
        "出版社",
        "图书专营店",
        "专营店",
        "旗舰店",
        "营业部",
        "门市部",
        "分社",
    ],
    key=len,
    reverse=True,
)
_BUSINESS_SUFFIX = re.compile("|".join(map(re.escape, _BUSINESS_SUFFIXES)))
# What a name is made of, read backwards from its suffix (at most 16 characters).
_NAME_BODY = re.compile(r"[\u4e00-\u9fffa-z0-9（）()·]{1,16}$")
# Characters that cannot start a business name: where a name found by the pattern above really begins.
_NAME_BREAK = re.compile(
    r".*[的是由在为和与及找请向跟从把被让给对我您你他她它就都也还着了过啊呀吧呢吗，。！？、：:；;\s]"
)


# Role words that come right before a name without a break character: 合作方苏州某某俱乐部.
_LEADING_ROLE = re.compile(
    r"(?:合作方|承办方|主办方|协办方|运营方|主办|承办|协办|联合|委托|认准|选择|来自|关注|欢迎|通过|感谢)+"
)


@dataclass(frozen=True)
class Price:
    value: float
    unit: str | None  # 人/位/套/本/册… when stated per unit
    span: tuple[int, int]


@dataclass(frozen=True)
class SetCount:
    volumes: int
    span: tuple[int, int]


@dataclass(frozen=True)
class Contact:
    kind: str  # "phone" | "wechat" | "qq"
    value: str
    masked: str
    span: tuple[int, int]


@dataclass(frozen=True)
class BusinessName:
    name: str
    span: tuple[int, int]


def find_prices(text: str | None, folded: str | None = None) -> list[Price]:
    """Money amounts (¥300, 300元, 团费300, 300/人) with the unit they are quoted per, if any."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found: dict[int, Price] = {}
    phones = [m.span() for m in _MOBILE.finditer(folded)]
    for pattern in _PRICE_PATTERNS:
        for m in pattern.finditer(folded):
            start = m.start(1)
            if start in found or any(s <= start < e for s, e in phones):
                continue
            value = float(m.group(1))
            unit = _PER_UNIT.match(folded, m.end(1))
            found[start] = Price(value, unit.group(1) if unit else None, m.span())
    return [found[k] for k in sorted(found)]


def find_set_counts(text: str | None, folded: str | None = None) -> list[SetCount]:
    """Volume counts of sets: 全套12册, 共二十本, 56册全套."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found = []
    for pattern in _SET_COUNT:
        for m in pattern.finditer(folded):
            volumes = parse_count(m.group(1))
            if volumes and 1 < volumes < 5000:
                found.append(SetCount(volumes, m.span()))
    return sorted(set(found), key=lambda c: c.span)


def find_contacts(text: str | None, folded: str | None = None) -> list[Contact]:
    """Mobile and landline numbers, WeChat ids and QQ numbers (also spelled out in Chinese digits or
    spaced), each with a masked form for display."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found = []
    for m in _MOBILE.finditer(folded):
        digits = "".join(m.groups())
        found.append(Contact("phone", digits, f"{digits[:3]}****{digits[-4:]}", m.span()))
    for m in _LANDLINE.finditer(folded):
        digits = "".join(g for g in m.groups() if g)
        found.append(Contact("phone", digits, f"{digits[:4]}****{digits[-2:]}", m.span()))
    for m in _WECHAT.finditer(folded):
        value = text[m.start(1) : m.end(1)]
        found.append(Contact("wechat", value, mask_wechat(value), m.span(1)))
    taken = [c.span for c in found]
    for m in _WECHAT_SPACED.finditer(folded):
        value = re.sub(r"\s", "", m.group(1))
        span = (m.start(1), m.start(1) + len(m.group(1).rstrip()))
        if re.search(r"[a-z]", value) and not any(s < span[1] and span[0] < e for s, e in taken):
            found.append(Contact("wechat", value, mask_wechat(value), span))
    found += _spelled_numbers(folded, [c.span for c in found])
    return sorted(found, key=lambda c: c.span)


def _spelled_numbers(folded: str, taken: list[tuple[int, int]]) -> list[Contact]:
    """Mobile numbers in Chinese digits or spaced out, and QQ numbers after a QQ cue."""
    if not _SPELLED_RUN.search(folded):  # most posts have none: skip the translation
        return []
    digits_text = folded.translate(_CN_DIGIT_TABLE)
    found = []
    for m in _DIGIT_RUN.finditer(digits_text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        digits = re.sub(r"[^0-9]", "", m.group(0))
        if len(digits) == 11 and re.fullmatch(r"1[3-9][0-9]{9}", digits):
            found.append(Contact("phone", digits, f"{digits[:3]}****{digits[-4:]}", m.span()))
        elif 5 <= len(digits) <= 11 and _QQ_CUE.search(digits_text, max(0, m.start() - 8), m.start()):
            found.append(Contact("qq", digits, f"{digits[:2]}****{digits[-2:]}", m.span()))
    return found


def mask_wechat(value: str) -> str:
    return value[:2] + "****" + value[-2:] if len(value) > 4 else "****"


def find_business_names(text: str | None, folded: str | None = None) -> list[BusinessName]:
    """Names like 苏州某某国际旅行社有限公司, 某某户外俱乐部, 某某书店, trimmed of the words before them."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found = []
    for m in _BUSINESS_SUFFIX.finditer(folded):
        body = _NAME_BODY.search(folded, max(0, m.start() - 16), m.start())
        if not body:
            continue
        start = body.start()
        cut = _NAME_BREAK.match(folded, start, m.end())
        if cut:
            start = cut.end()
        role = _LEADING_ROLE.match(folded, start, m.start())
        if role:
            start = role.end()
        if m.end() - start >= 3 and start < m.start():
            found.append(BusinessName(text[start : m.end()], (start, m.end())))
    return found


def parse_count(token: str) -> int | None:
    """'12' -> 12, '二十' -> 20, '一百零八' -> 108; None when it is not a number."""
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in "十百":
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
        else:
            return None
    return total + current or None
