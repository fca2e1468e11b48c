"""The printable 电子数据提取笔录 of an export (summary.html), and its PDF printed by Chromium."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from core.chromium import BROWSER_ARGS
from core.config import Config
from core.reasons import unique as unique_reasons
from core.vocabulary import HIT_LABEL_CHARGE, name

_env = Environment(loader=PackageLoader("evidence", "templates"), autoescape=select_autoescape(["html"]))


def render_summary(
    cfg: Config,
    bundle,
    files: list[dict[str, Any]],
    officer: str,
    exported_at: dt.datetime,
    version: str,
    anchor: dict[str, Any] | None = None,
) -> str:
    """The summary page; `files` are the package's evidence files with name, label, sha256, size;
    `anchor` the signed anchor covering the record (evidence.export), or {"note": why there is none}."""
    ev, hit, meta = bundle.evidence, bundle.hit, bundle.headers
    text = bundle.text.decode("utf-8", errors="replace")
    limit = int(cfg.evidence.summary_excerpt_chars)
    local = exported_at.astimezone(_zone(cfg))
    pv = bundle.page_version
    return _env.get_template("summary.html").render(
        ev=ev,
        hit=hit,
        cause=cause_of(hit.labels),
        clue_no=f"WX-{hit.id:06d}",
        case_no=bundle.case_no,
        title=hit.title or (pv.title if pv else None),
        account=hit.account or (pv.account if pv else None),
        source=hit.source,
        platform=hit.platform,
        version=version,
        crawler=meta.get("crawler"),
        method=meta.get("method", "GET"),
        protocol=meta.get("protocol", "HTTP/1.1"),
        user_agent=_header(meta.get("request_headers") or {}, "user-agent"),
        status=ev.status,
        fetched_local=_pretty_local(ev.fetched_at_local),
        fetched_utc=ev.fetched_at_utc.strftime("%Y-%m-%d %H:%M:%S"),
        exported_local=local.strftime("%Y-%m-%d %H:%M:%S"),
        export_date=local.strftime("%Y年%m月%d日"),
        files=files,
        has_screenshot=bundle.screenshot is not None,
        excerpt=text[:limit],
        truncated=len(text) > limit,
        excerpt_chars=limit,
        text_chars=len(text),
        reasons=[reason_line(r) for r in unique_reasons(hit.reasons)],  # one line per reason, not per field
        score=float(hit.score or 0.0),
        officer=officer,
        raw_body=next((f["name"] for f in files if f["name"].startswith("response_body.")), "response_body"),
        anchor=anchor or {},
    )


def render_safe_view(cfg: Config, bundle) -> str:
    """safe_view.html: the page for people to read, built only from the extracted text and the
    screenshot, never from the crawled markup; its Content-Security-Policy lets nothing run or load."""
    ev, hit = bundle.evidence, bundle.hit
    pv = bundle.page_version
    return _env.get_template("safe_view.html").render(
        hit=hit,
        ev=ev,
        title=hit.title or (pv.title if pv else None),
        account=hit.account or (pv.account if pv else None),
        fetched_local=_pretty_local(ev.fetched_at_local),
        text=bundle.text.decode("utf-8", errors="replace"),
        has_screenshot=bundle.screenshot is not None,
    )


def cause_of(labels: list[str] | None) -> str:
    """案由 from the hit's labels, in Chinese."""
    names = [name(HIT_LABEL_CHARGE, label) for label in labels or []]
    return "；".join(names) or "网络巡查发现的可疑页面"


def reason_line(reason: dict[str, Any] | str) -> str:
    if isinstance(reason, str):
        return reason
    label = name(HIT_LABEL_CHARGE, reason.get("label", ""))
    code = f"（规则 {reason['code']}）" if reason.get("code") else ""
    return f"{label + '：' if label else ''}{reason.get('text', '')}{code}"


def print_pdf(cfg: Config, html_path: Path, pdf_path: Path) -> str | None:
    """Print the summary with the system Chromium; None when written, else why it was skipped."""
    chromium = Path(cfg.evidence.chromium_path)
    if not cfg.evidence.write_pdf:
        return "summary.pdf not written: disabled by evidence.write_pdf"
    if not chromium.exists():
        return f"summary.pdf not written: Chromium not found at {chromium}"
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    timeout_ms = float(cfg.evidence.pdf_timeout_s) * 1000
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium), args=list(BROWSER_ARGS), timeout=timeout_ms)
            try:
                page = browser.new_page()
                page.goto(html_path.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
                page.pdf(
                    path=str(pdf_path),
                    format="A4",
                    print_background=True,
                    prefer_css_page_size=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=_FOOTER,
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        pdf_path.unlink(missing_ok=True)
        return f"summary.pdf not written: {str(exc).splitlines()[0]}"
    return None


_FOOTER = (
    '<div style="width:100%;font-size:8pt;text-align:center;">'
    '第 <span class="pageNumber"></span> 页 共 <span class="totalPages"></span> 页</div>'
)


def _zone(cfg: Config):
    from zoneinfo import ZoneInfo

    return ZoneInfo(cfg.core.timezone)


def _pretty_local(iso: str) -> str:
    moment = dt.datetime.fromisoformat(iso)
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S')}（{moment.strftime('%z')[:3]}:{moment.strftime('%z')[3:]}）"


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value if isinstance(value, str) else ", ".join(value)
    return None
