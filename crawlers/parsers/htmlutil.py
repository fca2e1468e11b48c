"""One parsed HTML document (lxml through parsel) and the helpers every HTML parser uses."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator
from parsel.selector import create_root_node

from crawlers.parsers.textutil import clean_block, clean_line

# Never page text: code, styling, embedded documents and vector art.
SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "canvas",
        "iframe",
        "object",
        "embed",
        "head",
        "title",
        "meta",
        "link",
        "select",
        "textarea",
    }
)
# Elements that start a new line of text.
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "main",
        "nav",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "form",
        "fieldset",
        "address",
        "hr",
        "br",
        "details",
        "summary",
        "center",
        "body",
        "html",
    }
)
IMAGE_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "src")
# main_block() takes a paragraph parent holding this much text, or this share of the page's text.
MAIN_BLOCK_MIN_CHARS = 200
MAIN_BLOCK_MIN_SHARE = 0.25
_WHITESPACE_RE = re.compile(r"\s+")
_SEGMENT = "\x1f"  # marks a collapsed source line break until CJK neighbours are known
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_SEGMENT_RE = re.compile(f"(?<=[{_CJK}])[ \x1f]*\x1f[ \x1f]*(?=[{_CJK}])")
_META_ATTRS = ("property", "name", "itemprop")
_NOT_LINKS = ("javascript:", "mailto:", "tel:", "data:", "about:", "#", "sms:", "weixin:")
_CSS = HTMLTranslator()  # the translator parsel's Selector.css uses, so queries mean the same
# What the translator makes of a plain "#name" query; such queries are answered from Document._ids.
_ID_XPATH_RE = re.compile(r"descendant-or-self::\*\[@id = '([^']*)'\]")


class Document:
    """The decoded page: its text, its URL, and a parsel Selector built on first use.

    The parsers' own fixed queries go through css()/xpath() (compiled once, raw lxml results);
    `sel` stays for queries that come from outside, such as a source's configured selectors."""

    def __init__(self, url: str, text: str, encoding: str = "utf-8", base_url: str = ""):
        self.url = url or ""
        self.text = text
        self.encoding = encoding
        try:
            own_scheme = urlsplit(self.url).scheme
        except ValueError:  # e.g. an unbalanced "[" in the host
            own_scheme = ""
        self.base_url = self.url if own_scheme in ("http", "https") else base_url

    @functools.cached_property
    def sel(self) -> Selector:
        blank = not self.text or self.text.isspace()  # `not text.strip()`, without copying the page
        # What Selector(text=..., type="html") builds, with plain lxml elements instead of lxml.html's
        # HtmlElement: lxml.html picks each element's class in a Python callback, run for every
        # element the parsers touch (~0.06 ms of a 1 ms article), and no parser uses HtmlElement's methods.
        root = create_root_node("<html></html>" if blank else self.text, etree.HTMLParser, huge_tree=True)
        return Selector(root=root, type="html")

    def css(self, query: str) -> list:
        """What sel.css(query) finds, as lxml elements and strings instead of Selectors: parsel
        wraps every result in a new Selector, and a plain "#id" query walks the whole tree."""
        ident = _id_of(query)
        if ident is not None:
            return list(self._ids.get(ident, ()))
        return _compiled(_CSS.css_to_xpath(query))(self.sel.root)

    def xpath(self, query: str) -> list:
        """What sel.xpath(query) finds, as lxml elements and strings."""
        return _compiled(query)(self.sel.root)

    @functools.cached_property
    def _ids(self) -> dict[str, list]:
        """id -> the elements carrying it, in document order. One walk of the tree answers every
        "#id" query; libxml2 pays about the same per node for each walk whatever it looks for."""
        found: dict[str, list] = {}
        for element in _compiled("descendant-or-self::*[@id]")(self.sel.root):
            found.setdefault(element.get("id"), []).append(element)
        return found

    def first_text(self, *queries: str) -> str:
        """The first non-empty clean text among CSS queries (element text, or ::text / ::attr results)."""
        for query in queries:
            for node in self.css(query):
                value = node_text(node)
                if value:
                    return value
        return ""

    def meta(self, *names: str) -> str:
        """content of the first <meta property|name|itemprop=NAME> that has one."""
        metas = self._metas
        for name in names:
            for attr in _META_ATTRS:
                value = metas.get((attr, name))
                if value and value.strip():
                    return clean_line(value)
        return ""

    @functools.cached_property
    def _metas(self) -> dict[tuple[str, str], str]:
        """(attribute, its value) -> content of the first <meta> with both, read in one pass: parsers
        ask for a dozen names, and one XPath query per name and attribute was a third of parsing."""
        found: dict[tuple[str, str], str] = {}
        for meta in self.sel.root.iter("meta"):
            content = meta.get("content")
            if content is None:
                continue
            for attr in _META_ATTRS:
                key = meta.get(attr)
                if key is not None:
                    found.setdefault((attr, key), content)
        return found

    def title_tag(self) -> str:
        return clean_line(" ".join(self.xpath("//title//text()")))

    def absolute(self, href: str | None) -> str | None:
        return absolute_url(self.base_url, href)


@functools.lru_cache(maxsize=512)
def _compiled(xpath: str) -> etree.XPath:
    """An XPath compiled once, with parsel's settings (plain str results, no namespaces)."""
    return etree.XPath(xpath, smart_strings=False)


@functools.lru_cache(maxsize=512)
def _id_of(query: str) -> str | None:
    """The id a CSS query asks for when it is nothing but "#id", else None."""
    match = _ID_XPATH_RE.fullmatch(_CSS.css_to_xpath(query))
    return match.group(1) if match else None


def _root(node):
    """The lxml element or string behind a Selector; an lxml result is its own root."""
    return node.root if isinstance(node, Selector) else node


def node_text(node) -> str:
    """Clean text of a Selector or an lxml result: a string as it is, an element as its visible text."""
    root = _root(node)
    if isinstance(root, str):
        return clean_block(root)
    return element_text(root)


def element_text(element) -> str:
    """Visible text of an lxml element: scripts and styles dropped, one line per block element,
    whitespace collapsed as a browser does. Iterative, so deeply nested broken markup cannot
    overflow the stack; comments are skipped but the text after them is kept."""
    if not isinstance(getattr(element, "tag", None), str):
        return ""
    parts: list[str] = []
    # lxml walks the tree in C, a quarter faster than a Python stack of (node, closing) pairs. A
    # skipped node (script, style…, or a non-element such as an entity) still gets its "end" event,
    # which adds its tail.
    walker = etree.iterwalk(element, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if event == "comment" or event == "pi":  # only the text after it is page text
            parts.append(_inline(node.tail))
            continue
        tag = node.tag
        tag = tag.lower() if isinstance(tag, str) else None
        if tag is None or tag in SKIP_TAGS:
            if event == "start":
                walker.skip_subtree()
            elif node is not element:
                parts.append(_inline(node.tail))
            continue
        if tag in BLOCK_TAGS:
            parts.append("\n")
        if event == "start":
            parts.append(_inline(node.text))
        elif node is not element:
            parts.append(_inline(node.tail))
    return _join_segments("".join(parts))


def _inline(text: str | None) -> str:
    # Source line breaks inside running text are spaces, except between two CJK characters, where a
    # browser-style segment break adds nothing ("一趟从\n<a>福州</a>" reads "一趟从福州").
    if not text:
        return ""
    # Shortcuts for the common cases, same result without a Python call per whitespace run: the
    # indentation between tags (whitespace only: one run), and text without a line break.
    if text.isspace():
        return _SEGMENT if "\n" in text else " "
    if "\n" not in text:
        return _WHITESPACE_RE.sub(" ", text)
    return _WHITESPACE_RE.sub(_segment_or_space, text)


def _segment_or_space(match: re.Match) -> str:
    return _SEGMENT if "\n" in match.group() else " "


def _join_segments(text: str) -> str:
    if _SEGMENT in text:  # the regex has no literal to scan for; without a segment it cannot match
        text = _CJK_SEGMENT_RE.sub("", text).replace(_SEGMENT, " ")
    return clean_block(text)


def attr(node, name: str, default: str = "") -> str:
    """An element's attribute (of a Selector or an lxml element). Safe where parsel's .attrib raises:
    damaged markup can leave an attribute name lxml cannot represent, and .attrib copies every attribute."""
    root = _root(node)
    try:
        value = root.get(name) if hasattr(root, "get") else None
    except ValueError:
        return default
    return value if value is not None else default


def scoped_text(scope: Selector, query: str) -> str:
    """Clean text of the first element a CSS query finds inside `scope`, or ""."""
    nodes = scope.css(query)
    return node_text(nodes[0]) if nodes else ""


def texts_of(nodes: Iterable) -> str:
    """Visible text of several elements, one block after another."""
    return clean_block("\n".join(node_text(n) for n in nodes))


def absolute_url(base: str, href: str | None) -> str | None:
    """An absolute http(s) URL for a link as written in a page, or None for script/anchor/data links."""
    href = clean_line(href)
    if not href or href.lower().startswith(_NOT_LINKS):
        return None
    if href.startswith("//"):
        href = (urlsplit(base).scheme or "https") + ":" + href
    try:
        url = urljoin(base or "", href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def collect_images(doc: Document, scopes: Iterable) -> list[str]:
    """Image URLs inside the given elements (Selectors or lxml elements; lazy-loading data-src
    before src), absolute, in order."""
    found: list[str] = []
    for scope in _element_roots(scopes):
        for img in _compiled("descendant-or-self::img")(scope):
            for name in IMAGE_ATTRS:
                url = doc.absolute(attr(img, name))
                if url:
                    found.append(url)
                    break
    return list(dict.fromkeys(found))


def collect_links(doc: Document, scopes: Iterable) -> list[str]:
    """Absolute URLs of <a href> inside the given elements (Selectors or lxml elements), in order,
    without repeats."""
    hrefs = _compiled(".//a/@href")
    found = (doc.absolute(href) for scope in _element_roots(scopes) for href in hrefs(scope))
    return list(dict.fromkeys(url for url in found if url))


def _element_roots(scopes: Iterable) -> Iterable:
    # A string result has nothing inside it: parsel's xpath() finds nothing there either.
    return (root for root in map(_root, scopes) if hasattr(root, "xpath"))


def main_block(doc: Document) -> Selector | None:
    """The element holding the page's main text: the parent of the most paragraph text (the classic
    readability heuristic) when it holds a fair share of the page's text, else <body>."""
    scores: dict = {}
    for para in doc.sel.xpath("//p"):
        parent = para.root.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0) + len(element_text(para.root))
    body = doc.sel.xpath("//body")
    if scores:
        best = max(scores, key=scores.get)
        total = len(element_text(body[0].root)) if body else 0
        if scores[best] >= min(MAIN_BLOCK_MIN_CHARS, total * MAIN_BLOCK_MIN_SHARE):
            return Selector(root=best, type="html")
    return body[0] if body else None


def fragment_text(markup: str, newlines_are_breaks: bool = False) -> str:
    """Visible text of an HTML fragment held in a string (a script's copy of an article body).
    With `newlines_are_breaks`, a line break in the string is a line of text, as in WeChat's text
    posts, which keep the author's line breaks as "\\n" rather than <br>."""
    if not markup or not markup.strip():
        return ""
    if newlines_are_breaks:
        markup = markup.replace("\r", "").replace("\n", "<br>")
    root = etree.fromstring(f"<div>{markup}</div>", etree.HTMLParser(huge_tree=True))
    return element_text(root) if root is not None else ""
