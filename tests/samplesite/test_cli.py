"""The sample network also runs as its own process (`python -m samplesite`, `wangxun samplesite`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request

import pytest

from core import config
from samplesite.cli import options_from

pytestmark = pytest.mark.timeout(120)


def test_module_runs_a_foreground_server_that_serves_and_stops():
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_SAMPLESITE__")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "samplesite", "--port", "0", "--rate-limit", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()  # blocks until the server printed its address
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        with urllib.request.urlopen(url + "/robots.txt", timeout=30) as resp:
            assert "Disallow: /private/" in resp.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_command_line_values_override_settings():
    settings = config.load(overrides={"samplesite.rate_limit_per_s": 7, "samplesite.latency_ms": 5}).samplesite
    assert options_from(settings) == {
        "rate_limit": 7,
        "captcha_after": settings.captcha_after,
        "captcha_window_s": settings.captcha_window_s,
        "latency_ms": 5,
    }
    assert options_from(settings, rate_limit=0, latency_ms=None)["rate_limit"] == 0


def test_a_busy_port_is_one_clear_error_and_stop_is_idempotent():
    from core.errors import UserError
    from samplesite import start

    with start() as site:
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{site.port}"):
            start(port=site.port)
        site.stop()
    site.stop()
