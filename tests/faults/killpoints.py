"""Where a kill -9 lands: a random point, reproducible from its seed.

Each fault test that kills a process draws its kill point here instead of using a fixed one, so
repeated runs probe different moments (before, between and after commits). The seed is printed, and
shown again in the failure message; set WANGXUN_FAULT_SEED to replay a failing run exactly.
"""

from __future__ import annotations

import os
import random


def kill_point(name: str, low: int, high: int) -> tuple[int, str]:
    """A random integer in [low, high] for the fault `name`, and a note naming the seed to replay it."""
    seed = int(os.environ.get("WANGXUN_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    point = random.Random(f"{seed}:{name}").randint(low, high)
    note = f"kill point {name}={point} (replay with WANGXUN_FAULT_SEED={seed})"
    print(note)
    return point, note
