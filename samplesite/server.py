"""Run the sample network in a background thread: `with start() as site: fetch(site.url + "/s/…")`.

Rate limit and captcha are off unless asked for, so a crawler test sees them only when it means to.
`wangxun samplesite` and `python -m samplesite` run the same server in the foreground with
the [samplesite] settings instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from core.errors import UserError
from samplesite.app import create_app
from samplesite.content import ContentStore, public
from samplesite.state import SiteState
from samplesite.throttle import Throttle


class SampleSite:
    """A running sample network. Use as a context manager or call stop()."""

    def __init__(self, server, thread: threading.Thread, state: SiteState):
        self._server = server
        self._thread = thread
        self.state = state
        self.host = server.host
        self.port = server.port
        self.url = f"http://{self.host}:{self.port}"
        self._stopped = False

    def __enter__(self) -> SampleSite:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and free the port (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Every post with its ground truth `expected_labels` (tests only; never served)."""
        return self.state.store.all_posts()

    def url_for(self, post: dict[str, Any]) -> str:
        """The absolute URL of a post's own page."""
        return self.url + page_path(post)

    def edit(self, post_id: str, **changes) -> dict[str, Any]:
        """In-process twin of POST /__admin__/edit/<post_id>."""
        return public(self.state.store.edit(post_id, changes))

    def stats(self) -> dict[str, Any]:
        """In-process twin of GET /__admin__/stats."""
        return self.state.stats.snapshot()

    def request_log(self) -> list[tuple[float, str, int]]:
        """Every request (up to the latest 100,000): (arrival on time.monotonic(), path?query, status)."""
        return self.state.stats.log()

    def reset(self) -> None:
        self.state.stats.reset()
        self.state.throttle.reset()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    rate_limit: float = 0,
    captcha_after: int = 0,
    captcha_window_s: float = 60,
    latency_ms: int = 0,
    data_path: str | Path | None = None,
    clock: Callable[[], float] = time.monotonic,
    log_requests: bool = False,
) -> SampleSite:
    """Serve the sample network on host:port (0 picks a free port) from a daemon thread.

    rate_limit: requests per second per client before 429 (0: unlimited).
    captcha_after: /weixin and /link requests per client within captcha_window_s before the
    antispider page (0: never). clock: the time source of both, injectable for exact tests.
    data_path: another posts.json. log_requests: print an access log line per request."""
    state = SiteState(
        store=ContentStore.load(data_path),
        throttle=Throttle(rate_limit, captcha_after, captcha_window_s, clock=clock),
        latency_ms=latency_ms,
    )
    handler = WSGIRequestHandler if log_requests else _QuietHandler
    try:
        server = make_server(host, port, create_app(state), threaded=True, request_handler=handler)
    except (OSError, SystemExit) as exc:
        # Werkzeug prints its own hint and calls sys.exit(1) when the port is taken; a test or the demo
        # needs an exception it can report instead of a vanished process.
        raise UserError(f"sample site cannot listen on {host}:{port} (port in use or not allowed)") from exc
    thread = threading.Thread(target=server.serve_forever, name=f"samplesite:{server.port}", daemon=True)
    thread.start()
    return SampleSite(server, thread, state)


def serve_forever(host: str, port: int, log_requests: bool = True, **options) -> None:
    """Foreground server for the command line; Ctrl-C or SIGTERM stops it. Its first line on stdout
    names the URL it serves (`wangxun demo` reads it to learn a port picked with --port 0)."""
    import signal

    site = start(host, port, log_requests=log_requests, **options)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"{READY_PREFIX}{site.url}/  (Ctrl-C 停止)", flush=True)
    try:
        while site._thread.is_alive():
            site._thread.join(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


READY_PREFIX = "示例网络 sample site: "


def _stop_on_sigterm(_signum, _frame) -> None:
    """SIGTERM (the demo stopping its child) ends serve_forever's wait the way Ctrl-C does."""
    raise KeyboardInterrupt


def page_path(post: dict[str, Any]) -> str:
    channel, key = post["channel"], post["key"]
    if channel == "wechat":
        return f"/s/{key}"
    if channel == "shop":
        return f"/shop/item/{key}"
    if channel == "kongfz":
        return f"/kongfz/book/{post['account']['id']}/{key}"
    return f"/goofish/item/{key}"


class _QuietHandler(WSGIRequestHandler):
    """No access log: a crawl test makes hundreds of requests and their lines would bury its output."""

    def log_request(self, *args, **kwargs) -> None:
        pass
