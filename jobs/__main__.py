"""`python -m jobs` runs the scheduler; `python -m jobs run TASK [--arg k=v]` runs one task now;
`python -m jobs list|pause|resume`. The same commands as `wangxun jobs …`.

Settings come from config.toml, or the file named by WANGXUN_CONFIG, plus WANGXUN_* overrides."""

from __future__ import annotations

from core.cli import run


def main(argv: list[str] | None = None) -> None:
    from jobs.cli import jobs_cmd

    run(jobs_cmd, argv, "python -m jobs")


if __name__ == "__main__":
    main()
