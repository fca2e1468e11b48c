"""The shared analysis, the query language and the embedded backend's SQL, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import UserError
from search.analysis import index_terms, normalize, term_pattern, tokens
from search.backends import sqlite_sql
from search.backends.base import SearchParams
from search.highlight import find_spans, snippet
from search.query import QueryError, parse_query


def test_normalize_keeps_length_and_folds_width_case_and_traditional():
    src = "盜版書籍ＱＱ群Ａ５，臺灣"
    out = normalize(src)
    assert len(out) == len(src)
    assert out == "盗版书籍qq群a5，台湾"


def test_tokens_are_bigrams_plus_a_final_unigram_per_cjk_run():
    assert index_terms("盗版书，QQ群 5A级") == "盗版 版书 书 qq 群 5a 级"
    toks = tokens("盗版书")
    assert [(t.term, t.start, t.length) for t in toks] == [("盗版", 0, 2), ("版书", 1, 2), ("书", 2, 1)]


def test_query_patterns():
    assert term_pattern("书").terms == ("书",) and term_pattern("书").prefix
    p = term_pattern("盗版书")
    assert p.terms == ("盗版", "版书") and not p.prefix
    assert term_pattern("qq群").terms == ("qq", "群") and term_pattern("qq群").prefix
    assert term_pattern("，。！") is None


def test_query_language():
    q = parse_query(
        '"港澳 跟团" OR 包机 -招聘 label:旅行社 平台：网店 status:线索 date:2026-03-01.. score:0.5..0.9 '
        "sort:时间 区县:姑苏区 来源:公众号甲"
    )
    assert [[t.text for t in g] for g in q.groups] == [["港澳 跟团", "包机"]]
    assert q.groups[0][0].phrase and [t.text for t in q.excluded] == ["招聘"]
    f = q.filters
    assert (f.labels, f.platforms, f.statuses, f.grids, f.sources) == (
        ["unlicensed_travel"],
        ["shop"],
        ["clue"],
        ["姑苏区"],
        ["公众号甲"],
    )
    assert f.date_from == dt.date(2026, 3, 1) and f.date_to is None
    assert (f.score_min, f.score_max) == (0.5, 0.9) and q.sort == "time"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("label:火星", "标签"),
        ("date:昨天", "日期"),
        ("score:2", "分数"),
        ("盗" * 501, "查询过长"),
        (" ".join(f"词{i}" for i in range(40)), "查询词太多"),
    ],
)
def test_query_errors_are_one_clear_line(bad, message):
    with pytest.raises(UserError, match=message):
        parse_query(bad)


def test_stop_characters_are_dropped_only_as_whole_terms():
    q = parse_query("的 目的地")
    assert [t.text for t in q.positive_terms] == ["目的地"] and "的" in str(q.notice)
    assert parse_query("的 了").dropped_all_words


def test_match_expression_is_escaped_tokens_only():
    q = parse_query('书 "盗版 教材" OR 代购 -招聘 NEAR(x) "a" b')
    expr = sqlite_sql.match_expression(q)
    # FTS5 syntax typed by the user (NEAR, stray quotes) ends up as quoted tokens, never as operators
    assert expr == (
        '({title body account reasons} : ("书"* AND ("盗版 版 教材" OR "代购") AND "near x" AND "a" AND "b"))'
        ' NOT {title body account reasons} : "招聘"'
    )


def test_plan_filters_are_hashed_tags_and_bound_ranges():
    q = parse_query("盗版 platform:shop source:x' status:new score:>=0.5 date:2026-03-01")
    q.filters.grid_ids = {5}
    plan = sqlite_sql.plan(q, SearchParams(grid_ids={5, 6}), window=10000)
    assert "x'" not in plan.match and "x'" not in plan.page_sql
    assert sqlite_sql.tag("source", "x'") in plan.match and sqlite_sql.tag("grid", 6) in plan.match
    assert plan.args == [plan.match, "2026-03-01", "2026-03-01", 0.5]
    assert plan.ranked and "LIMIT 10000" in plan.window_ids_sql()
    assert "search_fts.rowid DESC" in sqlite_sql.plan(parse_query("盗版"), SearchParams(sort="time"), 10).page_sql
    assert sqlite_sql.plan(parse_query("盗版"), SearchParams(grid_ids=set()), 10).empty  # an empty zone
    assert (
        sqlite_sql.match_expression(parse_query("-招聘")) == '(tags : "tall") NOT {title body account reasons} : "招聘"'
    )


def test_highlight_spans_fall_on_original_characters():
    text = "【港澳跟團游】盜版書籍，ＱＱ群，书店的书"
    spans = find_spans(text, [term_pattern("书"), term_pattern("跟团")])
    assert [text[a:b] for a, b in spans] == ["跟團", "書", "书", "书"]
    assert [text[a:b] for a, b in find_spans(text, [term_pattern("qq")])] == ["ＱＱ"]
    assert find_spans("qqq群", [term_pattern("qq")]) == []  # whole latin words only
    s = snippet("text", "前" * 300 + "盗版" + "后" * 300, [term_pattern("盗版")], size=40)
    assert s.text.startswith("…") and s.text.endswith("…")
    assert [s.text[a:b] for a, b in s.spans] == ["盗版"] and "<mark>盗版</mark>" in s.html


def test_embedded_relevance_prefers_titles_frequency_and_rare_words():
    from search.backends import sqlite_rank

    rows = [
        (1, "旅游", "盗版书籍", ""),
        (2, "盗版书籍", "旅游", ""),
        (3, "旅游", "盗版书籍 盗版光盘", ""),
        (4, "旅游", "没有", ""),
    ]
    ranked = [i for i, _ in sqlite_rank.rank(rows, [("盗版", 1.0)])]
    assert ranked[:3] == [2, 3, 1] and ranked[3] == 4  # title first, then two mentions, then one
    rare, common = sqlite_rank.idf(1000, 10), sqlite_rank.idf(1000, 900)
    assert rare > common > 0
    ranked = [
        i for i, _ in sqlite_rank.rank([(1, "", "盗版", ""), (2, "", "旅游", "")], [("盗版", common), ("旅游", rare)])
    ]
    assert ranked == [2, 1]


@pytest.mark.parametrize("text", ["OR", "|", "OR 盗版", "盗版 OR", "盗版 OR OR 代购", "-招聘 OR 代购"])
def test_a_dangling_or_is_refused_not_read_as_everything(text):
    with pytest.raises(QueryError, match="OR"):
        parse_query(text)


# (query, where the mistake is: the characters the error points at, what the message says)
MALFORMED = [
    ('"港澳 跟团', '"', "没有配对的结束引号"),
    ("盗版 “港澳 跟团", "“", "没有配对的结束引号"),
    ("「港澳", "「", "没有配对的结束引号"),
    ("盗版 ＂港澳", "＂", "没有配对的结束引号"),  # full width, pointed at as typed
    ('盗版 a"b', '"', "没有配对的结束引号"),
    ("港澳”", "”", "前面没有配对的开始引号"),
    ('盗版 ""', '""', "引号里没有内容"),
    ("港澳 跟团 OR", "OR", "OR 后面要有关键词"),
    ("港澳 跟团 |", "|", "OR 后面要有关键词"),
    ("盗版 ＯＲ", "ＯＲ", "OR 后面要有关键词"),
    ("OR 盗版", "OR", "前面要有关键词"),
    ("盗版 OR OR 代购", "OR", "前面要有关键词"),
    ("(代购 OR 包机", "(", "没有配对的「)」"),
    ("港澳 （代购 OR 包机", "（", "没有配对的「)」"),
    ("代购 OR 包机)", ")", "前面没有配对的「(」"),
    ("((代购)", "(", "没有配对的「)」"),
    ("(盗版 教材) OR 代购", ")", "括号不能把几个词组成一组"),
    ("代购 OR (盗版 教材)", ")", "括号不能把几个词组成一组"),
    ("盗版 -", "-", "减号后面没有要排除的词"),
    ("盗版 - 招聘", "-", "减号后面没有要排除的词"),
    ("盗版 --", "--", "减号后面没有要排除的词"),
    ("盗版 -，", "-，", "减号后面没有要排除的词"),
    ("盗版 －", "－", "减号后面没有要排除的词"),
    ("-platform:shop 盗版", "-platform:shop", "不能用减号排除"),
    ("盗版 label:", "label:", "缺少取值"),
    ("盗版 平台：", "平台：", "缺少取值"),
    ("盗版 label:火星", "label:火星", "不认识的取值"),
    ("盗版 date:昨天", "date:昨天", "不是日期"),
    ("盗版 score:2", "score:2", "0 到 1"),
]


@pytest.mark.parametrize("text, at, message", MALFORMED)
def test_malformed_queries_say_what_is_wrong_and_where(text, at, message):
    with pytest.raises(QueryError) as info:
        parse_query(text)
    err = info.value
    assert message in str(err) and f"第 {err.position} 个字符" in str(err)
    assert err.parts()["at"] == at and text.index(at, len(err.parts()["before"])) == err.start
    assert "".join(err.parts().values()) == text
    assert err.caret().splitlines()[0] == text and "^" in err.caret().splitlines()[1]


@pytest.mark.parametrize(
    "text, groups",
    [
        ("(代购 OR 包机)", [["代购", "包机"]]),
        ("港澳 (代购 OR 包机)", [["港澳"], ["代购", "包机"]]),
        ("港澳 OR (代购 OR 包机)", [["港澳", "代购", "包机"]]),
        ('"港澳 (跟团"', [["港澳 (跟团"]]),  # inside quotes a parenthesis is text
        ("NEAR(x)", [["NEAR(x)"]]),
        ("http://x.example/a-b", [["http://x.example/a-b"]]),
    ],
)
def test_balanced_parentheses_and_look_alikes_still_parse(text, groups):
    assert [[t.text for t in g] for g in parse_query(text).groups] == groups
