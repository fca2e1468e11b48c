"""Anti-spider walls of any site: a captcha or slider page served instead of the content asked for.

The kind parsers recognise their own site's wall (Sogou's antispider page, WeChat's 环境异常); this
check runs on pages a parser could not read, so a wall met on any site becomes state "captcha" and the
crawler backs off instead of recording an error.
"""

from __future__ import annotations

# Markers seen on such pages; checked in the page head only, where the walls declare themselves.
CAPTCHA_MARKERS = (
    "antispider",
    "seccodeImage",
    "seccodeForm",  # weixin.sogou.com
    "_____tmd_____",
    "punish?",
    "nc_1_n1z",
    "nocaptcha",  # Taobao / Alibaba slider
    "请拖动下方滑块",
    "滑动验证",
    "请完成安全验证",
    "完成验证后即可继续访问",
    "访问过于频繁",
    "环境异常",
    "验证码拦截",
    "geetest",
    "captcha-delivery",
    "cf-challenge",
    "hcaptcha.com",
)
HEAD_CHARS = 30_000


def captcha_marker(text: str, url: str = "") -> str | None:
    """The first wall marker in the page (or its URL), or None."""
    head = text[:HEAD_CHARS]
    for marker in CAPTCHA_MARKERS:
        # Its first character is looked for first: a one-character search is ~10x faster than a
        # substring search, and the first characters of the Chinese markers are rare in pages.
        if (marker[0] in head and marker in head) or marker in url:
            return marker
    return None
