"""WeChat's account-information page (关于公众号 / 关于服务号: mp.weixin.qq.com/mp/aboutbiz?__biz=…).

The best evidence of who runs an account: its 微信号, its 认证主体 (the company or person that
verified it), the subject type, and its name history. The page has no "current name" field: the
account's name is the newest name in the history, when the page shows one.

    page.account                 the account's current name (the newest name in 名称记录), or None
    page.extra["wechat_id"]      微信号
    page.extra["subject"]        认证主体 / 账号主体 (the registered company or person)
    page.extra["subject_type"]   认证类型 / 主体类型 / 账号类型 (企业, 个人, 事业单位 …)
    page.extra["former_names"]   [{"name", "until"}] older names, newest first, with the date each was left
    page.extra["name_history"]   [{"date", "event", "name", "from"}] the 名称记录 lines as read
"""

from __future__ import annotations

import re

from crawlers.parsers.htmlutil import Document, node_text
from crawlers.parsers.model import ParsedPage
from crawlers.parsers.textutil import clean_line, parse_datetime

# The labels of the basic-info rows and the extra keys their values go to.
FIELD_LABELS = {
    "微信号": "wechat_id",
    "认证主体": "subject",
    "账号主体": "subject",
    "帐号主体": "subject",
    "认证类型": "subject_type",
    "主体类型": "subject_type",
    "账号类型": "subject_type",
    "帐号类型": "subject_type",
    "客服电话": "service_phone",
    "IP属地": "ip_location",
}
INTRO_LABELS = ("公众号简介", "服务号简介", "功能介绍", "简介")
# 名称记录 lines: "2022年09月23日 “怡红分院”改名“波元霸”", "2021年02月02日 “立安保险经纪”账号迁移改名“深蓝保”",
# "2019年08月27日 注册“浪主堂”".
_RENAME_RE = re.compile(r"[“\"]([^”\"]+)[”\"]\s*(?:账号迁移|帐号迁移)?改名\s*[“\"]([^”\"]+)[”\"]")
_REGISTER_RE = re.compile(r"注册\s*[“\"]([^”\"]+)[”\"]")


def is_account_info(doc: Document) -> bool:
    return bool(doc.css(".about-page .item-info"))


def parse_account_info(doc: Document, selectors: dict | None = None) -> ParsedPage:
    if not is_account_info(doc):
        return ParsedPage(
            state="error", title=doc.title_tag(), extra={"error": "not a WeChat account-information page"}
        )
    fields: dict[str, str] = {}
    intro = ""
    for row in doc.css(".about-page .item-info"):
        label = clean_line(" ".join(row.xpath("./*[contains(@class,'item-title')]//text()")))
        values = row.xpath("./*[contains(@class,'item-desc')]")
        value = node_text(values[0]) if values else ""
        if label in INTRO_LABELS and value:
            intro = value
        key = FIELD_LABELS.get(label)
        if key and value and key not in fields:
            fields[key] = value
    history = _name_history(doc)
    account = history[0]["name"] if history else ""
    former = [
        {"name": entry["from"], "until": entry["date"]}
        for entry in history
        if entry["event"] == "rename" and entry["from"]
    ]
    text_lines = [intro] + [f"{label}：{fields[key]}" for label, key in _LINE_ORDER if fields.get(key)]
    text_lines += [f"{h['date']} {h['line']}" for h in history]
    extra = {
        "page_type": "account_info",
        **fields,
        "description": intro,
        "former_names": former,
        "name_history": [{k: v for k, v in h.items() if k != "line"} for h in history],
        "biz": _biz(doc.url) or _biz(doc.text[:20000]),
    }
    return ParsedPage(
        state="ok",
        title=account or doc.title_tag(),
        account=account or None,
        text="\n".join(line for line in text_lines if line),
        extra={k: v for k, v in extra.items() if v not in (None, "", [])},
    )


_LINE_ORDER = (
    ("微信号", "wechat_id"),
    ("主体类型", "subject_type"),
    ("认证主体", "subject"),
    ("客服电话", "service_phone"),
)


def _name_history(doc: Document) -> list[dict]:
    """The 名称记录 lines, newest first, as the page lists them."""
    history = []
    for node in doc.css("#js_div_rename_history .js_item") or doc.css("#js_div_rename_history p"):
        line = node_text(node)
        moment = parse_datetime(line)
        date = moment.date().isoformat() if moment else ""
        rename = _RENAME_RE.search(line)
        register = _REGISTER_RE.search(line)
        if rename:
            history.append({"date": date, "event": "rename", "from": rename.group(1), "name": rename.group(2)})
        elif register:
            history.append({"date": date, "event": "register", "from": "", "name": register.group(1)})
        else:
            continue
        history[-1]["line"] = re.sub(r"^\S*\d{4}\S*\s*", "", line)
    return history


_BIZ_RE = re.compile(r"__biz=([A-Za-z0-9+/=%]+)")


def _biz(text: str) -> str:
    match = _BIZ_RE.search(text or "")
    return match.group(1).replace("%3D", "=") if match else ""
