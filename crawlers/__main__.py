"""`python -m crawlers SOURCE [--fresh]`: one crawl in this process (the scheduler's entry point).

Settings come from config.toml, or the file named by WANGXUN_CONFIG, plus WANGXUN_* overrides."""
from __future__ import annotations

import sys

from core.errors import UserError


def main(argv: list[str] | None = None) -> None:
    from crawlers.cli import crawl_cmd

    try:
        crawl_cmd.main(args=argv, prog_name="python -m crawlers", standalone_mode=False)
    except UserError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
