"""`python -m jobs` runs the scheduler; `python -m jobs run TASK [--arg k=v]` runs one task now;
`python -m jobs list|pause|resume`. The same commands as `wangxun jobs …`.

Settings come from config.toml, or the file named by WANGXUN_CONFIG, plus WANGXUN_* overrides."""
from __future__ import annotations

import sys

from core.errors import UserError


def main(argv: list[str] | None = None) -> None:
    from jobs.cli import jobs_cmd

    try:
        jobs_cmd.main(args=argv, prog_name="python -m jobs", standalone_mode=False)
    except UserError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
