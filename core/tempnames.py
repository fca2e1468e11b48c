"""Names for temporary files written beside their target and then renamed over it.

A `data_dir` shared by several machines (an NFS or CephFS mount, see evidence/README.md) sees writers
with the same process id on different hosts, so a name from the pid alone can collide: two crawl
machines storing the same evidence file at once would meet on one temporary name. The host name, the
pid and a counter keep every writer's temporary apart; the final rename stays atomic on one filesystem.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
from pathlib import Path

_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"
_numbers = itertools.count()


def temporary_beside(target: Path) -> Path:
    """`.<name>.<host>.<pid>.<n>.tmp` in the target's folder."""
    return target.with_name(f".{target.name}.{_HOST}.{os.getpid()}.{next(_numbers)}.tmp")
