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
    if block is None and not title:
        return ParsedPage(state="error", extra={"error": "no title or text found"})
    author = ld.get("author")
    author = author.get("name") if isinstance(author, dict) else author
    published = parse_datetime(
        first_nonempty(
            ld.get("datePublished"), ld.get("pubDate"), doc.meta("article:published_time", "pubdate", "publishdate")
        )
    )
    return ParsedPage(
        state="ok",
        title=title,
        author=first_nonempty(author if isinstance(author, str) else "", doc.meta("author")) or None,
        published_at=published,
        text=node_text(block) if block is not None else "",
        images=collect_images(doc, [block] if block is not None else []),
        links=collect_links(doc, [block] if block is not None else []),
        extra={"page_type": "article"},
    )


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
