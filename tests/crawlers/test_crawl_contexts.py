"""Browser-context recycling: rendered pages go to contexts of at most N pages, and a retired
context is closed once its last page is done (what keeps Chromium's memory flat)."""

import asyncio

from crawlers.middlewares import ContextRotator


class Context:
    def __init__(self):
        self.closed = False

    async def close(self):
        self.closed = True


class Page:
    """Just what ContextRotator touches of a Playwright page."""

    def __init__(self, context, name):
        self.context, self._crawl_context, self._closed = context, name, False

    def is_closed(self):
        return self._closed

    async def close(self):
        self._closed = True


def test_contexts_hold_at_most_n_pages_and_close_when_their_pages_are_done():
    rotator = ContextRotator("src", per_context=2)
    names = [rotator.assign() for _ in range(5)]
    assert names == ["src-0", "src-0", "src-1", "src-1", "src-2"]
    contexts = {n: Context() for n in set(names)}
    pages = [Page(contexts[n], n) for n in names]

    async def finish(*idx):
        for i in idx:
            await rotator.page_done(pages[i])

    asyncio.run(finish(0))
    assert not contexts["src-0"].closed  # one of its pages is still open
    asyncio.run(finish(1, 2))
    assert contexts["src-0"].closed and not contexts["src-1"].closed
    asyncio.run(finish(3, 4))
    assert contexts["src-1"].closed and not contexts["src-2"].closed  # src-2 still takes new pages
    assert all(p.is_closed() for p in pages) and rotator.closed == 2
