"""JavaScript-only pages: empty to a static fetch, filled when headless Chromium renders them."""

from __future__ import annotations

import shutil
import urllib.request

import pytest
from parsel import Selector

from core.chromium import BROWSER_ARGS
from samplesite import start

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def site():
    with start() as s:
        yield s


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(BROWSER_ARGS))
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_goofish_item_is_empty_statically_and_filled_when_rendered(site, page):
    post = next(p for p in site.posts if p["channel"] == "goofish")
    url = f"{site.url}/goofish/item/{post['key']}"
    static = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    assert post["title"] not in static and Selector(static).css("#ice-container *").getall() == []

    page.goto(url)
    page.wait_for_selector(".item-title", timeout=30_000)
    assert page.inner_text(".item-title") == post["title"]
    assert page.inner_text(".item-price") == f"{post['price']:.2f}"
    assert page.inner_text(".item-desc") == post["text"]
    assert page.title() == f"{post['title']}_闲鱼"
    assert site.stats()["paths"][f"/api/goofish/item/{post['key']}"] == 1  # only the browser called the API


def test_rendered_wechat_article_shows_its_body_and_publish_time(site, page):
    post = next(p for p in site.posts if p["channel"] == "wechat" and p["status"] == "ok" and p["markup"] == "normal")
    page.goto(site.url_for(post))
    page.wait_for_function("document.getElementById('publish_time').textContent.length > 0", timeout=30_000)
    assert "年" in page.inner_text("#publish_time")
    assert page.eval_on_selector("#js_content", "el => el.style.visibility") == "visible"
    assert page.evaluate("window.msg_title") == post["title"]
