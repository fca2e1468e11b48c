"""How every part of the product starts Chromium (rendered crawls, the evidence PDF, browser tests
and benchmarks): one list of launch arguments.

Why these: the product runs as root on intranet machines with no GPU and no internet. Without the
sandbox flag Chromium refuses to start as root; without the background-networking, component-update
and sync flags it keeps trying to reach Google's hosts, which a closed network refuses many times a
minute; QUIC is off so every request goes through the same TCP path the crawler's politeness sees.
"""

BROWSER_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
