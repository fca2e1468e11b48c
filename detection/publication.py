"""illegal_publication: a post that sells or hands out unauthorised publications.

Signals: piracy words and their euphemisms, e-book/cloud-drive resale, no 书号/刊号 or 内部资料 sold,
invalid ISBN check digits, burned discs and preloaded drives, implausibly cheap complete sets. They
count only when something is on offer; crackdown news, genuine second-hand books and licensed channels
pull the score down.
"""

from __future__ import annotations

import re

from detection.keywords import Library
from detection.signals import Signals, Span, combine, quote

LABEL = "illegal_publication"
# Below this many yuan per volume a "complete set" of new books cannot be genuine.
CHEAP_YUAN_PER_VOLUME = 6.0
# What being on sale adds to a piracy signal (an offer is what makes a copy an illegal publication).
ON_SALE_WEIGHT = 0.15
# "8000首", "200款游戏", "800部": a count of works on one drive or disc means it is preloaded.
_WORK_COUNT = re.compile(r"[0-9]{2,6}\s*(?:首|部|款|集|张碟|段|万首|回)")
# "正版两千多，我这里50", "跟新华书店的比便宜一半": the genuine edition named only to compare its price.
_COMPARED_AFTER = re.compile(
    r"[\u4e00-\u9fff]{0,3}?(?:(?:要|卖|定价|原价|售价|价格|得)\s*[0-9一二三四五六七八九十两几百千万]+|"
    r"[0-9一二三四五六七八九十两几]+[百千万]?多|[一二三四五六七八九十两几][百千万]|贵)"
)
_COMPARED_BEFORE = re.compile(r"(?:比|跟|和|同|较|对比|相比)[\u4e00-\u9fff]{0,2}$")
# E-book copies by file or link (not a platform's own e-book shop).
_COPY_FORMATS = {
    "pdf",
    "网盘",
    "百度网盘",
    "百度云",
    "夸克网盘",
    "夸克",
    "阿里云盘",
    "云盘",
    "网盘链接",
    "发邮箱",
    "epub",
    "mobi",
    "azw3",
    "txt",
    "扫描版",
    "高清扫描",
    "电子档",
    "链接永久",
    "自动发货",
    "秒发",
    "代下载",
    "代下",
    "帮下载",
    "全文下载",
}
_SALE_WORDS_EXCLUDED = {"联系", "咨询"}  # too common in notices to count as a sale by themselves


def score(signals: Signals, library: Library) -> float:
    """Probability-like score in [0, 1]; adds its reasons to `signals`."""
    w = {name: c.weight for name, c in library.categories.items()}
    piracy = signals.offered("piracy")
    hint = signals.matches("reprint_hint")
    ebook = signals.matches("ebook_resale")
    no_isbn = signals.matches("no_isbn")
    obj = signals.matches("pub_object")
    sale = _sale(signals)
    listed = bool(sale) or bool(signals.price)  # a listing's own price field is an offer too
    positives = []
    media = signals.has("disc_media") or signals.has("burned")
    if piracy:
        # Without a book, disc or periodical in sight, 高仿 may be a handbag and 打印 a template.
        positives.append(w["piracy"] if (obj or media) else w["piracy"] * 0.5)
        signals.add(LABEL, "piracy_terms", f"盗版/高仿/翻印说法：{quote(piracy)}", piracy)
    if hint:
        positives.append(w["reprint_hint"])
        signals.add(LABEL, "reprint_hint", f"影印翻印类说法：{quote(hint)}", hint)
    if ebook and obj and sale:
        positives.append(w["ebook_resale"])
        signals.add(LABEL, "ebook_resale", f"以电子版/网盘形式提供图书：{quote(ebook)}", ebook)
    if no_isbn:
        positives.append(w["no_isbn"])
        signals.add(LABEL, "no_isbn", f"无书号刊号或内部资料：{quote(no_isbn)}", no_isbn)
    positives += _identifier_signals(signals)
    positives += _disc_signals(signals, w)
    positives += _cheap_set(signals)
    if not positives:
        return 0.0
    compared = _price_comparison(signals)
    if compared and listed:
        positives.append(0.3)
        signals.add(LABEL, "price_comparison", f"与正版价格对比招揽（正版贵、此处便宜）：{quote(compared)}", compared)
    if listed:
        positives.append(ON_SALE_WEIGHT)
        signals.add(LABEL, "on_sale", f"售卖或提供：{quote(sale) or f'标价{signals.price:g}元'}", sale)
    raw = combine(positives)
    if not listed:
        raw *= 0.35
    hard_fact = bool(piracy or no_isbn or _invalid_ids(signals) or signals.matches("burned"))
    copies = [(f, m) for f, m in ebook if m.keyword in _COPY_FORMATS]
    paid_ebook = bool(copies and (signals.all("prices") or signals.price is not None))
    return raw * _dampening(signals, hard_fact, paid_ebook)


def _identifier_signals(signals: Signals) -> list[float]:
    found = []
    bad_isbns = [(f, i) for f, i in signals.all("isbns") if not i.valid]
    if bad_isbns:
        found.append(0.6)
        signals.add(LABEL, "invalid_isbn", f"ISBN校验位错误：{quote(bad_isbns)}", bad_isbns)
    bad_serials = [(f, s) for f, s in signals.all("serial_ids") if not s.valid]
    if bad_serials:
        found.append(0.5)
        signals.add(LABEL, "invalid_serial", f"刊号（ISSN/CN）无效：{quote(bad_serials)}", bad_serials)
    return found


def _disc_signals(signals: Signals, w: dict[str, float]) -> list[float]:
    """Burned discs and preloaded drives: a carrier (or burning) plus films, music or games on it."""
    carrier = signals.matches("disc_media") + signals.matches("burned")
    counts = [(f, Span(m.span())) for f in signals.fields for m in _WORK_COUNT.finditer(f.text)]
    content = signals.matches("disc_content") + signals.matches("preloaded") + counts
    copied = signals.matches("burned") + signals.matches("preloaded") + counts
    if not (carrier and content and copied):  # a CD of an album on sale is not a copy by itself
        return []
    weight = sum(w[c] for c in ("disc_media", "burned", "disc_content", "preloaded") if signals.has(c))
    weight += w["preloaded"] if counts and not signals.has("preloaded") else 0.0
    signals.add(LABEL, "burned_media", f"刻录光盘或预装U盘出售影音游戏：{quote(carrier + content)}", carrier + content)
    return [min(weight, 0.85)]


def _cheap_set(signals: Signals) -> list[float]:
    counts = signals.all("set_counts")
    prices = [p.value for _, p in signals.all("prices") if p.unit in (None, "套")]
    if signals.price is not None:
        prices.append(signals.price)
    if not counts or not prices:
        return []
    volumes = max(c.volumes for _, c in counts)
    per_volume = min(prices) / volumes
    if volumes >= 5 and 0 < per_volume < CHEAP_YUAN_PER_VOLUME:
        signals.add(
            LABEL,
            "cheap_complete_set",
            f"全套{volumes}册仅{min(prices):g}元，每册约{per_volume:.1f}元，低于正常价格",
            counts,
        )
        return [0.35]
    return []


def _price_comparison(signals: Signals) -> list:
    return [(f, m) for f, m in signals.matches("pub_genuine") if _compared(f.folded, m)]


def _compared(folded: str, m) -> bool:
    return bool(
        _COMPARED_AFTER.match(folded, m.end, m.end + 7)
        or _COMPARED_BEFORE.search(folded[max(0, m.start - 4) : m.start])
    )


def _sale(signals: Signals) -> list:
    items = signals.matches("sale") + signals.matches("sale_hint")
    items += [(f, m) for f, m in signals.matches("contact_invite") if m.keyword not in _SALE_WORDS_EXCLUDED]
    items += signals.all("prices") + signals.all("contacts")
    return items


def _invalid_ids(signals: Signals) -> list:
    return [(f, i) for f, i in signals.all("isbns") if not i.valid] + [
        (f, s) for f, s in signals.all("serial_ids") if not s.valid
    ]


def _dampening(signals: Signals, strong_piracy: bool, paid_ebook: bool) -> float:
    """`strong_piracy`: piracy words, no 书号, or an invalid ISBN/ISSN, which no genuine channel shows.
    `paid_ebook`: e-book copies sold for money, which "免费下载"-style words do not make genuine."""
    factor = 1.0
    crackdown = signals.matches("pub_crackdown")
    if crackdown:
        many = len({m.keyword for _, m in crackdown}) >= 2
        factor *= 0.1 if many else 0.5
        signals.add(LABEL, "crackdown_context", f"扫黄打非/打击盗版的公告或新闻语境：{quote(crackdown)}", crackdown)
    platform = signals.matches("licensed_platform")
    if platform and not strong_piracy and not paid_ebook:  # "知网全文PDF代下载": copies of the platform's content
        factor *= 0.3
        signals.add(LABEL, "licensed_platform", f"正版电子书平台：{quote(platform)}", platform)
    genuine = [(f, m) for f, m in signals.matches("pub_genuine") if not _compared(f.folded, m)]
    if genuine and not strong_piracy and not paid_ebook:
        factor *= 0.45
        signals.add(LABEL, "genuine_channel", f"正版或授权渠道：{quote(genuine)}", genuine)
    printing = signals.matches("print_service")
    if printing and not strong_piracy:
        factor *= 0.3
        signals.add(LABEL, "print_service", f"打印复印服务：{quote(printing)}", printing)
    own = signals.matches("own_work")
    if own and not strong_piracy:
        factor *= 0.4
        signals.add(LABEL, "own_work", f"本人原创或自制、免费分享：{quote(own)}", own)
    asking = signals.matches("buyer_request")
    if asking and not (signals.matches("sale") or signals.matches("contact_invite") or signals.all("contacts")):
        factor *= 0.4
        signals.add(LABEL, "buyer_request", f"求购或提问，发帖人不是卖家：{quote(asking)}", asking)
    second = signals.matches("secondhand")
    if second and not strong_piracy:
        factor *= 0.5
        signals.add(LABEL, "secondhand", f"二手旧书转让：{quote(second)}", second)
    return factor
