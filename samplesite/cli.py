"""`wangxun samplesite`: serve the bundled sample network in the foreground."""

from __future__ import annotations

import click


@click.command("samplesite")
@click.option("--host", default=None, help="Address to listen on (default: [samplesite] host).")
@click.option("--port", type=int, default=None, help="Port (default: [samplesite] port; 0 picks a free one).")
@click.option("--rate-limit", type=float, default=None, help="Requests per second per client before 429 (0: off).")
@click.option("--captcha-after", type=int, default=None, help="Searches per window before the captcha (0: off).")
@click.option("--latency-ms", type=int, default=None, help="Delay added to every response.")
@click.pass_context
def samplesite_cmd(ctx, host, port, rate_limit, captcha_after, latency_ms):
    """Serve the sample network (WeChat, Sogou, shops) for the demo and for trying crawlers."""
    from core.cli import load_config
    from samplesite.server import serve_forever

    settings = load_config(ctx).samplesite
    serve_forever(
        host or settings.host,
        settings.port if port is None else port,
        **options_from(settings, rate_limit=rate_limit, captcha_after=captcha_after, latency_ms=latency_ms),
    )


def options_from(settings, **given) -> dict:
    """start() keyword arguments from [samplesite] settings, with command-line values winning."""
    defaults = {
        "rate_limit": settings.rate_limit_per_s,
        "captcha_after": settings.captcha_after,
        "captcha_window_s": settings.captcha_window_s,
        "latency_ms": settings.latency_ms,
    }
    return {key: value if given.get(key) is None else given[key] for key, value in defaults.items()}
