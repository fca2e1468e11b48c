"""What the detectors need from the database, as plain records: agencies, grids and venues.

A missing or empty database is not an error: detection still runs with an empty registry and only
city-level locations, which is what a fresh install without imports should do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core.errors import UserError

AGENCY_COLUMNS = ("name", "license_no", "address", "lon", "lat")


@dataclass
class Snapshot:
    agencies: list[dict] = field(default_factory=list)
    grids: list[dict] = field(default_factory=list)
    venues: list[dict] = field(default_factory=list)
    fingerprint: tuple = ()


def load_snapshot(cfg) -> Snapshot:
    """Agencies, grids and venues from the database; empty when there is no database yet."""
    if _missing_sqlite_file(cfg):
        return Snapshot()
    from core import db
    from core.models import Agency, Grid, Venue

    try:
        with db.session_scope(cfg) as s:
            fingerprint = tuple(
                s.execute(select(func.count(m.id), func.max(m.id))).one() for m in (Agency, Grid, Venue)
            )
            return Snapshot(
                [
                    _row(a, ("name", "licence_no", "address", "lon", "lat", "grid_id"))
                    for a in s.scalars(select(Agency))
                ],
                [
                    _row(g, ("id", "code", "name", "level", "parent_id", "centroid_lon", "centroid_lat"))
                    for g in s.scalars(select(Grid))
                ],
                [_row(v, ("name", "address", "lon", "lat", "grid_id")) for v in s.scalars(select(Venue))],
                tuple(tuple(f) for f in fingerprint),
            )
    except SQLAlchemyError:
        return Snapshot()  # no tables yet (database never initialised)


def read_agencies_csv(path: str | Path) -> list[dict]:
    """Agencies from a CSV with header name,license_no,address,lon,lat (licence_no also accepted)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"agencies file {path}: {exc.strerror or exc}") from None
    text = _decode(raw, path)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header or not ({"license_no", "licence_no"} & set(header)):
        raise UserError(
            f"agencies file {path}: header must be {','.join(AGENCY_COLUMNS)} (got {','.join(header) or 'nothing'})"
        )
    rows = []
    for number, record in enumerate(reader, start=2):
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items() if k}
        licence = record.get("license_no") or record.get("licence_no")
        if not record.get("name") or not licence:
            raise UserError(f"agencies file {path}, line {number}: name and license_no are both required")
        rows.append(
            {
                "name": record["name"],
                "licence_no": licence,
                "address": record.get("address") or None,
                "lon": _number(record.get("lon"), path, number),
                "lat": _number(record.get("lat"), path, number),
            }
        )
    return rows


def _missing_sqlite_file(cfg) -> bool:
    url = cfg.database_url
    if not url.startswith("sqlite"):
        return False
    path = url.split("///", 1)[-1]
    return bool(path) and path != ":memory:" and not Path(path).exists()


def _row(obj, columns: tuple[str, ...]) -> dict:
    return {c: getattr(obj, c) for c in columns}


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"agencies file {path}: not UTF-8 or GBK text")


def _number(value: str | None, path: Path, line: int) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise UserError(f"agencies file {path}, line {line}: {value!r} is not a number") from None
