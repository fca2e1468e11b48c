"""illegal_publication: a post that sells or hands out unauthorised publications.

Signals are weighted by what they prove. Each of these makes the case on its own once something is
offered (a price, a sale, or a free copy handed out for a follow, a share or a contact):

    piracy_terms        the seller says it: 盗版, 高仿, 复印版, A版, 平替, 无防伪, 非出版社授权, 扫描重印,
                        自制精装 无出版社信息, "same content, no anti-counterfeit label"
    ebook_resale        a copy of a book as a file or link (PDF, epub, 网盘, 扫描版, 自动发货), paid or handed out;
    print_copy          a book printed and bound from an e-copy (PDF打印装订, 电子书转纸质书)
    copy_service        a paid "we find any textbook PDF for you" service
    no_isbn             no 书号/刊号, 内部资料, 自印 books sold publicly
    illegal_periodical  paid paper placement (版面费, 代发论文) in a 增刊/内刊 or a journal without a valid CN/ISSN
    invalid_isbn        an ISBN whose check digit is wrong
    burned_media        burned discs, preloaded drives, N合1 cartridges
    cheap_complete_set  a new multi-volume set far below any printing cost (below 3 yuan a volume, or below
                        8 with stock bought in bulk or 'factory direct')

Hints (reprint_hint, price_comparison, a set below 6 yuan a volume) need another signal. Lawful sources
of the same words pull the score down unless the seller declared or sold the copy: public-domain texts,
open-access and official free platforms, publishers' companion files, licensed e-book platforms,
genuine channels, own work, second-hand books, copy shops. Who speaks (a seller, or a school letter,
a review, a crackdown report) is the speech act's (speech_act.py).
"""

from __future__ import annotations

import re

from detection import speech_act
from detection.keywords import Library
from detection.signals import Signals, Span, combine, quote

LABEL = "illegal_publication"
# Below this many yuan per volume a "complete set" of new books is a hint; below GIVEAWAY it cannot be
# genuine; below BULK it cannot be genuine when the seller says the stock is bulk or factory-direct.
CHEAP_YUAN_PER_VOLUME = 6.0
GIVEAWAY_YUAN_PER_VOLUME = 3.0
BULK_YUAN_PER_VOLUME = 8.0
# What each proven signal weighs: enough to label a post on its own with ON_SALE_WEIGHT.
PROVEN = 0.6
ON_SALE_WEIGHT = 0.15
# "8000首", "200款游戏", "800部", "500合1": a count of works on one drive, disc or cartridge means it is preloaded.
_WORK_COUNT = re.compile(r"[0-9]{2,6}\s*(?:首|部|款|集|张碟|段|万首|回)|[0-9]{2,4}\s*合\s*[1一]")
# "正版两千多，我这里50", "跟新华书店的比便宜一半": the genuine edition named only to compare its price.
_COMPARED_AFTER = re.compile(
    r"[\u4e00-\u9fff]{0,3}?(?:(?:要|卖|定价|原价|售价|价格|得)\s*[0-9一二三四五六七八九十两几百千万]+|"
    r"[0-9一二三四五六七八九十两几]+[百千万]?多|[一二三四五六七八九十两几][百千万]|贵)"
)
_COMPARED_BEFORE = re.compile(r"(?:比|跟|和|同|较|对比|相比)[\u4e00-\u9fff]{0,2}$")
# E-book words that a licensed platform's own shop uses too ("电子书会员", "正版电子版"); every other
# ebook_resale word is a file or a link (PDF, epub, 网盘, 提取码, 自动发货, 推送到kindle …).
_PLATFORM_WORDS = {
    "电子书",
    "电子版",
    "电子资料",
    "资源包",
    "全网最全",
    "永久有效",
    "文字版",
    "电子稿",
    "虚拟商品",
    "虚拟物品",
    "虚拟产品",
    "虚拟资料",
    "资源合集",
    "全科资源",
    "网课资源",
}
_SALE_WORDS_EXCLUDED = {"联系", "咨询"}  # too common in notices to count as a sale by themselves
# Sellers who are the lawful channel themselves: publishers, 新华书店, platforms' own stores, libraries.
_GENUINE_SELLER = re.compile(r"出版社|出版集团|出版公司|新华书店|新华文轩|京东自营|当当自营|图书馆")
# A seller whose name says it sells books (书城, 书店, 图书, 教辅 …).
_BOOK_SELLER = re.compile(r"书|图书|文库|绘本|教辅|教材|资料|读物|漫画")
# Handed-out links: a copy is being distributed, whatever the price.
_LINKS = {"提取码", "下载链接", "下载地址", "链接"}
# Publication words that are not books a copy shop would print from an e-copy (one's own thesis is not).
_NOT_BOOKS = {"论文", "学位论文", "文献", "资料", "答案", "刊物", "论文集"}
# An edition names a book: "第七版", "同济版", "复旦版", "2025版".
_EDITION = re.compile(
    r"第[0-9一二三四五六七八九十]+版|(?:同济|复旦|人教|北师大?|苏教|外研|高教|清华|人大|浙大)版|20[0-9]{2}版"
)
# Words about a missing ISBN that a pre-1987 book with a 统一书号 rightly has.
_ISBN_WORDS = ("isbn", "书号")
_NEW = re.compile(r"全新|新书|未拆|塑封|现货")


def score(signals: Signals, library: Library) -> float:
    """Probability-like score in [0, 1]; adds its reasons to `signals`."""
    w = {name: c.weight for name, c in library.categories.items()}
    # The book itself may be named anywhere (a list's titles come first); a set of N volumes is one too.
    obj = signals.matches("pub_object") + signals.all("set_counts")
    media = signals.has("disc_media") or signals.has("burned")
    sale = _sale(signals)
    paid = _paid(signals)
    bait = signals.offered("pub_bait")
    handout = signals.offered("pub_handout") + bait
    offered = bool(sale or handout) or bool(signals.price)  # a listing's own price field is an offer too
    positives = []
    proven = []  # what no genuine channel, platform or second-hand seller does

    piracy = signals.offered("piracy")
    if piracy:
        # Without a book, disc or periodical in sight, 高仿 may be a handbag and 打印 a template; a shop
        # called 书城 or 图书专营 sells books.
        bookish = obj or media or _BOOK_SELLER.search(signals.source_name or "")
        positives.append(w["piracy"] if bookish else w["piracy"] * 0.5)
        proven.append("piracy")
        signals.add(LABEL, "piracy_terms", f"盗版/高仿/翻印或自述未经授权复制：{quote(piracy)}", piracy)
    hint = signals.offered("reprint_hint")
    if hint:
        positives.append(w["reprint_hint"])
        signals.add(LABEL, "reprint_hint", f"影印翻印类说法：{quote(hint)}", hint)
    positives += _copies(signals, obj, paid, sale, handout, bait, proven)
    positives += _no_isbn(signals, w, proven)
    positives += _identifier_signals(signals, proven)
    positives += _periodical(signals, sale, proven)
    positives += _disc_signals(signals, w, proven)
    positives += _cheap_set(signals, proven)
    if not positives:
        return 0.0
    compared = _price_comparison(signals)
    if compared and offered:
        positives.append(0.3)
        signals.add(LABEL, "price_comparison", f"与正版价格对比招揽（正版贵、此处便宜）：{quote(compared)}", compared)
    if offered:
        positives.append(ON_SALE_WEIGHT)
        shown = sale + handout
        signals.add(LABEL, "on_sale", f"售卖或提供：{quote(shown) or f'标价{signals.price:g}元'}", shown)
    raw = combine(positives)
    if not offered:
        raw *= 0.35
    act = speech_act.explain(signals, LABEL)  # a school letter, a review or a crackdown report is not an offer
    return raw * act * _lawful(signals, bool(proven), paid)


def _copies(
    signals: Signals, obj: list, paid: bool, sale: list, handout: list, bait: list, proven: list
) -> list[float]:
    """Copies of a book: files and links sold, offered to whoever gets in touch, or handed out for a
    follow (free copies handed out without a condition prove less: public-domain and official texts are
    handed out too), prints made from them, and paid finding services."""
    found = []
    copies = signals.offered("ebook_resale")
    files = [(f, m) for f, m in copies if m.keyword not in _PLATFORM_WORDS]
    if copies and obj and (sale or handout or paid):
        sure = (files and (sale or paid)) or bait or any(m.keyword in _LINKS for _, m in handout)
        found.append(PROVEN if sure else 0.45)
        if sure:
            proven.append("ebook")
        how = "出售" if paid else ("以关注、转发、加好友等换取" if bait else "免费分发")
        signals.add(LABEL, "ebook_resale", f"以电子版/网盘形式{how}图书：{quote(copies)}", copies)
    printed = signals.offered("print_copy")
    books = [(f, m) for f, m in obj if getattr(m, "keyword", "") not in _NOT_BOOKS]
    books += [(f, Span(m.span())) for f in signals.fields for m in _EDITION.finditer(f.folded)]
    if printed and (books or copies):
        found.append(PROVEN)
        proven.append("print")
        signals.add(LABEL, "print_copy", f"由电子版或复印件打印装订成书出售：{quote(printed)}", printed)
    service = signals.offered("copy_service")
    if service and (copies or printed or obj) and (paid or sale or handout):
        found.append(PROVEN)
        proven.append("service")
        signals.add(LABEL, "copy_service", f"有偿代找电子书或教材：{quote(service)}", service)
    return found


def _no_isbn(signals: Signals, w: dict[str, float], proven: list) -> list[float]:
    no_isbn = signals.offered("no_isbn")
    if any(s.kind == "unified_book_no" for _, s in signals.all("serial_ids")):
        # A pre-1987 book has a 统一书号 and rightly no ISBN; its seller saying so is not a defect.
        no_isbn = [(f, m) for f, m in no_isbn if not any(word in m.keyword for word in _ISBN_WORDS)]
    if not no_isbn:
        return []
    proven.append("no_isbn")
    signals.add(LABEL, "no_isbn", f"无书号刊号或内部资料：{quote(no_isbn)}", no_isbn)
    return [w["no_isbn"]]


def _identifier_signals(signals: Signals, proven: list) -> list[float]:
    found = []
    bad_isbns = [(f, i) for f, i in signals.all("isbns") if not i.valid]
    if bad_isbns:
        found.append(PROVEN)
        proven.append("isbn")
        signals.add(LABEL, "invalid_isbn", f"ISBN校验位错误：{quote(bad_isbns)}", bad_isbns)
    bad_serials = [(f, s) for f, s in signals.all("serial_ids") if not s.valid]
    if bad_serials:
        found.append(0.5)
        proven.append("serial")
        signals.add(LABEL, "invalid_serial", f"刊号（ISSN/CN）无效：{quote(bad_serials)}", bad_serials)
    return found


def _periodical(signals: Signals, sale: list, proven: list) -> list[float]:
    """Paid paper placement: a hit in a 增刊/内刊 or a journal without a valid CN/ISSN, a hint elsewhere."""
    placement = signals.offered("paid_placement")
    if not placement:
        return []
    irregular = signals.offered("irregular_periodical")
    if irregular:
        proven.append("periodical")
        items = placement + irregular
        signals.add(LABEL, "illegal_periodical", f"收费发表论文，刊物为增刊、内刊或无有效刊号：{quote(items)}", items)
        return [0.65]
    valid = [s for _, s in signals.all("serial_ids") if s.valid and s.kind in ("issn", "cn")]
    if valid or not (sale or signals.price):
        return []
    signals.add(LABEL, "paid_placement", f"收费发表论文，未见有效刊号：{quote(placement)}", placement)
    return [0.3]


def _disc_signals(signals: Signals, w: dict[str, float], proven: list) -> list[float]:
    """Burned discs and preloaded drives: a carrier (or burning) plus films, music or games on it."""
    carrier = signals.offered("disc_media") + signals.offered("burned")
    counts = signals.counted([(f, Span(m.span())) for f in signals.fields for m in _WORK_COUNT.finditer(f.text)])
    content = signals.offered("disc_content") + signals.offered("preloaded") + counts
    copied = signals.offered("burned") + signals.offered("preloaded") + counts
    if not (carrier and content and copied):  # a CD of an album on sale is not a copy by itself
        return []
    weight = sum(w[c] for c in ("disc_media", "burned", "disc_content", "preloaded") if signals.has(c))
    weight += w["preloaded"] if counts and not signals.has("preloaded") else 0.0
    if signals.offered("burned"):  # a genuine CD lists its 50 songs too; burning is what proves the copy
        proven.append("media")
    signals.add(LABEL, "burned_media", f"刻录光盘或预装U盘出售影音游戏：{quote(carrier + content)}", carrier + content)
    return [min(weight, 0.85)]


def _cheap_set(signals: Signals, proven: list) -> list[float]:
    counts = signals.all("set_counts")
    prices = [p.value for _, p in signals.all("prices") if p.unit in (None, "套")]
    if signals.price is not None:
        prices.append(signals.price)
    prices = [p for p in prices if p > 0]
    if not counts or not prices:
        return []
    volumes = max(c.volumes for _, c in counts)
    per_volume = min(prices) / volumes
    bulk = signals.offered("bulk_stock")
    used = signals.offered("secondhand")
    new = any(_NEW.search(f.folded) for f in signals.fields) or not used
    text = f"全套{volumes}册仅{min(prices):g}元，每册约{per_volume:.1f}元"
    if volumes >= 3 and new and (per_volume < GIVEAWAY_YUAN_PER_VOLUME or (bulk and per_volume < BULK_YUAN_PER_VOLUME)):
        proven.append("set")
        why = f"，且为批量进货/工厂直发：{quote(bulk)}" if bulk else "，新书低于任何印刷成本"
        signals.add(LABEL, "cheap_complete_set", text + why, counts + bulk)
        return [PROVEN]
    if volumes >= 5 and per_volume < CHEAP_YUAN_PER_VOLUME:
        signals.add(LABEL, "cheap_complete_set", text + "，低于正常价格", counts)
        return [0.35]
    return []


def _price_comparison(signals: Signals) -> list:
    return [(f, m) for f, m in signals.offered("pub_genuine") if _compared(f.folded, m)]


def _compared(folded: str, m) -> bool:
    return bool(
        _COMPARED_AFTER.match(folded, m.end, m.end + 7)
        or _COMPARED_BEFORE.search(folded[max(0, m.start - 4) : m.start])
    )


def _paid(signals: Signals) -> bool:
    """Money asked for: a price, a listing price or a sale word (an invitation to message is not one)."""
    return bool(signals.price or signals.counted(signals.all("prices")) or signals.offered("sale"))


def _sale(signals: Signals) -> list:
    items = signals.matches("sale") + signals.matches("sale_hint")
    items += [(f, m) for f, m in signals.matches("contact_invite") if m.keyword not in _SALE_WORDS_EXCLUDED]
    items += signals.all("prices") + signals.all("contacts")
    return signals.counted(items)


def _lawful(signals: Signals, proven: bool, paid: bool) -> float:
    """Lawful sources of the same words. Free sources (public-domain texts, open access, official
    platforms, publishers' companion files, libraries, one's own work) count unless the seller declares
    a pirated copy or sells file copies; channels (licensed platforms, genuine shops, copy shops,
    second-hand sellers) count unless something `proven` is on offer (a declared, sold or baited copy,
    no 书号, a wrong ISBN), which no lawful channel shows."""
    factor = 1.0
    declared = bool(signals.offered("piracy"))
    sold_copy = paid and proven
    lawful = signals.offered("lawful_copy")
    if lawful and not (declared or sold_copy):
        factor *= 0.2
        signals.add(
            LABEL,
            "lawful_copy",
            f"合法来源：公版、开放获取、官方免费平台、出版社配套资源或图书馆：{quote(lawful)}",
            lawful,
        )
    own = signals.offered("own_work")
    titled = any("《" in f.folded for f in signals.fields)  # 自己整理的《…》 is someone else's book
    if own and not (declared or signals.offered("no_isbn") or (sold_copy and titled)):  # 自印诗集 无书号 is not lawful
        factor *= 0.3
        signals.add(LABEL, "own_work", f"本人原创或自制的作品：{quote(own)}", own)
    seller = signals.account_subject or signals.source_name or ""
    if _GENUINE_SELLER.search(seller) and not (declared or signals.offered("no_isbn") or _invalid_isbns(signals)):
        # A publisher, 新华书店 or a platform's own store selling its books as print or e-book.
        factor *= 0.3
        signals.add(LABEL, "genuine_seller", f"出版社、新华书店或平台自营：「{seller}」")
    if proven:
        return factor
    platform = signals.offered("licensed_platform")
    if platform:
        factor *= 0.3
        signals.add(LABEL, "licensed_platform", f"正版电子书平台：{quote(platform)}", platform)
    genuine = [(f, m) for f, m in signals.offered("pub_genuine") if not _compared(f.folded, m)]
    if genuine:
        factor *= 0.45
        signals.add(LABEL, "genuine_channel", f"正版或授权渠道：{quote(genuine)}", genuine)
    printing = signals.offered("print_service")
    if printing:
        factor *= 0.3
        signals.add(LABEL, "print_service", f"打印复印服务：{quote(printing)}", printing)
    second = signals.offered("secondhand")
    if second:
        factor *= 0.5
        signals.add(LABEL, "secondhand", f"二手旧书转让：{quote(second)}", second)
    return factor


def _invalid_isbns(signals: Signals) -> list:
    return [(f, i) for f, i in signals.all("isbns") if not i.valid]
