"""Load the bundled sample district into the database: grids, venues, agencies, inspectors and two
years of inspections, in one transaction (all or nothing). Loading twice changes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from core import db
from core.config import Config
from core.models import Grid, Inspection, Inspector
from grids.importers.geo import import_grids
from grids.importers.registers import import_agencies, import_inspections, import_venues


def load_sample(cfg: Config, sample_dir: Path | None = None) -> dict[str, int]:
    """Returns counts of what is in the database afterwards; skips loading when it is already there."""
    sample_dir = sample_dir or cfg.resolve(cfg.grids.sample_dir)
    with db.session_scope(cfg) as session:
        if session.scalar(select(Grid.id).where(Grid.code == "320508")) is None:
            import_grids(session, sample_dir / "district.geojson", crs="wgs84")
            import_venues(session, sample_dir / "venues.csv", crs="wgs84")
            import_agencies(session, sample_dir / "agencies.csv", crs="wgs84")
            import_inspections(session, sample_dir / "inspections.csv")
            _load_inspectors(session, sample_dir / "inspectors.csv")
        return {
            name: session.scalar(select(func.count()).select_from(model))
            for name, model in (("grids", Grid), ("inspections", Inspection), ("inspectors", Inspector))
        }


def _load_inspectors(session, path: Path) -> None:
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            session.add(Inspector(name=row["name"], badge_no=row["badge_no"]))
    session.flush()
