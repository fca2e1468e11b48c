"""Pauses after captcha pages and 429s, and per-account budgets that survive a restart."""

import json

from crawlers.middlewares import retry_after_seconds
from crawlers.politeness import AccountBudget, DomainPauses


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_captcha_backoff_grows_and_stops_after_n_in_a_row():
    clock = Clock()
    p = DomainPauses(captcha_backoff_s=10, captcha_max_in_row=3, clock=clock)
    assert p.captcha("s.example", sent_at=clock.now) is True
    assert p.remaining("s.example") == 10
    clock.now += 10
    assert p.captcha("s.example", sent_at=clock.now) is True
    assert p.remaining("s.example") == 20  # doubled
    clock.now += 20
    assert p.captcha("s.example", sent_at=clock.now) is False  # third in a row: stop the source
    assert p.captchas == 3


def test_requests_in_flight_when_paused_do_not_count_as_new_captchas():
    clock = Clock()
    p = DomainPauses(captcha_backoff_s=10, captcha_max_in_row=2, clock=clock)
    sent = clock.now - 1
    assert p.captcha("s.example", sent_at=sent)
    for _ in range(5):  # the rest of the burst comes back as captchas too
        assert p.captcha("s.example", sent_at=sent)
    assert p.in_row["s.example"] == 1


def test_a_good_page_resets_the_streak_and_domains_are_separate():
    clock = Clock()
    p = DomainPauses(captcha_backoff_s=1, captcha_max_in_row=2, clock=clock)
    p.captcha("a.example", sent_at=clock.now)
    p.ok("a.example")
    clock.now += 5
    assert p.captcha("a.example", sent_at=clock.now) is True
    assert p.remaining("b.example") == 0


def test_retry_after_as_seconds_or_http_date():
    assert retry_after_seconds(b"7", default=5) == 7
    assert retry_after_seconds(None, default=5) == 5
    assert retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT", default=5) == 0  # in the past
    assert retry_after_seconds(b"soon", default=5) == 5


def test_account_budget_is_remembered_across_runs(tmp_path):
    path = tmp_path / "crawl" / "account_budget.json"
    b = AccountBudget(path, "Asia/Shanghai")
    assert all(b.take("wechat:苏州旅游小助手", 3) for _ in range(3))
    assert not b.take("wechat:苏州旅游小助手", 3)
    assert b.take("wechat:other", 3)
    again = AccountBudget(path, "Asia/Shanghai")
    assert not again.take("wechat:苏州旅游小助手", 3)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["counts"]["wechat:苏州旅游小助手"] == 3


def test_a_new_day_resets_the_budget(tmp_path):
    path = tmp_path / "account_budget.json"
    path.write_text(json.dumps({"day": "2000-01-01", "counts": {"wechat:x": 99}}), encoding="utf-8")
    assert AccountBudget(path, "Asia/Shanghai").take("wechat:x", 10)
