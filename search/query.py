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
# A token of the query: an optional "-", then a field prefix and/or a quoted or bare value.
_TOKEN = re.compile(r'(-?)(?:([^\s:"“「『]+):)?(?:"([^"]*)"?|“([^”]*)”?|「([^」]*)」?|『([^』]*)』?|(\S+))')


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
    notice: str | None = None  # why words were ignored (stop characters, punctuation only)
    dropped_all_words: bool = False  # the user typed words but none is searchable

    @property
    def positive_terms(self) -> list[Term]:
        return [t for g in self.groups for t in g]

    @property
    def has_text(self) -> bool:
        return bool(self.groups)


def parse_query(text: str, max_length: int = 500, max_terms: int = 32) -> Query:
    """Parse what a patrol staff member typed. Raises UserError for input that cannot be a query."""
    text = text or ""
    if len(text) > max_length:
        raise UserError(f"查询过长：{len(text)} 个字符，最多 {max_length} 个。query too long")
    text = unicodedata.normalize("NFKC", text)  # full-width ： ＂ － ｜ become : " - |
    q = Query()
    pending_or = False
    stop_words: list[str] = []
    typed_words = 0
    for m in _TOKEN.finditer(text):
        neg, fname, *quoted, bare = m.groups()
        value = next((v for v in quoted if v is not None), None)
        phrase = value is not None
        value = value if phrase else bare
        if fname is not None and fname.lower() in FIELDS:
            _apply_filter(q, FIELDS[fname.lower()], value or "")
            continue
        if fname is not None:  # "http://x" or "a:b" that is not a field: search it as typed
            value = f"{fname}:{value or ''}"
        if not phrase and not neg and value in ("OR", "|"):
            if pending_or or not q.groups:
                # "OR" alone matched everything; a dangling one is a mistake to point out, not to guess.
                raise UserError(f"「{value}」前面要有关键词（第 {m.start() + 1} 个字符）。OR needs a word on each side")
            pending_or = True
            continue
        typed_words += 1
        if not phrase and is_stop_term(value):
            stop_words.append(value)
            continue
        pattern = term_pattern(value or "")
        if pattern is None:
            continue
        term = Term(value, phrase, pattern)
        if neg:
            q.excluded.append(term)
        elif pending_or:
            q.groups[-1].append(term)
        else:
            q.groups.append([term])
        pending_or = False
    if pending_or:
        raise UserError("查询以「OR」结尾，后面要有关键词。OR needs a word on each side")
    _finish(q, typed_words, stop_words, max_terms)
    return q


def _finish(q: Query, typed_words: int, stop_words: list[str], max_terms: int) -> None:
    n_terms = len(q.positive_terms) + len(q.excluded)
    if n_terms > max_terms:
        raise UserError(f"查询词太多：{n_terms} 个，最多 {max_terms} 个。too many terms")
    if typed_words and not q.groups:
        q.dropped_all_words = True
        q.notice = (
            "查询词全部是常用字（" + "、".join(dict.fromkeys(stop_words)) + "），请输入更具体的关键词"
            if stop_words
            else "查询中没有可搜索的文字，请输入关键词"
        )
    elif stop_words:
        q.notice = "已忽略常用字：" + "、".join(dict.fromkeys(stop_words))


def _apply_filter(q: Query, name: str, value: str) -> None:
    f = q.filters
    values = [v.strip() for v in value.split(",") if v.strip()]
    if not values:
        raise UserError(f"筛选条件 {name}: 缺少取值。filter {name} needs a value")
    if name == "label":
        f.labels += [_alias(LABEL_ALIASES, v, "标签 label") for v in values]
    elif name == "platform":
        f.platforms += [_alias(PLATFORM_ALIASES, v, "平台 platform") for v in values]
    elif name == "status":
        f.statuses += [_alias(STATUS_ALIASES, v, "状态 status") for v in values]
    elif name == "source":
        f.sources += values
    elif name == "grid":
        f.grids += values
    elif name == "sort":
        q.sort = _alias(SORT_ALIASES, values[0], "排序 sort")
    elif name == "date":
        f.date_from, f.date_to = parse_range(value, _parse_date, "日期 date")
    elif name == "score":
        f.score_min, f.score_max = parse_range(value, _parse_score, "分数 score")


def _alias(table: dict[str, str], value: str, what: str) -> str:
    hit = table.get(value.lower()) or table.get(value)
    if hit is None:
        choices = "、".join(sorted(set(table.values())))
        raise UserError(f"{what} 不认识的取值 {value!r}，可选：{choices}")
    return hit


def parse_range(value: str, conv, what: str):
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


def _parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{what}: {text!r} 不是日期，请写成 2026-01-31") from None


def _parse_score(text: str, what: str) -> float:
    try:
        v = float(text.strip())
    except ValueError:
        raise UserError(f"{what}: {text!r} 不是 0 到 1 之间的数") from None
    if not 0.0 <= v <= 1.0:
        raise UserError(f"{what}: {text!r} 不是 0 到 1 之间的数")
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
            raise UserError(f"不认识的筛选条件 {name!r}")
        _apply_filter(q, key, ",".join(value) if isinstance(value, (list, tuple)) else str(value))
    return q


def _apply_bound(f: QueryFilters, name: str, value: str) -> None:
    if name.startswith("date"):
        setattr(f, name, _parse_date(value, "日期 date"))
    else:
        setattr(f, name, _parse_score(value, "分数 score"))
