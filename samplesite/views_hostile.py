"""Hostile content (#12): a small shop whose every field is an attack on the people who read our pages
and exports. Crawled text is written by the people we investigate; these pages make that concrete.

`/hostile/` lists the items (their links carry payloads in the query string, and two links are
`javascript:` and `data:` URLs a crawler must not follow); `/hostile/item/<n>` is one item page with
the title, seller, location and description a generic source reads (`h1.title`, `.seller`,
`.location`, `.desc`, `.price`, `time`). Each item is an unlicensed travel offer in 平江路 (the
sample district's grid 320508001001) so the detector makes it a located hit, and its fields carry:

- XSS: `"><img onerror>`, `</script><script>`, `<svg onload>`;
- JavaScript template literals: `${…}` and backticks (Folium's tooltips are template literals);
- Jinja: `{{ 7*191 }}` (shows 1337 if any server-side template ever runs it);
- spreadsheet formulas (OWASP CSV injection): `=HYPERLINK(…)`, `+cmd|' /C calc'!A0`, `-2+3`, `@SUM(…)`,
  a leading tab or carriage return, full-width `＝`;
- `javascript:` URLs as text and as links in the description.

Every script payload sets `window.__pwned`, so a browser test can tell whether anything ran. Nothing
here is linked from `/`, so the shipped sources and the demo never crawl it; tests/security/
test_hostile_e2e.py does, with its own source. The text is escaped into the page (the crawled text is
the payload itself, not markup).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort
from markupsafe import escape

bp = Blueprint("hostile", __name__)

PWN = "window.__pwned=(window.__pwned||0)+1"
XSS = f'"><img src=x onerror="{PWN}">'
SCRIPT = f"</script><script>{PWN}</script>"
SVG = f"<svg onload={PWN}>"
TEMPLATE = f"${{{PWN}}}`;{PWN};`"
JINJA = "{{ 7*191 }}{% if 1 %}jinja-ran{% endif %}"
JS_URL = f"javascript:{PWN}"
SSTI_MARK = "1337"  # what JINJA would print if a template engine ran it

_BODY = (
    "平江路古城一日游跟团，每天发团，纯玩无购物，含门票、导游讲解和午餐，199元/人。\n"
    "不用找旅行社，我们自己组团，私人导游全程陪同，接送酒店。\n"
    "报名咨询：薇：gusu7074，名额有限，先到先得。"
)

# (title, seller, location, first line of the description): a formula trigger leads each field.
ITEMS: list[tuple[str, str, str, str]] = [
    (
        f'=HYPERLINK("http://127.0.0.1:9/x","点此报名"){XSS}平江路一日游跟团',
        f"+cmd|' /C calc'!A0{SCRIPT}",
        f"@SUM(1+1){TEMPLATE}平江路",
        f"-2+3 {JINJA}",
    ),
    (
        f"+cmd|' /C calc'!A0 {TEMPLATE}平江路跟团游",
        f"=1+1{XSS}",
        f"-2+3{SVG}平江路",
        f"@SUM(A1:A9) {JS_URL}",
    ),
    (
        f"-2+3 {SCRIPT}平江路跟团一日游",
        f"@SUM(1+1){JS_URL}",
        f"={JINJA}平江路",
        f'=HYPERLINK("{JS_URL}","点我") {TEMPLATE}',
    ),
    (
        f"@SUM(1+1) {JINJA} 平江路纯玩跟团",
        f"{JS_URL} {TEMPLATE}",
        f"+86 512 0000 0000 {XSS}平江路",
        f"\t=1+1 {SVG}",
    ),
    (
        f"\t=1+1\t平江路跟团游 {SVG}",
        f"\r=1+1 {JINJA}",
        f"\t@SUM(1) {SCRIPT}平江路",
        f"\r-1+1 {XSS}",
    ),
    (
        f"＝1+1 {JS_URL} 平江路私人导游跟团",
        f"－1 {SVG}",
        f"＠SUM(1) {JINJA}平江路",
        f"+1 {SCRIPT}",
    ),
]
# Query strings the item links carry: the crawled URL is hostile too.
URL_PAYLOADS = [f'ref="><svg/onload={PWN}>', "t=${alert(1)}`", f"u={JS_URL}", "q={{7*191}}", "x=</script>", "f==1+1"]


def item_path(n: int) -> str:
    return f"/hostile/item/{n}?{quote(URL_PAYLOADS[n % len(URL_PAYLOADS)], safe='=')}"


@bp.get("/hostile/")
def listing():
    links = "".join(
        f'<li><a class="item" href="{escape(item_path(n))}">{escape(title)}</a></li>'
        for n, (title, *_rest) in enumerate(ITEMS)
    )
    traps = (
        f'<li><a class="item" href="{escape(JS_URL)}">{escape(JS_URL)}</a></li>'
        '<li><a class="item" href="data:text/html,&lt;script&gt;window.__pwned=1&lt;/script&gt;">data</a></li>'
    )
    return _page("平江路跟团游 · 商品列表", f"<ul class='items'>{links}{traps}</ul>")


@bp.get("/hostile/item/<int:n>")
def item(n: int):
    if not 0 <= n < len(ITEMS):
        abort(404)
    title, seller, location, lead = ITEMS[n]
    desc = "".join(f"<p>{escape(line)}</p>" for line in [lead, *_BODY.split("\n"), SCRIPT, XSS])
    desc += f'<p><a href="{escape(JS_URL)}">{escape(JS_URL)}</a></p>'
    body = (
        f'<h1 class="title">{escape(title)}</h1>'
        f'<div class="seller"><a href="{escape(JS_URL)}">{escape(seller)}</a></div>'
        f'<div class="location">{escape(location)}</div>'
        '<div class="price">199.00</div><time>2026-05-01 09:30</time>'
        f'<div class="desc">{desc}</div>'
    )
    return _page(title, body)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )
