"""Child processes that must not outlive the process that started them."""

from __future__ import annotations

import signal


def die_with_parent() -> None:
    """A subprocess's preexec_fn: when the parent dies, even by kill -9, the kernel sends this child
    SIGTERM, so it stops cleanly instead of running on unowned (a crawl saves its journal; a restarted
    scheduler or demo would otherwise find a second crawl, sample site or scheduler beside it).

    Linux only (PR_SET_PDEATHSIG); elsewhere a no-op. The signal follows the *thread* that started the
    child, so start such children from a thread that lives as long as they should."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
