"""`python -m crawlers SOURCE [--fresh]`: one crawl in this process (the scheduler's entry point).

Settings come from config.toml, or the file named by WANGXUN_CONFIG, plus WANGXUN_* overrides."""

from __future__ import annotations

from core.cli import run


def main(argv: list[str] | None = None) -> None:
    from crawlers.cli import crawl_cmd

    run(crawl_cmd, argv, "python -m crawlers")


if __name__ == "__main__":
    main()
