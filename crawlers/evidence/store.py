"""Content-addressed evidence files: gzip-compressed, named by the SHA-256 of the uncompressed bytes,
under <data_dir>/evidence/ab/cd/<sha256>.gz.

Writes go to a temporary name and are renamed into place, so a crash never leaves a half-written
file under a real name, and storing the same bytes twice is a no-op. A file is never overwritten: if
one under the right name was altered, verification must be the one to notice, not the next write.
"""
from __future__ import annotations

import gzip
import hashlib
import itertools
import os
import zlib
from pathlib import Path
from typing import Any

from core.config import Config

SUBDIR = "evidence"


class StoredFileError(Exception):
    """A stored evidence file is missing, unreadable or does not match its recorded hash."""


def evidence_dir(cfg: Config) -> Path:
    d = cfg.data_dir / SUBDIR
    if d not in _made:  # once per process: a mkdir per stored file showed in crawl profiles
        d.mkdir(parents=True, exist_ok=True)
        _made.add(d)
    return d


_made: set[Path] = set()


def put(cfg: Config, data: bytes, media_type: str) -> dict[str, Any]:
    """Store `data` and return its file reference {path, sha256, size, media_type, encoding}."""
    digest = hashlib.sha256(data).hexdigest()
    rel = f"{digest[:2]}/{digest[2:4]}/{digest}.gz"
    target = evidence_dir(cfg) / rel
    if not target.exists():
        _write_atomically(target, gzip.compress(data, compresslevel=int(cfg.evidence.gzip_level), mtime=0))
    return {"path": rel, "sha256": digest, "size": len(data), "media_type": media_type, "encoding": "gzip"}


def read_verified(cfg: Config, ref: dict[str, Any]) -> bytes:
    """The uncompressed bytes of a stored file, after checking size and SHA-256 against `ref`."""
    data = read(cfg, ref)
    digest = hashlib.sha256(data).hexdigest()
    if digest != ref.get("sha256"):
        raise StoredFileError(f"SHA-256 mismatch (stored {digest}, recorded {ref.get('sha256')})")
    if len(data) != ref.get("size"):
        raise StoredFileError(f"size mismatch (stored {len(data)}, recorded {ref.get('size')})")
    return data


def read(cfg: Config, ref: dict[str, Any]) -> bytes:
    path = _path_of(cfg, ref)
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise StoredFileError(f"file missing: {path}") from None
    except (OSError, EOFError, zlib.error) as exc:
        # gzip's own CRC catches most flipped bytes before our SHA-256 does.
        raise StoredFileError(f"file unreadable ({exc}): {path}") from None


def _path_of(cfg: Config, ref: dict[str, Any]) -> Path:
    rel = str(ref.get("path", ""))
    base = evidence_dir(cfg).resolve()
    path = (base / rel).resolve()
    # A tampered record could point anywhere; only ever read inside the store.
    if not rel or base not in path.parents:
        raise StoredFileError(f"file path {rel!r} is outside the evidence store")
    return path


def _write_atomically(target: Path, payload: bytes) -> None:
    """Write, fsync, then rename into place. Plain os calls and remembered directories: this runs
    three times for every hit, and pathlib's mkdir (an exception per existing directory), a uuid
    and a buffered file object showed in crawl profiles."""
    parent = target.parent
    if parent not in _made:
        parent.mkdir(parents=True, exist_ok=True)
        _made.add(parent)
    tmp = parent / f".{target.name}.{os.getpid()}.{next(_tmp_numbers)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_tmp_numbers = itertools.count()
