"""Anchors: the chain head, signed with a key the database never holds, in an append-only file.

The hash chain alone proves that nothing in its middle changed; it cannot see its newest records
deleted, nor a rewrite that recomputes every later hash. An anchor pins the head at a moment: one
JSON line `{"v", "n", "seq", "records", "head", "at", "reason", "key_id", "prev", "sig"}` appended (and
fsynced) to the anchors file, signed with an Ed25519 key kept outside the database and outside
data_dir (`[evidence] anchor_key_file`; `wangxun evidence keygen` makes it, with `<key>.pub`).
`prev` is the SHA-256 of the previous line, so lines cannot be removed or reordered unnoticed, and
`sig` covers every other field, so no line can be changed or made up without the key.

`verify_anchors` checks every line (signature, key, order) and every anchored head against the
database: an anchored seq the chain no longer reaches is truncation, an anchored seq whose hash
changed is a rewrite between the last anchor that still matches and this one. Both are reported
with the record numbers. Heads are anchored after each crawl, nightly by the verify job (after a
clean check) and by an export that has no anchor covering its record yet.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from core import db
from core.config import Config
from core.errors import UserError
from core.models import Evidence
from core.tempnames import temporary_beside
from evidence import chain

ANCHOR_VERSION = 1
ANCHORS_NAME = "evidence-anchors.jsonl"  # under data_dir when [evidence] anchors_file is empty
_DOMAIN = b"wangxun-evidence-anchor/1\n"  # signed messages are never mistaken for anything else
_FIELDS = ("v", "n", "seq", "records", "head", "at", "reason", "key_id", "prev")
_KEYGEN = "wangxun evidence keygen"
# Names "appending to the anchors file" among PostgreSQL advisory locks (another key than the chain's).
ANCHOR_LOCK_KEY = int.from_bytes(hashlib.sha256(b"wangxun.evidence.anchors").digest()[:8], "big", signed=True)


class AnchorError(UserError):
    """A missing, unreadable or misplaced key, or an anchors file that cannot be written: one line."""


@dataclasses.dataclass(frozen=True)
class AnchorProblem:
    seq: int  # the record number the problem is about (0: the anchors file itself)
    what: str  # "anchor" (the chain against an anchor) or "anchors file"
    detail: str


@dataclasses.dataclass
class AnchorCheck:
    anchors: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # each with "line" (1-based)
    problems: list[AnchorProblem] = dataclasses.field(default_factory=list)
    note: str = ""  # why the chain is not anchored at all (no key, no anchors yet), else ""

    @property
    def last(self) -> dict[str, Any] | None:
        return self.anchors[-1] if self.anchors else None


# ---------------------------------------------------------------- where things are


def key_path(cfg: Config) -> Path:
    return cfg.resolve(cfg.evidence.anchor_key_file)


def public_key_path(cfg: Config) -> Path:
    path = key_path(cfg)
    return path.with_name(path.name + ".pub")


def anchors_path(cfg: Config) -> Path:
    return cfg.resolve(cfg.evidence.anchors_file) if cfg.evidence.anchors_file else cfg.data_dir / ANCHORS_NAME


def _inside_data_dir(cfg: Config, path: Path) -> bool:
    return path.resolve().is_relative_to(cfg.data_dir.resolve())


def _check_place(cfg: Config, path: Path) -> None:
    if _inside_data_dir(cfg, path):
        raise AnchorError(
            f"the evidence anchor key {path} is inside data_dir {cfg.data_dir}: whoever copies or changes "
            "the database directory would hold the key too. Set [evidence] anchor_key_file to a path "
            f"outside it (the default is ~/.config/wangxun/evidence-anchor.key) and run `{_KEYGEN}`"
        )


# ---------------------------------------------------------------- keys


def generate_key(cfg: Config, force: bool = False) -> tuple[Path, str]:
    """Write a new Ed25519 key (PEM, mode 0600, its directory 0700) and its public half (`.pub`);
    returns (path, key id). An existing key is kept unless `force`: anchors signed with it are
    checked with it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path(cfg)
    _check_place(cfg, path)
    if path.exists() and not force:
        raise AnchorError(
            f"an evidence anchor key already exists at {path}; the anchors in {anchors_path(cfg)} are "
            "checked with it. Keep it (and a copy of it somewhere safe); --force replaces it"
        )
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_new(path, private, 0o600, replace=force)
        _write_new(public_key_path(cfg), public, 0o644, replace=True)
    except OSError as exc:
        raise AnchorError(f"cannot write the evidence anchor key {path}: {exc.strerror or exc}") from None
    return path, key_id(key.public_key())


def _write_new(path: Path, data: bytes, mode: int, replace: bool) -> None:
    tmp = temporary_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if replace:
        os.replace(tmp, path)
    else:
        os.link(tmp, path)  # fails if a key appeared meanwhile: never overwrite one silently
        os.unlink(tmp)


def load_signing_key(cfg: Config):
    """The private key; AnchorError (one line) when it is missing, unreadable, not an Ed25519 PEM key,
    or kept inside data_dir."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path(cfg)
    _check_place(cfg, path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnchorError(
            f"no evidence anchor key at {path} (setting evidence.anchor_key_file): run `{_KEYGEN}`"
        ) from None
    except (PermissionError, IsADirectoryError) as exc:
        raise AnchorError(f"the evidence anchor key {path} cannot be read: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError(f"{path} is not an Ed25519 private key in PEM form (make one with `{_KEYGEN}`)")
    return key


def load_public_key(cfg: Config):
    """The public key anchors are checked with: from the private key when it can be read, else from
    `<key>.pub` (an auditor may hold only that); None when neither exists. AnchorError when the one
    present is unusable."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if key_path(cfg).exists():
        return load_signing_key(cfg).public_key()
    pub = public_key_path(cfg)
    if not pub.exists():
        return None
    try:
        key = serialization.load_pem_public_key(pub.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise AnchorError(f"the evidence anchor public key {pub} cannot be used: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorError(f"{pub} is not an Ed25519 public key")
    return key


def key_id(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------- writing


def signed_message(anchor: dict[str, Any]) -> bytes:
    return _DOMAIN + chain.canonical_json({k: anchor[k] for k in _FIELDS})


def line_sha256(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def anchor_head(cfg: Config, reason: str) -> dict[str, Any]:
    """Sign the chain's current head and append it to the anchors file, unless the last anchor already
    pins this head. Returns the anchor in force ({..., "line": n, "line_sha256": …, "new": bool}).

    Refuses (AnchorError) to sign a chain that no longer reaches, or no longer matches, the last
    anchored head: a crawl must never bless a truncated or rewritten chain; `wangxun evidence verify`
    says what happened."""
    key = load_signing_key(cfg)
    with db.session_scope(cfg) as session:
        # Crawl machines sharing data_dir anchor into one file. A file lock is not guaranteed across
        # hosts (NFS without POSIX locks), so on PostgreSQL, the engine several machines share, the
        # database serialises anchoring; the flock below still orders writers on one host.
        _take_anchor_lock(session)
        return _append_anchor(cfg, session, key, reason)


def _take_anchor_lock(session) -> None:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ANCHOR_LOCK_KEY})


def _append_anchor(cfg: Config, session, key, reason: str) -> dict[str, Any]:
    path = anchors_path(cfg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AnchorError(f"cannot open the anchors file {path}: {exc.strerror or exc}") from None
    try:
        _lock(fd)
        raw = _read_all(fd)
        lines = raw.split(b"\n")
        last_line = next((ln for ln in reversed(lines) if ln.strip()), b"")
        last = json.loads(last_line) if last_line else None
        head = chain.read_head(session)
        records = session.scalar(select(func.count()).select_from(Evidence)) or 0
        if last is not None:
            pinned = session.scalar(select(Evidence.record_hash).where(Evidence.seq == last["seq"]))
            if last["seq"] and pinned != last["head"]:
                raise AnchorError(
                    f"not anchored: the chain no longer matches anchor {last['n']} (record seq {last['seq']}); "
                    "run `wangxun evidence verify`"
                )
            if last["seq"] == head["seq"] and last["head"] == head["record_hash"]:
                return {**last, "line": last["n"], "line_sha256": line_sha256(last_line), "new": False}
        if raw and not raw.endswith(b"\n"):
            raise AnchorError(f"not anchored: the last line of {path} is cut; run `wangxun evidence verify`")
        anchor = {
            "v": ANCHOR_VERSION,
            "n": (last["n"] + 1) if last else 1,
            "seq": head["seq"],
            "records": records,
            "head": head["record_hash"],
            "at": chain.utc_iso(dt.datetime.now(dt.timezone.utc)),
            "reason": reason[:100],
            "key_id": key_id(key.public_key()),
            "prev": line_sha256(last_line) if last_line else chain.GENESIS_HASH,
        }
        anchor["sig"] = base64.b64encode(key.sign(signed_message(anchor))).decode("ascii")
        line = json.dumps(anchor, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        os.write(fd, line + b"\n")  # O_APPEND: lands at the end whatever else was written meanwhile
        os.fsync(fd)
    except (KeyError, ValueError, TypeError) as exc:
        raise AnchorError(
            f"not anchored: {path} is not a valid anchors file ({exc}); run `wangxun evidence verify`"
        ) from None
    finally:
        os.close(fd)
    return {**anchor, "line": anchor["n"], "line_sha256": line_sha256(line), "new": True}


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: O_APPEND alone keeps lines whole
        return
    fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while block := os.read(fd, 1 << 20):
        chunks.append(block)
    return b"".join(chunks)


def try_anchor(cfg: Config, reason: str) -> dict[str, Any]:
    """anchor_head for callers that must not fail because of it (a crawl): the anchor's summary, or
    {"error": why} (no key, a chain that no longer matches, an unwritable file)."""
    try:
        a = anchor_head(cfg, reason)
    except AnchorError as exc:
        return {"error": str(exc)}
    return {"n": a["n"], "seq": a["seq"], "head": a["head"], "line_sha256": a["line_sha256"], "new": a["new"]}


# ---------------------------------------------------------------- checking


def read_anchors(cfg: Config, public_key) -> tuple[list[dict[str, Any]], list[AnchorProblem], list[bytes], set[int]]:
    """Every line of the anchors file, checked on its own and against the one before it: the anchors
    (each with its 1-based "line"), the problems, the lines as written, and the numbers of the lines
    that failed a check."""
    from cryptography.exceptions import InvalidSignature

    path = anchors_path(cfg)
    raw = path.read_bytes()
    problems: list[AnchorProblem] = []

    bad: set[int] = set()

    def problem(line_no: int, detail: str) -> None:
        bad.add(line_no)
        problems.append(AnchorProblem(0, "anchors file", f"{path} line {line_no}: {detail}"))

    our_id = key_id(public_key)
    anchors, lines = [], []
    prev_hash, prev_n = chain.GENESIS_HASH, 0
    parts = raw.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    elif parts:
        problem(len(parts), "the last line is cut (no line end): the file was truncated or written to by hand")
    for line_no, line in enumerate(parts, 1):
        try:
            anchor = json.loads(line)
            fields = {k: anchor[k] for k in (*_FIELDS, "sig")}
            signature = base64.b64decode(fields["sig"], validate=True)
        except (ValueError, KeyError, TypeError):
            problem(line_no, "not an anchor (not JSON, or a field is missing): the file was edited")
            prev_hash = line_sha256(line)
            continue
        if anchor["key_id"] != our_id:
            problem(line_no, f"signed with key {anchor['key_id']}, not this deployment's key {our_id}")
        else:
            try:
                public_key.verify(signature, signed_message(anchor))
            except InvalidSignature:
                problem(line_no, "the signature does not match its fields: the line was edited")
        if anchor["n"] != prev_n + 1 or anchor["prev"] != prev_hash:
            problem(
                line_no,
                f"anchor {anchor['n']} does not follow anchor {prev_n} (its prev is not the previous line's "
                "SHA-256): anchors were removed, reordered or edited",
            )
        prev_hash, prev_n = line_sha256(line), anchor["n"]
        anchors.append({**anchor, "line": line_no})
        lines.append(line)
    return anchors, problems, lines, bad


def verify_anchors(cfg: Config, session, witness: dict[str, Any] | None = None) -> AnchorCheck:
    """Check the anchors file and every anchored head against the chain in the database.

    `witness` is an anchor recorded elsewhere earlier ({"n", "line_sha256"}, e.g. in a job run): the
    file must still hold it, so a file cut back to an older line does not go unnoticed."""
    check = AnchorCheck()
    path = anchors_path(cfg)
    try:
        public_key = load_public_key(cfg)
    except AnchorError as exc:
        check.problems.append(AnchorProblem(0, "anchors file", str(exc)))
        return check
    head = chain.read_head(session)
    if public_key is None:
        if path.exists():
            check.problems.append(
                AnchorProblem(0, "anchors file", f"{path} exists but there is no key to check it at {key_path(cfg)}")
            )
        else:
            check.note = f"chain not anchored: no key at {key_path(cfg)}; run `{_KEYGEN}`"
        return check
    if not path.exists():
        if head["seq"]:
            check.problems.append(
                AnchorProblem(
                    head["seq"],
                    "anchors file",
                    f"{path} is missing though the key exists and the chain holds records (deleted? "
                    f"`{_KEYGEN}` writes the first anchor)",
                )
            )
        else:
            check.note = f"no anchors yet in {path}"
        return check
    try:
        anchors, problems, lines, _bad = read_anchors(cfg, public_key)
    except OSError as exc:
        check.problems.append(AnchorProblem(0, "anchors file", f"{path} cannot be read: {exc.strerror or exc}"))
        return check
    check.anchors, check.problems = anchors, problems
    if witness and witness.get("n"):
        n = int(witness["n"])
        if n > len(lines):
            check.problems.append(
                AnchorProblem(
                    0, "anchors file", f"{path} ends at anchor {len(lines)}, but anchor {n} was recorded earlier: cut"
                )
            )
        elif witness.get("line_sha256") and line_sha256(lines[n - 1]) != witness["line_sha256"]:
            check.problems.append(
                AnchorProblem(0, "anchors file", f"{path} anchor {n} is not the line recorded earlier: replaced")
            )
    check.problems.extend(_against_chain(session, anchors, head))
    return check


def _against_chain(session, anchors: list[dict[str, Any]], head: dict[str, Any]) -> list[AnchorProblem]:
    """Each anchored (seq, head) must still be in the chain: the first break of each kind is reported
    with the record numbers (later anchors only repeat it)."""
    found: list[AnchorProblem] = []
    good_seq = 0  # the newest anchored seq that still matches
    truncated = rewritten = False
    for a in sorted(anchors, key=lambda a: (a["seq"], a["line"])):
        if not isinstance(a.get("seq"), int) or a["seq"] <= 0:
            continue
        when = f"anchor {a['n']} (line {a['line']}, {a['at']}, {a['reason']})"
        if a["seq"] > head["seq"]:
            if not truncated:
                truncated = True
                found.append(
                    AnchorProblem(
                        head["seq"] + 1,
                        "anchor",
                        f"records seq {head['seq'] + 1}..{a['seq']} are missing: {when} pinned seq {a['seq']} "
                        f"(hash {a['head']}), the chain now ends at seq {head['seq']} (the newest records "
                        "were deleted)",
                    )
                )
            continue
        stored = session.scalar(select(Evidence.record_hash).where(Evidence.seq == a["seq"]))
        if stored == a["head"]:
            good_seq = max(good_seq, a["seq"])
            count = session.scalar(select(func.count()).select_from(Evidence).where(Evidence.seq <= a["seq"]))
            if isinstance(a.get("records"), int) and count < a["records"]:
                lost = a["records"] - count
                detail = f"{lost} record(s) up to seq {a['seq']} deleted since {when}"
                found.append(AnchorProblem(a["seq"], "anchor", detail))
            continue
        if not rewritten:
            rewritten = True
            first = good_seq + 1
            found.append(
                AnchorProblem(
                    first,
                    "anchor",
                    f"record seq {a['seq']} has hash {stored} but {when} pinned {a['head']}: the chain was "
                    f"rewritten at a record from seq {first} to {a['seq']} (seq {good_seq} still matches its anchor)",
                )
            )
    return found


def covering_anchor(cfg: Config, seq: int) -> tuple[dict[str, Any], bytes] | None:
    """The first anchor whose head is at or after record `seq` and still matches the chain, with its
    line as written; None when none does (or there is no key)."""
    public_key = load_public_key(cfg)
    path = anchors_path(cfg)
    if public_key is None or not path.exists():
        return None
    anchors, _problems, lines, bad_lines = read_anchors(cfg, public_key)
    with db.session_scope(cfg) as session:
        for a, line in zip(anchors, lines, strict=True):
            if a["seq"] < seq or a["line"] in bad_lines:
                continue
            stored = session.scalar(select(Evidence.record_hash).where(Evidence.seq == a["seq"]))
            if stored == a["head"]:
                return a, line
    return None
