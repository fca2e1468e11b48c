"""网巡 crawlers: one Scrapy crawl per process (`python -m crawlers SOURCE`), sources as data in
sources.toml, parse → detect → store → index for every page. See README.md in this directory."""
