"""python -m samplesite [--host H] [--port N]: the sample network with [samplesite] settings."""

from __future__ import annotations

import argparse
import sys

from core import config
from core.errors import UserError
from samplesite.cli import options_from
from samplesite.server import serve_forever


def main(argv: list[str] | None = None) -> None:
    settings = config.load().samplesite
    parser = argparse.ArgumentParser(prog="python -m samplesite", description=__doc__)
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--captcha-after", type=int, default=None)
    parser.add_argument("--latency-ms", type=int, default=None)
    parser.add_argument("--quiet", action="store_true", help="no access log line per request")
    args = parser.parse_args(argv)
    options = options_from(
        settings, rate_limit=args.rate_limit, captcha_after=args.captcha_after, latency_ms=args.latency_ms
    )
    try:
        serve_forever(args.host, args.port, log_requests=not args.quiet, **options)
    except UserError as exc:  # the port is taken: one line, not a traceback
        print(f"错误 error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
