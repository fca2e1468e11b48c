"""Temporary names beside a target are unique per host, process and write (data_dir may be shared)."""

import os
import socket
from pathlib import Path

from core.tempnames import temporary_beside


def test_a_temporary_names_the_host_and_process_and_never_repeats(tmp_path):
    target = tmp_path / "ab" / "0123.html.gz"
    names = {temporary_beside(target) for _ in range(100)}
    assert len(names) == 100
    one = next(iter(names))
    assert one.parent == target.parent and one.name.startswith(".0123.html.gz.") and one.suffix == ".tmp"
    host = "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())[:40]
    assert f".{host}.{os.getpid()}." in one.name
    assert isinstance(one, Path)
