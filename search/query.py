"""The patrol staff's query language, parsed once into a Query both backends translate.

    盗版 代购                 both words (AND)
    "港澳 跟团"               an exact phrase (also “…” and 「…」)
    跟团 OR 包机              either (OR binds tighter than the implicit AND)
    -招聘                     exclude
    label:unlicensed_travel   field filters, also in Chinese: 标签: 平台: 来源: 网格: 区县: 状态: 日期: 分数:
    date:2026-01-01..2026-01-31   score:>=0.8   sort:time / 排序:时间

Words are analysed by search.analysis, so 盜版 finds 盗版 and ＱＱ finds qq. Field filters carry plain
values; grid names are resolved against the database by the caller.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from core import vocabulary
from core.errors import UserError
from core.i18n import N_, Msg
from search.analysis import TermPattern, is_stop_term, term_pattern


def _aliases(*names: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """Words a filter value may be given as: the code, every name the vocabulary gives it, and a few
    colloquial words patrol staff type."""
    out = {code: code for code in names[0]}
    for mapping in names:
        out.update({name: code for code, name in mapping.items()})
    return {**out, **extra}


LABEL_ALIASES = _aliases(
    vocabulary.HIT_LABEL,
    vocabulary.HIT_LABEL_SHORT,
    extra={"旅行社": "unlicensed_travel", "出版物": "illegal_publication"},
)
PLATFORM_ALIASES = _aliases(vocabulary.PLATFORM, extra={"微信": "wechat", "公众号": "wechat", "店铺": "shop"})
# 待处理 was this status's name on the search page before the vocabulary gave it one name (saved
# searches may still say it); 新 and 排除 are what people type.
STATUS_ALIASES = _aliases(
    vocabulary.HIT_STATUS, extra={"新": "new", "待处理": "new", "排除": "dismissed", "线索": "clue"}
)
SORT_ALIASES = {"time": "time", "时间": "time", "relevance": "relevance", "相关": "relevance", "相关度": "relevance"}
FIELDS = {
    "label": "label",
    "标签": "label",
    "platform": "platform",
    "平台": "platform",
    "source": "source",
    "来源": "source",
    "grid": "grid",
    "网格": "grid",
    "区县": "grid",
    "街道": "grid",
    "status": "status",
    "状态": "status",
    "date": "date",
    "日期": "date",
    "score": "score",
    "分数": "score",
    "sort": "sort",
    "排序": "sort",
}
_OPEN_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_CLOSE_QUOTES = {"”": "“", "」": "「", "』": "『"}
# A token of the query: an optional "-", then a field prefix and/or a quoted or bare value.
_TOKEN = re.compile(r'(-?)(?:([^\s:"“「『]+):)?(?:"([^"]*)"?|“([^”]*)”?|「([^」]*)」?|『([^』]*)』?|(\S+))')


class QueryError(UserError):
    """A query that cannot be read as typed: what is wrong, in Chinese, and where. `start` and `length`
    are character offsets in the query as the user typed it (the page marks them, the API returns
    them, the CLI prints a caret under them)."""

    def __init__(self, message: str | Msg, query: str, start: int, length: int = 1):
        self.query = query
        self.start = max(0, min(start, len(query)))
        self.length = max(0, min(length, len(query) - self.start))
        self.reason = str(message)  # Chinese, for the API and the CLI
        where = Msg(N_("第 %(n)s 个字符"), n=self.start + 1) if self.start < len(query) else Msg(N_("查询末尾"))
        # A Msg (core.i18n): str() is the Chinese sentence, the web app shows it in the user's language.
        reason = message if isinstance(message, Msg) else Msg(message)
        super().__init__(Msg(N_("查询有误（%(where)s）：%(reason)s"), where=where, reason=reason))

    @property
    def position(self) -> int:
        """1-based, as the message says."""
        return self.start + 1

    def parts(self) -> dict[str, str]:
        """The query cut around the mistake: before, at (the characters at fault), after."""
        end = self.start + self.length
        return {"before": self.query[: self.start], "at": self.query[self.start : end], "after": self.query[end:]}

    def caret(self) -> str:
        """The query and a line of ^ under the fault, for a terminal (CJK characters are two columns)."""
        p = self.parts()
        return f"{self.query}\n{' ' * _width(p['before'])}{'^' * max(1, _width(p['at']))}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _nfkc(text: str) -> tuple[str, list[int]]:
    """NFKC character by character (full-width ： ＂ － ｜ （ become : " - | ( ), with the offset in the
    original text of every character of the result, so errors point at what the user typed."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch) or ch
        out.append(n)
        origin.extend([i] * len(n))
    origin.append(len(text))
    return "".join(out), origin


@dataclass(frozen=True)
class Term:
    text: str  # as the user typed it (normalised width)
    phrase: bool
    pattern: TermPattern


@dataclass
class QueryFilters:
    labels: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)  # codes or names; resolved to grid_ids by the caller
    grid_ids: set[int] | None = None  # resolved grid ids (a district or street matches its grids)
    statuses: list[str] = field(default_factory=list)
    date_from: dt.date | None = None  # inclusive, on the hit's day (published, else detected)
    date_to: dt.date | None = None  # inclusive
    score_min: float | None = None
    score_max: float | None = None

    def is_empty(self) -> bool:
        return not (
            self.labels
            or self.platforms
            or self.sources
            or self.grids
            or self.statuses
            or self.date_from
            or self.date_to
            or self.score_min is not None
            or self.score_max is not None
        )


@dataclass
class Query:
    groups: list[list[Term]] = field(default_factory=list)  # AND of ORs
    excluded: list[Term] = field(default_factory=list)
    filters: QueryFilters = field(default_factory=QueryFilters)
    sort: str | None = None
    notice: Msg | None = None  # why words were ignored (stop characters, punctuation only)
    dropped_all_words: bool = False  # the user typed words but none is searchable

    @property
    def positive_terms(self) -> list[Term]:
        return [t for g in self.groups for t in g]

    @property
    def has_text(self) -> bool:
        return bool(self.groups)


def parse_query(text: str, max_length: int = 500, max_terms: int = 32) -> Query:
    """Parse what a patrol staff member typed. Raises UserError for input that cannot be a query, and
    QueryError (a UserError) with the place for a malformed one: an unclosed or stray quote, empty
    quotes, an OR without a word on each side, an unbalanced parenthesis, a minus with nothing after
    it, a filter that is negated or has a bad value."""
    text = text or ""
    if len(text) > max_length:
        raise UserError(Msg(N_("查询过长：%(n)s 个字符，最多 %(max)s 个"), n=len(text), max=max_length))
    typed = text
    text, origin = _nfkc(text)

    def fail(message: str | Msg, start: int, end: int | None = None) -> QueryError:
        end = start + 1 if end is None else end
        a = origin[min(start, len(origin) - 1)]
        b = origin[min(max(end, start + 1), len(origin) - 1)] if end > start else a
        return QueryError(message, typed, a, max(0, b - a))

    q = Query()
    pending_or: int | None = None  # where the OR waiting for its right-hand word is
    stop_words: list[str] = []
    typed_words = 0
    parens: list[tuple[int, int, bool]] = []  # open "(": (position, groups before it, an OR before it)
    closed_group_at: int | None = None  # a ")" that closed several AND-ed words, just before this token
    for m in _TOKEN.finditer(text):
        neg, fname, *quoted, bare = m.groups()
        qi = next((i for i, v in enumerate(quoted) if v is not None), None)
        phrase = qi is not None
        if phrase:
            value = quoted[qi]
            v_start, v_end = m.span(3 + qi)
            if m.end() == v_end:  # the closing quote never came
                raise fail(Msg(N_(_UNCLOSED), quote=text[v_start - 1]), v_start - 1)
            if not value.strip():
                raise fail(N_("引号里没有内容"), v_start - 1, v_end + 1)
        else:
            value = bare
        if fname is not None and fname.lower() in FIELDS:
            if neg:
                raise fail(
                    N_("筛选条件不能用减号排除；请改选要保留的取值，如 platform:shop,wechat"), m.start(), m.end()
                )
            try:
                _apply_filter(q, FIELDS[fname.lower()], value or "")
            except UserError as exc:
                raise fail(
                    exc.args[0] if exc.args and isinstance(exc.args[0], Msg) else str(exc), m.start(), m.end()
                ) from None
            closed_group_at = None
            continue
        if fname is None and not phrase and value and value.endswith(":") and value[:-1].lower() in FIELDS:
            raise fail(
                Msg(N_("筛选条件「%(value)s」缺少取值（冒号后面紧跟取值，不要空格）"), value=value), m.start(), m.end()
            )
        if fname is not None:  # "http://x" or "a:b" that is not a field: search it as typed
            value = f"{fname}:{value or ''}"
        if not phrase:
            for k, ch in enumerate(value or ""):
                at = m.end() - len(value) + k
                if ch in _OPEN_QUOTES:
                    raise fail(Msg(N_(_UNCLOSED), quote=ch), at)
                if ch in _CLOSE_QUOTES:
                    raise fail(
                        Msg(
                            N_("结束引号「%(quote)s」前面没有配对的开始引号「%(open)s」"),
                            quote=ch,
                            open=_CLOSE_QUOTES[ch],
                        ),
                        at,
                    )
        if not phrase and not neg and value in ("OR", "|"):
            if pending_or is not None or not q.groups:
                # "OR" alone matched everything; a dangling one is a mistake to point out, not to guess.
                raise fail(Msg(N_("「%(value)s」前面要有关键词，如 代购 OR 包机"), value=value), m.start(), m.end())
            if closed_group_at is not None:
                raise fail(_PAREN_GROUP, closed_group_at)
            pending_or = m.start()
            continue
        if not phrase and value and set(value) <= {"-"}:
            raise fail(N_(_NOTHING_EXCLUDED), m.start(), m.end())
        closed_group_at = None
        if not phrase and value:  # parentheses do not group; they are checked, then read as punctuation
            start_of_value = m.end() - len(value)
            opens = len(value) - len(value.lstrip("("))
            for k in range(opens):
                parens.append((start_of_value + k, len(q.groups), pending_or is not None))
        typed_words += 1
        word = value if phrase else _unwrapped(value or "")
        added = _add_term(q, word, phrase, neg, pending_or is not None, stop_words)
        if added:
            pending_or = None
        elif neg and not is_stop_term(value):  # "-，": nothing to exclude
            raise fail(N_(_NOTHING_EXCLUDED), m.start(), m.end())
        if not phrase and value:
            for k, ch in enumerate(value):
                at = m.end() - len(value) + k
                if ch == "(" and k < opens:
                    continue  # a leading "(" was counted above
                if ch == "(":
                    parens.append((at, len(q.groups), False))
                elif ch == ")":
                    if not parens:
                        raise fail(N_("「)」前面没有配对的「(」"), at)
                    _pos, before, after_or = parens.pop()
                    # AND-ed words inside (盗版 教材): the first joined the OR's group when one came before
                    if len(q.groups) - before + after_or > 1:
                        if after_or:
                            raise fail(_PAREN_GROUP, at)
                        closed_group_at = at
    if pending_or is not None:
        raise fail(N_("查询以「OR」结尾，OR 后面要有关键词，如 代购 OR 包机"), pending_or, pending_or + 2)
    if parens:
        raise fail(N_("「(」没有配对的「)」；检索语法不用括号分组，任选其一写成 代购 OR 包机"), parens[0][0])
    _finish(q, typed_words, stop_words, max_terms)
    return q


def _unwrapped(value: str) -> str:
    """The word inside the parentheses around it: "(代购" → 代购, "包机)" → 包机, NEAR(x) stays."""
    word = value.lstrip("(")
    while word.endswith(")") and word.count(")") > word.count("("):
        word = word[:-1]
    return word or value


_PAREN_GROUP = N_("括号不能把几个词组成一组：OR 只连接它两边紧挨着的词（代购 OR 包机）；请分成几次检索")
# Message ids used twice (core.i18n: ids are the Chinese texts; the web app translates them).
_UNCLOSED = N_('引号「%(quote)s」没有配对的结束引号；短语要用一对引号括起来，如 "港澳 跟团"')
_NOTHING_EXCLUDED = N_("减号后面没有要排除的词；写成 -招聘（减号和词之间不要空格）")


def _add_term(q: Query, value: str | None, phrase: bool, neg: str, after_or: bool, stop_words: list[str]) -> bool:
    """Add one word or phrase to the query; False when it is a stop word or has no letters."""
    if not phrase and is_stop_term(value):
        stop_words.append(value)
        return False
    pattern = term_pattern(value or "")
    if pattern is None:
        return False
    term = Term(value, phrase, pattern)
    if neg:
        q.excluded.append(term)
    elif after_or:
        q.groups[-1].append(term)
    else:
        q.groups.append([term])
    return True


def _finish(q: Query, typed_words: int, stop_words: list[str], max_terms: int) -> None:
    n_terms = len(q.positive_terms) + len(q.excluded)
    if n_terms > max_terms:
        raise UserError(Msg(N_("查询词太多：%(n)s 个，最多 %(max)s 个"), n=n_terms, max=max_terms))
    if typed_words and not q.groups:
        q.dropped_all_words = True
        q.notice = (
            Msg(N_("查询词全部是常用字（%(words)s），请输入更具体的关键词"), words="、".join(dict.fromkeys(stop_words)))
            if stop_words
            else Msg(N_("查询中没有可搜索的文字，请输入关键词"))
        )
    elif stop_words:
        q.notice = Msg(N_("已忽略常用字：%(words)s"), words="、".join(dict.fromkeys(stop_words)))


def _apply_filter(q: Query, name: str, value: str) -> None:
    f = q.filters
    values = [v.strip() for v in value.split(",") if v.strip()]
    if not values:
        raise UserError(Msg(N_("筛选条件 %(name)s：缺少取值"), name=name))
    if name == "label":
        f.labels += [_alias(LABEL_ALIASES, v, Msg(N_("标签 label"))) for v in values]
    elif name == "platform":
        f.platforms += [_alias(PLATFORM_ALIASES, v, Msg(N_("平台 platform"))) for v in values]
    elif name == "status":
        f.statuses += [_alias(STATUS_ALIASES, v, Msg(N_("状态 status"))) for v in values]
    elif name == "source":
        f.sources += values
    elif name == "grid":
        f.grids += values
    elif name == "sort":
        q.sort = _alias(SORT_ALIASES, values[0], Msg(N_("排序 sort")))
    elif name == "date":
        f.date_from, f.date_to = parse_range(value, _parse_date, Msg(N_("日期 date")))
    elif name == "score":
        f.score_min, f.score_max = parse_range(value, _parse_score, Msg(N_("分数 score")))


def _alias(table: dict[str, str], value: str, what: Msg) -> str:
    hit = table.get(value.lower()) or table.get(value)
    if hit is None:
        choices = "、".join(sorted(set(table.values())))
        raise UserError(
            Msg(N_("%(what)s 不认识的取值 “%(value)s”，可选：%(choices)s"), what=what, value=value, choices=choices)
        )
    return hit


def parse_range(value: str, conv, what: Msg):
    """ "a..b", "a..", "..b", ">=a", "<=b" or a single value (a day is a one-day range; a score is a minimum)."""
    value = value.strip()
    if value.startswith(">="):
        return conv(value[2:], what), None
    if value.startswith("<="):
        return None, conv(value[2:], what)
    if ".." in value:
        lo, _, hi = value.partition("..")
        return (conv(lo, what) if lo.strip() else None), (conv(hi, what) if hi.strip() else None)
    one = conv(value, what)
    return (one, one) if isinstance(one, dt.date) else (one, None)


def _parse_date(text: str, what: Msg) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(Msg(N_("%(what)s：“%(text)s” 不是日期，请写成 2026-01-31"), what=what, text=text)) from None


def _parse_score(text: str, what: Msg) -> float:
    try:
        v = float(text.strip())
    except ValueError:
        raise UserError(Msg(N_("%(what)s：“%(text)s” 不是 0 到 1 之间的数"), what=what, text=text)) from None
    if not 0.0 <= v <= 1.0:
        raise UserError(Msg(N_("%(what)s：“%(text)s” 不是 0 到 1 之间的数"), what=what, text=text))
    return v


def merge_filters(q: Query, extra: dict | None) -> Query:
    """Add form/API filters (same names as the query fields) to a parsed query."""
    for name, value in (extra or {}).items():
        if value in (None, "", []):
            continue
        key = FIELDS.get(name)
        if key is None and name in ("date_from", "date_to", "score_min", "score_max"):
            _apply_bound(q.filters, name, str(value))
            continue
        if key is None:
            raise UserError(Msg(N_("不认识的筛选条件 “%(name)s”"), name=name))
        _apply_filter(q, key, ",".join(value) if isinstance(value, (list, tuple)) else str(value))
    return q


def _apply_bound(f: QueryFilters, name: str, value: str) -> None:
    if name.startswith("date"):
        setattr(f, name, _parse_date(value, Msg(N_("日期 date"))))
    else:
        setattr(f, name, _parse_score(value, Msg(N_("分数 score"))))
