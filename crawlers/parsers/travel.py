"""Travel pages: 马蜂窝 travel notes (/i/<id>.html) and attraction (POI) pages, 携程 Q&A pages, and any
other travel article through the same fallbacks (JSON-LD, Open Graph, <h1>, the main text block)."""

from __future__ import annotations

import json
import re

from crawlers.parsers.htmlutil import Document, collect_images, collect_links, main_block, node_text, scoped_text
from crawlers.parsers.jsvars import js_object
from crawlers.parsers.model import ParsedPage
from crawlers.parsers.textutil import clean_line, first_nonempty, parse_datetime

_MFW_SUFFIX_RE = re.compile(r"\s*-\s*马蜂窝\s*$")
_CTRIP_SUFFIX_RE = re.compile(r"-[^-]*【携程攻略】\s*$")
_LABEL_VALUE_RE = re.compile(r"^(出发时间|出行天数|人物|人均费用)\s*/\s*(.+)$")
_NOTE_FACTS = {"出发时间": "departure_date", "出行天数": "days", "人物": "companions", "人均费用": "cost_per_person"}


def parse_travel(doc: Document, selectors: dict | None = None) -> ParsedPage:
    env = _mafengwo_env(doc)
    if isinstance(env, dict) and (env.get("iid") or doc.sel.css("._j_content_box")):
        return _mafengwo_note(doc, env)
    if isinstance(env, dict) and env.get("poiid"):
        return _mafengwo_poi(doc, env)
    if doc.sel.css(".pnl_askInfo, .ask_detail") or "ctrip.com" in doc.url:
        return _ctrip_qa(doc)
    return _article(doc)


def _mafengwo_env(doc: Document) -> object | None:
    scripts = [s for s in doc.sel.xpath("//script[not(@src)]/text()").getall() if "window.Env" in s]
    return js_object(scripts[0], "window.Env") if scripts else None


def _mafengwo_note(doc: Document, env: dict) -> ParsedPage:
    content = doc.sel.css("._j_content_box") or doc.sel.css(".vc_article")
    title = first_nonempty(
        doc.first_text("h1.headtext", ".view_title h1", "h1"), _MFW_SUFFIX_RE.sub("", doc.title_tag())
    )
    author = first_nonempty(
        doc.sel.css("a.per_name::attr(title)").get(), env.get("author_name"), doc.first_text("a.per_name")
    )
    facts = {}
    for line in (node_text(li) for li in doc.sel.css(".tarvel_dir_list li, .travel_dir_list li")):
        match = _LABEL_VALUE_RE.match(line)
        if match:
            facts[_NOTE_FACTS[match.group(1)]] = match.group(2)
    extra = {
        "site": "mafengwo",
        "page_type": "note",
        "note_id": str(env.get("iid") or ""),
        "author_uid": str(env.get("author_uid") or ""),
        **facts,
    }
    return ParsedPage(
        state="ok",
        title=title,
        author=author or None,
        # Only the byline's time: li.time elsewhere is the trip's departure date.
        published_at=parse_datetime(doc.first_text(".vc_time .time", ".time_info .time")),
        text=node_text(content[0]) if content else "",
        images=collect_images(doc, content),
        links=collect_links(doc, content),
        extra={k: v for k, v in extra.items() if v},
    )


def _mafengwo_poi(doc: Document, env: dict) -> ParsedPage:
    detail = doc.sel.css(".mod-detail")
    title = first_nonempty(
        doc.first_text(".title h1", "h1"), env.get("poiname"), _MFW_SUFFIX_RE.sub("", doc.title_tag())
    )
    extra = {
        "site": "mafengwo",
        "page_type": "poi",
        "poi_id": str(env.get("poiid") or ""),
        "destination": env.get("mddname"),
        "destination_id": str(env.get("mddid") or ""),
        "english_name": doc.first_text(".title .en"),
        "address": doc.first_text(".mod-location .mhd .sub"),
        "phone": doc.first_text(".baseinfo .tel .content"),
        "canonical_url": doc.absolute(doc.sel.css("link[rel=canonical]::attr(href)").get()),
        "review_count": _int(doc.first_text(".mod-comment .mhd em", ".mhd-large em")),
    }
    return ParsedPage(
        state="ok",
        title=title,
        text=node_text(detail[0]) if detail else doc.meta("description"),
        images=collect_images(doc, doc.sel.css(".row-bg, .mod-photo"))[:50],
        links=collect_links(doc, detail),
        seller_location=extra["address"] or None,
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _ctrip_qa(doc: Document) -> ParsedPage:
    ld = _json_ld(doc)
    question = doc.sel.css(".pnl_askInfo")
    title = first_nonempty(
        ld.get("title"), doc.first_text(".pnl_askInfo > .title"), _CTRIP_SUFFIX_RE.sub("", doc.title_tag())
    )
    body = first_nonempty(doc.first_text(".pnl_askInfo .summary"), ld.get("description"), doc.meta("description"))
    answers = []
    for li in doc.sel.css("li.pnl_answerInfo"):
        answers.append(
            {
                "author": scoped_text(li, ".user_type .icon_user"),
                "text": scoped_text(li, ".title"),
                "date": scoped_text(li, ".prop .date"),
                "accepted": bool(li.css(".accept")),
            }
        )
    lines = [title, body] + [f"{a['author']}：{a['text']}" for a in answers if a["text"]]
    published = parse_datetime(ld.get("pubDate")) or parse_datetime(doc.first_text(".qa_focus .date"))
    tags = [clean_line(t) for t in doc.sel.css(".list_tag a::text").getall() if clean_line(t)]
    extra = {
        "site": "ctrip",
        "page_type": "qa",
        "answers": answers,
        "answer_count": len(answers),
        "tags": tags,
        "canonical_url": doc.absolute(ld.get("@id")),
    }
    return ParsedPage(
        state="ok",
        title=title,
        author=doc.first_text("#ask_head .name") or None,
        published_at=published,
        text="\n".join(line for line in lines if line),
        images=collect_images(doc, question),
        links=collect_links(doc, question),
        extra={k: v for k, v in extra.items() if v not in (None, "", [])},
    )


def _article(doc: Document) -> ParsedPage:
    ld = _json_ld(doc)
    block = main_block(doc)
    title = first_nonempty(
        ld.get("headline"), ld.get("title"), doc.meta("og:title"), doc.first_text("h1"), doc.title_tag()
    )
    heading = doc.first_text("h1")
    if heading.startswith(title) and len(heading) > len(title):
        title = heading  # an og:title cut at a quote mark the site did not escape
    if block is None and not title:
        return ParsedPage(state="error", extra={"error": "no title or text found"})
    author = ld.get("author")
    author = author.get("name") if isinstance(author, dict) else author
    author = first_nonempty(author if isinstance(author, str) else "", doc.meta("author", "article:author"))
    body = doc.sel.xpath("//body")
    page_text = node_text(body[0]) if body else ""
    editor = _labelled_name(page_text, _EDITOR_RE)
    # News sites put the responsible editor (责任编辑) where an author belongs: in <meta name=author>
    # or as the only byline name. An editor is not the author.
    if author and (_EDITOR_WORD_RE.search(author) or (editor and _same_name(author, editor))):
        editor = editor or _EDITOR_WORD_RE.sub("", author).strip(" ：:")
        author = ""
    if not author:  # only a labelled byline name ("作者：…"): free text names too many people
        author = next(filter(None, (_labelled_name(t, _AUTHOR_RE) for t in _byline_texts(doc, ""))), "")
    raw_time = first_nonempty(
        ld.get("datePublished"),
        ld.get("pubDate"),
        doc.meta("article:published_time", "pubdate", "publishdate", "PubDate", "og:release_date"),
    )
    extra = {"page_type": "article", "editor": editor or None}
    return ParsedPage(
        state="ok",
        title=title,
        author=author or None,
        published_at=_published(doc, raw_time, page_text),
        text=node_text(block) if block is not None else "",
        images=collect_images(doc, [block] if block is not None else []),
        links=collect_links(doc, [block] if block is not None else []),
        extra={k: v for k, v in extra.items() if v},
    )


# Where news and travel sites print an article's time, besides <meta>.
BYLINE_QUERIES = (
    ".post_time_source",
    ".post_info",
    ".time-source",
    ".date-source",
    "#pubtime_baidu",
    ".pubtime",
    ".pub_time",
    ".publish-time",
    ".publish_time",
    ".article-info",
    ".info",
    ".time",
    ".date",
    "time",
)
_DATETIME_RE = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*[T\s]?\s*\d{1,2}[:时]\d{1,2}(?:[:分]\d{1,2})?"
)
_TIME_IN_RAW_RE = re.compile(r"\d{1,2}:\d{2}")
_EDITOR_WORD_RE = re.compile(r"责任编辑|责编|编辑|editor", re.I)
_EDITOR_RE = re.compile(r"(?:责任编辑|责编)\s*[:：]?\s*([^\s\]\[）()（|,，。]{1,24})")
_AUTHOR_RE = re.compile(r"(?:作者|撰文)\s*[:：]\s*([^\s\]\[）()（|,，。:：]{2,16})")


def _published(doc: Document, raw: str, page_text: str):
    """The publication time. A date alone (a <meta> of "2024-05-20") is completed from the byline's
    date-time of the same day ("2024-05-20 09:37:04"): midnight is not when it was published."""
    moment = parse_datetime(raw)
    # The byline is what readers see; a <meta> time of the same day can be the last edit.
    for query in BYLINE_QUERIES:
        for node in doc.sel.css(query)[:5]:
            match = _DATETIME_RE.search(node_text(node))
            found = parse_datetime(match.group()) if match else None
            if found is not None and (moment is None or found.date() == moment.date()):
                return found
    if moment is not None and _TIME_IN_RAW_RE.search(raw or ""):
        return moment
    for text in _byline_texts(doc, page_text):
        for match in _DATETIME_RE.finditer(text):
            found = parse_datetime(match.group())
            if found is not None and (moment is None or found.date() == moment.date()):
                return found
    return moment


def _byline_texts(doc: Document, page_text: str):
    for query in BYLINE_QUERIES:
        for node in doc.sel.css(query)[:5]:
            yield node_text(node)
    yield page_text[:4000]


def _labelled_name(text: str, pattern: re.Pattern) -> str:
    match = pattern.search(text or "")
    return clean_line(match.group(1)) if match else ""


def _same_name(a: str, b: str) -> bool:
    a, b = re.sub(r"\W|_", "", a), re.sub(r"\W|_", "", b)
    return bool(a and b) and (a in b or b in a)


def _json_ld(doc: Document) -> dict:
    for raw in doc.sel.xpath("//script[@type='application/ld+json']/text()").getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, list):
            data = next((d for d in data if isinstance(d, dict)), {})
        if isinstance(data, dict):
            return data
    return {}


def _int(value: str) -> int | None:
    digits = re.sub(r"\D", "", value or "")
    return int(digits) if digits else None
