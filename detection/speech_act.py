"""The speech act of a post: who speaks, and what they do with words that look like a sale.

The same words (一日游, 报名, 定金, 盗版, PDF, 网盘) appear in a seller's offer, a traveller's diary, a
bureau's warning and a victim's complaint. Only the offer can be a hit. This module decides which of
four acts a post performs, and which of its sentences speak as the seller:

    offer      a seller offering now (speaker: seller)
    mention    a writer recounting, advising or asking: diaries, 攻略, reviews, answers, questions (writer)
    warning    an authority or operator warning, ruling or reporting: 通知, 公告, 须知, school letters,
               notices to tourists, enforcement news (authority)
    complaint  a victim complaining about what they bought: 被坑, 投诉, 12345 (victim)

Each sentence first gets a role: a complaint, a warning (别在门口找黄牛, 请通过正规渠道, 禁止…出售), a
notice to tour groups (旅行团请…), a report of what someone else offered (有人说…, 看到…的广告), a call
to the reader (a contact, 私我, 拍下, 扣1, 报名电话, 感兴趣的私, 还差3人), terms of a sale (包邮, 定金,
自动发货, "含车住门票 699/人"; not in a story: "我们交了500定金"), a question, a story in the first
person and the past, or nothing. Then, in order, the first rule that applies decides:

1. warning: an authority or operator (a bureau, school, library, museum, scenic area, ferry,
   newspaper: AUTHORITY) that warns, or gives notice and calls nobody; or, when nobody is called, a
   news report (two enforcement-news words), a rule with a warning, a notice by its title (公告, 通知,
   须知) or a notice telling tour groups what to do.
2. offer: a sentence calls the reader to buy or sign up from the poster.
3. complaint: a complaint in the title, twice, or with no other writer's cue (one "被坑" in passing
   is part of a diary's story, counted among its cues below).
4. offer: terms of a sale, with at most one kind of writer's cue (one 攻略 in a title, one rhetorical
   question) beside them.
5. mention: a writer's cues: questions that ask, stories, reports of others' offers, genre words of
   diaries, guides and reviews (游记, 攻略, 书评, 谢邀), news; warnings too, unless the post prices
   something ("谨防野导，认准正规社 599" is a sales pitch). A shop page is never a mention.
6. offer: a post with none of these is a listing ("武侯祠讲解+带路 150").

Inside an offer, words in quotation marks (“川西10日游 3980全包”的广告), in warnings and notices to
tour groups and in complaints are not the poster's own offer: `counts` is False for them and the
scorers leave them out. A long text whose first offer sentence comes after half of it (a book list or
a diary ending with "文末福利：PDF 9.9 私我") is an offer from its closing part on (that sentence, the
short listing lines just before it, back to a separator or a heading): the title and that end count,
the innocent body does not.

The cue words are keyword categories in data/keywords.toml (act_offer, act_terms, act_news,
act_authority, act_warning, act_notice, act_question, act_complaint, act_mention, act_recount);
sentence structure (questions, quotations, first person and past tense, reports, imperatives, prices
per head) is read here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from detection.signals import FieldSignals, Signals, Span, quote

OFFER, MENTION, WARNING, COMPLAINT = "offer", "mention", "warning", "complaint"
SPEAKERS = {OFFER: "seller", MENTION: "writer", WARNING: "authority", COMPLAINT: "victim"}
# What a non-offer act does to a label's score: enough evidence of a tour or a pirated book in a
# diary, a notice or a complaint still stays well under the threshold.
NOT_AN_OFFER_FACTOR = 0.2
# A text this long whose first offer sentence comes after this share of it: the offer is its end.
LONG_TEXT = 150
TRAILING_SHARE = 0.5

# Who speaks for an authority or an operator: their account names. Publishers and journals are not
# here (they sell), nor travel agencies.
AUTHORITY = re.compile(
    r"政府|局$|局[（(·]|厅$|委员会|管委会|管理局|管理处|执法|支队|大队|总队|公安|法院|检察院|扫黄打非|"
    r"中学|小学|学校$|大学|学院$|职业学院|幼儿园|教务处|图书馆|博物馆|博物院|纪念馆|美术馆|科技馆|"
    r"景区|风景区|名胜区|度假区|公园|乐园|动物园|植物园|游客中心|轮渡|渡口|客运|航运|游船|索道|"
    r"日报|晚报|新闻|电视台|报社|融媒|广播"
)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’", '"': '"', "＂": "＂"}
_OPENING = re.compile("|".join(map(re.escape, _QUOTES)))
# A quotation this short is a keyword the seller asks for (后台回复"壶口"), not someone else's words.
_SHORT_QUOTE = 6
_QUESTION = re.compile(
    r"[？?]|[吗嘛么呢][\s~～。!！…\n]*$|有没有|是不是|要不要|能不能|值不值|哪家|靠谱不|怎么选|怎么办"
)
# A call to contact the poster in any wording: 私我, 豆邮我, 站内信我, 戳我, 滴滴我.
_CALL_ME = re.compile(r"(?:私|私信|戳|找|加|滴滴?|dd|豆邮|站内信|留言|联系|call|@|发给|交给|转给|发)我(?!们的|的)")
# An invitation to whoever is interested: "感兴趣的朋友可以私", "想参加的家长扫码", "需要的姐妹看主页".
_INVITE = re.compile(
    r"(?:有兴趣|感兴趣|有意|想参加|想报名|想来|想去|想要|需要|要)的?(?:话|朋友|小伙伴|姐妹|宝妈|宝宝|家长|同学|亲|老师|师兄)?"
    r"们?(?:可以|请|直接|快)?(?:私|联系|留言|评论|加|找|戳|扣|滴|dd|咨询|报名|扫码|进群|看主页|拍)"
)
# Call words that are actions, and so can be narrated: "我拍下的", "下单了".
_ACTIONS = {"拍下", "下单", "直接拍", "可以拍", "先拍", "闲鱼拍", "转账到", "转账至", "付款到", "缴费", "交费"}
# Talk, not trade: "有问题可以私信我", "欢迎留言交流" in a diary or an answer.
_CHAT = re.compile(
    r"(?:有问题|不懂的|交流|探讨|聊聊|讨论)[^。！？\n]{0,8}(?:私信|私我|留言|评论|问我)|(?:私信|留言|评论区?)[^。！？\n]{0,4}(?:交流|探讨|讨论)"
)
# A question that asks (a question word), not a seller's rhetorical "想要纸质书但太贵？" answered by the ad.
_ASKS = re.compile(
    r"请问|想问|问一下|求推荐|求助|怎么|如何|哪|[吗呢嘛]|靠谱|值不值|值得|要不要|有没有|能不能|是不是|多少钱|好还是|谁"
)
# An imperative to readers against something ("别在门口找黄牛", "不要在闲鱼买"), a redirect to an
# official or licensed channel ("请通过官方渠道", "一定要签合同"), or a prohibition ("禁止复印后出售").
# "不要犹豫" and "别错过" are sellers' words, not warnings.
_IMPERATIVE = re.compile(
    r"(?:别|不要|切勿|请勿|勿|千万别|千万不要|不建议|莫)(?!犹豫|错过|等|再等|担心|怕|客气)[\u4e00-\u9fff]{0,7}?"
    r"(?:购买|买|购|相信|信|找|跟|报名|报|参加|上当|贪|下载|传播|复印|走|搭理|转发)|"
    r"(?:请|务必|一定要?|记得|建议|最好)[^，。！？\n]{0,10}?(?:正规|官方|所属|所报名|资质|许可证|合同|核实|查询|慎重)"
    r"[\u4e00-\u9fff]{0,4}|"
    r"禁止|严禁|不得|不准|谨防|警惕"
)
# Tour groups told what to do ("旅行团请联系所属旅行社", "团队游客须由导游带领"): an operator's notice.
_ADDRESSED = re.compile(r"(?:旅行团|旅游团|团队|散客)[队伍]?(?:游客|客人)?(?:请|须|需|应|务必|一律|统一)")
# Someone else's offer reported: "有人在群里拉我们报名", "看到很多…的广告", "导游说不买不让走".
_REPORT = re.compile(
    r"(?:有人|有的|有些|别人|人家|对方|他们|店家|商家|卖家|老板|大哥|大叔|阿姨|黄牛|骗子|导游|司机|博主|网上|群里|很多人)"
    r"[^，。！？\n]{0,14}?(?:说|喊|称|自称|号称|推销|拉我|拉人|吆喝|问要不要|问我要不要)|"
    r"(?:看到|刷到|看了|见到|收到)[^。！？\n]{0,24}?(?:广告|宣传|传单|报价|的团|帖子|链接|在卖|卖)|"
    r"^(?:听说|据说|听人说)"
)
_FIRST_PERSON = re.compile(r"我|咱|俺|孩子|女儿|儿子|老公|老婆|爸妈|父母|老伴|同事|朋友|这次|那次|上次|这趟|那趟")
_PAST = re.compile(
    r"去年|前年|上个?月|上周|上次|那天|那次|当时|后来|结果|回来|刚从|刚走完|刚回|昨天|前几天|之前|曾经|"
    r"第[一二三四五六七八九十0-9]+天|[报去玩买跟住走交转花参看逛吃坐拉订签选到回爬拍带约叫问退付用乘比]了|"
    r"[去玩买跟住走看]过|是?在[^，。！？\n]{1,20}[报买订入]的|我于|当天|事后|购买了|支付了"
)
# A purchase told as a story, with or without a subject: "在某多多买的", "在闲鱼上报的".
_BOUGHT = re.compile(r"在[^，。！？\n]{1,12}[买报订入]的|买回来|收到货")
# Terms of a sale: a price per head next to what it includes ("含车住门票 699/人", "门票+讲解 一位260").
_PER_HEAD = re.compile(
    r"(?<!平均)(?<!人均)(?<!大概)(?:[0-9]+(?:\.[0-9]+)?\s*(?:元|块)?\s*/\s*(?:人|位|大人|成人)|(?:每人|一人|一位|每位)\s*[0-9]{2,}|"
    r"[0-9]{2,}\s*(?:元|块)?(?:一位|每位|一人|每人))(?!\s*(?:左右|上下|多))"
)
_INCLUDES = re.compile(r"含|包|\+|＋|、")
_OFFERED_THINGS = (
    "comp_transport",
    "comp_lodging",
    "comp_ticket",
    "comp_guide",
    "comp_meal",
    "tour_product",
    "private_guide",
)
# Seats left on a departure: "还差3个", "仅剩12个名额", "还有6个位置".
_SEATS = re.compile(
    r"(?:还有|还剩|仅剩|只剩|剩下?|余|还差|差)[0-9一二三四五六七八九十两几]{1,3}\s*(?:个|位|人|组|名|座|车位)"
)
# Separators and headings before the closing offer of a long text, and how far back its listing lines go.
_CLOSING = re.compile(r"^(?:[—\-=*~·_]{2,}|【|📣|福利|文末|最后|ps|p\.s|附[：:]|另外|顺便)", re.IGNORECASE)
_CLOSING_LINES = 8
_LISTING_LINE = 60


# A warning ("别在门口找黄牛"), a notice to tour groups or a complaint inside an offer is not the offer.
_NOT_THE_OFFER = frozenset(("warning", "addressed", "complaint"))
ROLES = ("offer", "terms", "warning", "addressed", "complaint", "report", "question", "rhetorical", "recount", "plain")


@dataclass
class Sentence:
    field: str
    start: int
    end: int
    role: str  # one of ROLES

    @property
    def counts(self) -> bool:
        return self.role not in _NOT_THE_OFFER


@dataclass
class SpeechAct:
    act: str
    genre: str  # what decided it, in words an officer reads (公告, 游记, 问答 …)
    cues: list = field(default_factory=list)  # (FieldSignals, Match or Span) behind the decision
    sentences: list[Sentence] = field(default_factory=list)
    quotes: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    offer_from: int | None = None  # a long text's trailing offer starts here (text field)
    _starts: dict | None = field(default=None, repr=False)

    @property
    def speaker(self) -> str:
        return SPEAKERS[self.act]

    @property
    def is_offer(self) -> bool:
        return self.act == OFFER

    @property
    def factor(self) -> float:
        return 1.0 if self.act == OFFER else NOT_AN_OFFER_FACTOR

    def quoted(self, field_name: str, start: int) -> bool:
        return any(s <= start < e for s, e in self.quotes.get(field_name, ()))

    def counts(self, field_name: str, start: int) -> bool:
        """Whether words at `start` in `field_name` are the poster's own offer (see the module doc)."""
        if self.quoted(field_name, start):
            return False
        if field_name == "text" and self.offer_from is not None and start < self.offer_from:
            return False
        sentence = self._sentence_at(field_name, start)
        return sentence.role not in _NOT_THE_OFFER if sentence else True

    def reason(self) -> tuple[str, str]:
        """(code, text) of the reason that explains the act to an officer."""
        cues = quote(self.cues)
        if self.act == OFFER:
            where = "（长文末尾）" if self.offer_from is not None else ""
            return "act_offer", f"发帖人在招揽或售卖{where}：{cues or '商品信息，未见提醒、游记或投诉语境'}"
        if self.act == WARNING:
            return "act_warning", f"发帖人是主管部门、学校、场馆、运营方或媒体，在提醒、公告或通报，不是在售卖：{cues}"
        if self.act == COMPLAINT:
            return "act_complaint", f"发帖人是投诉或维权的消费者，不是卖家：{cues}"
        return "act_mention", f"发帖人在回顾、提问或给建议（{self.genre}），不是在售卖：{cues}"

    def _sentence_at(self, field_name: str, start: int) -> Sentence | None:
        if self._starts is None:
            self._starts = {}
            for s in self.sentences:
                self._starts.setdefault(s.field, ([], []))
                self._starts[s.field][0].append(s.start)
                self._starts[s.field][1].append(s)
        starts, sentences = self._starts.get(field_name, ([], []))
        i = bisect.bisect_right(starts, start) - 1
        return sentences[i] if i >= 0 and start < sentences[i].end else None


def explain(signals: Signals, label: str) -> float:
    """Add the act's reason to `label` and return the factor the label's score is multiplied by."""
    act = signals.act
    if not isinstance(act, SpeechAct):
        return 1.0
    code, text = act.reason()
    signals.add(label, code, text, act.cues)
    return act.factor


def read(signals: Signals) -> SpeechAct:
    """The speech act of the post behind `signals`."""
    quotes = {f.name: _quoted(f.folded) for f in signals.fields}
    sentences: list[Sentence] = []
    cues: dict[str, list] = {role: [] for role in ROLES}
    for f in signals.fields:
        spans = _sentences(f.folded)
        ends = [end for _, end in spans]
        by_sentence: list[list] = [[] for _ in spans]
        for m in f.matches:  # each match to its sentence once: long articles have hundreds of both
            i = bisect.bisect_right(ends, m.start)
            if i < len(spans) and spans[i][0] <= m.start:
                by_sentence[i].append(m)
        for (start, end), matches in zip(spans, by_sentence, strict=True):
            role, found = _role(f, start, end, matches, quotes[f.name])
            sentences.append(Sentence(f.name, start, end, role))
            cues[role] += found
    act = SpeechAct(OFFER, "商品信息", sentences=sentences, quotes=quotes)
    calls = cues["offer"]  # the reader is called to buy or sign up from the poster
    news = _distinct(signals, "act_news", act)
    rules = _distinct(signals, "act_authority", act)
    notice = _distinct(signals, "act_notice", act) + rules
    warned = _distinct(signals, "act_warning", act) + cues["warning"] + cues["addressed"]
    authority = bool(AUTHORITY.search(signals.source_name or ""))
    # A notice by its title (公告, 通知, 须知) or one that tells tour groups what to do.
    posted = [(f, m) for f, m in signals.matches("act_notice") if f.name == "title"] + cues["addressed"]

    if (authority and (warned or (notice and not calls))) or (
        not calls and (len(news) >= 2 or (rules and warned) or posted)
    ):
        act.act, act.genre, act.cues = WARNING, "公告、提醒或通报", (news + warned + notice + posted)[:4]
        return act
    if calls:
        act.cues = calls[:4]
        act.offer_from = _trailing(signals, [s for s in sentences if s.role in ("offer", "terms")])
        return act
    writer = _writer(signals, act, cues, news, warned)
    # A complaint is the post's point when it is in the title or said twice, or when nothing else is said;
    # one "被坑" in passing in a diary is part of the story.
    complaints = cues["complaint"]
    in_title = any(f.name == "title" for f, _ in complaints)
    if complaints and (in_title or len(complaints) >= 2 or not writer):
        act.act, act.genre, act.cues = COMPLAINT, "投诉维权", complaints[:4]
        return act
    if complaints:
        writer["story"] = complaints
    if cues["terms"] and len(writer) < 2:  # "含车住门票 699/人" outweighs one 攻略 or one rhetorical question
        act.cues = cues["terms"][:4]
        return act
    if writer and signals.platform != "shop":  # a shop page is a listing whatever its words
        act.act = MENTION
        act.cues = [cue for kind in writer.values() for cue in kind][:4]
        act.genre = _mention_genre(writer)
        return act
    act.cues = cues["terms"][:4]
    return act


def _writer(signals: Signals, act: SpeechAct, cues: dict, news: list, warned: list) -> dict[str, list]:
    """A writer's cues by kind: questions, stories, reports of others' offers, genre words, warnings."""
    mention = _distinct(signals, "act_mention", act) + _distinct(signals, "act_question", act)
    recounted = _distinct(signals, "act_recount", act)
    if len(recounted) >= 2:  # one 去了 or 自驾 is common in listings; two are a story
        mention += recounted
    priced = _priced(signals, act)
    kinds = {
        "question": cues["question"] + ([] if priced else cues["rhetorical"]),  # "太贵？" in a priced ad is rhetoric
        "recount": cues["recount"],
        "report": cues["report"],
        "genre": mention,
        "news": news,
    }
    kinds = {kind: found for kind, found in kinds.items() if found}
    if warned and (kinds or not priced):  # "谨防野导，认准正规社" in a priced ad is a sales pitch, not advice
        kinds["advice"] = warned
    return kinds


def _role(f: FieldSignals, start: int, end: int, matches: list, quoted: list) -> tuple[str, list]:
    """The role of one sentence (`matches` are the keyword matches inside it) and the cues that gave it."""
    text = f.folded[start:end]

    def unquoted(pos: int) -> bool:
        return not any(s <= pos < e for s, e in quoted)

    def words(category: str) -> list:
        found = [(f, m) for m in matches if m.category == category and unquoted(m.start)]
        # "我拍下的春天", "下单了" narrate an action, they do not call for one.
        return [(f, m) for f, m in found if not (m.keyword in _ACTIONS and _narrated(f.folded, m))]

    complaint = words("act_complaint")
    if complaint:
        return "complaint", complaint
    addressed = [(f, Span((start + m.start(), start + m.end()))) for m in _ADDRESSED.finditer(text)]
    if addressed:
        return "addressed", addressed
    warning = words("act_warning") + [
        (f, Span((start + m.start(), start + m.end()))) for m in _IMPERATIVE.finditer(text)
    ]
    if warning:
        return "warning", warning
    report = [(f, Span((start + m.start(), start + m.end()))) for m in _REPORT.finditer(text)]
    if report:
        return "report", report
    if _CHAT.search(text) and not any(start <= c.span[0] < end for c in f.contacts):
        return "plain", []
    offer = words("act_offer") + [(f, c) for c in f.contacts if start <= c.span[0] < end and unquoted(c.span[0])]
    for pattern in (_SEATS, _CALL_ME, _INVITE):
        offer += [
            (f, Span((start + m.start(), start + m.end())))
            for m in pattern.finditer(text)
            if unquoted(start + m.start())
        ]
    recount = bool((_FIRST_PERSON.search(text) and _PAST.search(text)) or _BOUGHT.search(text))
    things = {m.category for m in matches if m.category in _OFFERED_THINGS}
    per_head = any(unquoted(start + m.start()) for m in _PER_HEAD.finditer(text)) and (
        len(things) >= 2 or (things and _INCLUDES.search(text))
    )
    terms = words("act_terms") or ([(f, Span((start, end)))] if per_head else [])
    if offer:
        return "offer", offer
    if terms and not recount:  # "我们交了定金" is a story, "定金500锁位" an offer
        return "terms", terms
    if words("act_question") or (_QUESTION.search(text) and _ASKS.search(text)):
        return "question", words("act_question") or [(f, Span((start, end)))]
    if _QUESTION.search(text):  # rhetorical unless the post sells nothing (see read)
        return "rhetorical", [(f, Span((start, end)))]
    if recount:
        return "recount", [(f, Span((start, end)))]
    return "plain", []


def _sentences(folded: str) -> list[tuple[int, int]]:
    """Sentence spans, each with the punctuation that ends it (a question mark is part of the question)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(folded):
        if m.start() > start:
            spans.append((start, m.end()))
        start = m.end()
    if start < len(folded):
        spans.append((start, len(folded)))
    return spans


def _quoted(folded: str) -> list[tuple[int, int]]:
    """Spans inside quotation marks that are someone's words, not a keyword the seller asks for."""
    spans, pos = [], 0
    while True:
        opening = _OPENING.search(folded, pos)
        if not opening:
            return spans
        close = folded.find(_QUOTES[opening.group()], opening.end())
        if close == -1:
            return spans
        if close - opening.end() > _SHORT_QUOTE:
            spans.append((opening.end(), close))
        pos = close + 1


def _trailing(signals: Signals, offers: list[Sentence]) -> int | None:
    """Where a long text's closing offer starts, when nothing before it (title included) is an offer.
    The closing part is the first offer sentence and the short listing lines just before it (费用：…,
    集合：…), back to a separator or a heading (——, 【本周活动】, 福利, 文末); a long narrative sentence
    ends the walk."""
    text = next((f for f in signals.fields if f.name == "text"), None)
    if text is None or len(text.folded) < LONG_TEXT or offers[0].field != "text":
        return None
    first = offers[0]
    if first.start < len(text.folded) * TRAILING_SHARE:
        return None
    before = [span for span in _sentences(text.folded) if span[1] <= first.start]
    start = first.start
    for span in reversed(before[-_CLOSING_LINES:]):
        line = text.folded[span[0] : span[1]].strip()
        if _CLOSING.match(line):
            return span[0]
        if len(line) > _LISTING_LINE:
            break
        start = span[0]
    return start


def _distinct(signals: Signals, category: str, act: SpeechAct) -> list:
    """Matches of `category` outside quotations, one per word."""
    seen, out = set(), []
    for f, m in signals.matches(category):
        if m.keyword not in seen and not act.quoted(f.name, m.start):
            seen.add(m.keyword)
            out.append((f, m))
    return out


def _priced(signals: Signals, act: SpeechAct) -> bool:
    """Something is priced by the poster: a listing price, or a price or sale term outside quotations,
    warnings, complaints and reports ("看到淘宝卖9.9的 别上当" prices nothing)."""
    if signals.price is not None:
        return True
    own = [s for s in act.sentences if s.role not in ("warning", "addressed", "complaint", "report")]

    def inside(f, start: int) -> bool:
        return not act.quoted(f.name, start) and any(s.field == f.name and s.start <= start < s.end for s in own)

    return any(inside(f, p.span[0]) for f in signals.fields for p in f.prices) or any(
        inside(f, m.start) for f, m in signals.matches("act_terms")
    )


def _mention_genre(writer: dict[str, list]) -> str:
    words = {getattr(m, "keyword", "") for _, m in writer.get("genre", [])}
    if words & {"书评", "读后感", "评分", "如何评价", "书单", "测评", "开箱", "读完"}:
        return "书评或测评"
    if "question" in writer:
        return "提问"
    if "recount" in writer or "report" in writer:
        return "游记或经历"
    if "advice" in writer and len(writer) == 1:
        return "提醒或建议"
    return "游记、攻略或分享"


def _narrated(folded: str, m) -> bool:
    return folded[m.end : m.end + 1] in ("的", "了") or folded[max(0, m.start - 1) : m.start] == "我"
