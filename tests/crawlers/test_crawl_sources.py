"""The sources file: the shipped one is valid, mistakes name the source and field, URLs expand."""

from urllib.parse import unquote

import pytest

from core.errors import UserError
from crawlers.sources import KINDS, build_source, describe, load_sources, start_urls
from tests.conftest import make_config

BASE = {"name": "s1", "kind": "wechat_article", "platform": "wechat", "start_urls": ["https://a.example/s/1"]}


def test_shipped_sources_cover_every_kind_and_are_valid(tmp_path):
    cfg = make_config(tmp_path)
    sources = load_sources(cfg)
    kinds = {s.kind for s in sources.values()} | {s.item_kind for s in sources.values()}
    assert {"wechat_article", "sogou_weixin_search", "shop_listing", "generic"} <= kinds
    assert any(s.render for s in sources.values())
    assert all(s.obey_robots for s in sources.values())
    assert all(describe(s).startswith(s.name) for s in sources.values())


def test_keywords_expand_into_search_urls_on_the_sample_site(tmp_path):
    cfg = make_config(tmp_path, **{"crawl.sample_site_url": "http://127.0.0.1:5555/"})
    src = load_sources(cfg)["wechat_search"]
    urls = start_urls(src, cfg)
    assert len(urls) == len(src.keywords)
    assert urls[0].startswith("http://127.0.0.1:5555/weixin?")
    assert "query=跟团" in unquote(urls[0]) and urls[0].endswith("page=1")
    assert "{" not in "".join(urls)


def test_start_urls_and_keywords_combine_without_duplicates(tmp_path):
    cfg = make_config(tmp_path)
    src = build_source(
        {
            **BASE,
            "start_urls": ["{sample_site}/a", "{sample_site}/a"],
            "keywords": ["盗版 书"],
            "search_url_template": "{sample_site}/q?k={keyword}",
        }
    )
    assert start_urls(src, cfg) == [
        "http://127.0.0.1:8765/a",
        "http://127.0.0.1:8765/q?k=%E7%9B%97%E7%89%88%20%E4%B9%A6",
    ]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "weibo"}, "kind"),
        ({"platform": "tv"}, "platform"),
        ({"start_urls": []}, "start_urls"),
        ({"start_urls": ["ftp://x"]}, "start_urls"),
        ({"keywords": ["跟团"], "start_urls": []}, "search_url_template"),
        ({"obey_robots": False}, "robots_override_reason"),
        ({"kind": "generic"}, "selectors"),
        ({"page_budget": 0}, "page_budget"),
        ({"concurrency": "4"}, "concurrency"),
        ({"follow": ["(unclosed"]}, "follow"),
        ({"max_depht": 2}, "max_depht"),
        ({"name": "Bad Name"}, "name"),
    ],
)
def test_mistakes_name_the_source_and_field(change, field):
    with pytest.raises(UserError) as err:
        build_source({**BASE, **change}, "sources.toml: source #1")
    assert f"'{field}'" in str(err.value)
    assert "\n" not in str(err.value)


def test_robots_override_needs_and_keeps_a_reason():
    src = build_source({**BASE, "obey_robots": False, "robots_override_reason": "书面授权 2026-11"})
    assert src.obey_robots is False and src.robots_override_reason == "书面授权 2026-11"
    assert "robots.txt ignored" in describe(src)


def test_a_new_site_of_a_known_kind_is_only_data(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[defaults]\npage_budget = 9\n[[sources]]\nname = "forum1"\nkind = "generic"\n'
        'platform = "forum"\nstart_urls = ["https://bbs.example/t/1"]\n'
        'selectors = { title = "h1", text = ".post" }\nfollow = ["/t/\\\\d+$"]\n',
        encoding="utf-8",
    )
    cfg = make_config(tmp_path, **{"crawl.sources_file": str(path)})
    src = load_sources(cfg)["forum1"]
    assert src.page_budget == 9 and src.kind in KINDS
    assert src.follows("https://bbs.example/t/22") and not src.follows("https://bbs.example/u/2")


def test_duplicate_names_and_missing_file_are_user_errors(tmp_path):
    path = tmp_path / "s.toml"
    table = '[[sources]]\nname = "a"\nkind = "wechat_article"\nplatform = "wechat"\nstart_urls = ["http://x/"]\n'
    path.write_text(table + table, encoding="utf-8")
    with pytest.raises(UserError, match="source 'a': name is used twice"):
        load_sources(make_config(tmp_path, **{"crawl.sources_file": str(path)}))
    with pytest.raises(UserError, match="not found"):
        load_sources(make_config(tmp_path, **{"crawl.sources_file": str(tmp_path / "none.toml")}))


def test_rendered_sources_prefer_the_headless_shell_then_the_full_chromium(tmp_path, monkeypatch):
    from crawlers.settings import chromium_executable

    shell, full = tmp_path / "chromium-headless-shell", tmp_path / "chromium"
    shell.touch()
    full.touch()

    def cfg():
        return make_config(tmp_path, **{"crawl.headless_shell_path": str(shell), "crawl.chromium_path": str(full)})

    assert chromium_executable(cfg()) == str(shell)
    shell.unlink()
    assert chromium_executable(cfg()) == str(full)
    full.unlink()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "no-playwright-browsers"))
    with pytest.raises(UserError, match="headless_shell_path.*chromium_path"):
        chromium_executable(cfg())
