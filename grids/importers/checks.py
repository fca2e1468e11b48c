"""Where imported things are, in words a user can act on: outside China, far from the district.

A register or a grid file from another city, a wrong coordinate system or swapped axes all produce
valid numbers in the wrong place; the importers compare them with the grids already imported and
say where the thing landed and how far that is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Grid

KM_PER_DEGREE_LAT = 110.57
KM_PER_DEGREE_LON_AT_EQUATOR = 111.32


@dataclass(frozen=True)
class Extent:
    """The bounding box of the grids in the database, in WGS-84 degrees."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def __str__(self) -> str:
        return f"{self.min_lon:.2f}–{self.max_lon:.2f} E, {self.min_lat:.2f}–{self.max_lat:.2f} N"

    def km_outside(self, lon, lat) -> np.ndarray:
        """Distance in km from each point to the box (0 inside it); an equirectangular estimate,
        good to a few per cent at these distances, which is all a warning needs."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        dx = np.maximum(np.maximum(self.min_lon - lon, lon - self.max_lon), 0.0)
        dy = np.maximum(np.maximum(self.min_lat - lat, lat - self.max_lat), 0.0)
        kx = dx * KM_PER_DEGREE_LON_AT_EQUATOR * np.cos(np.radians(np.clip(lat, -89.0, 89.0)))
        return np.hypot(kx, dy * KM_PER_DEGREE_LAT)


def grids_extent(session: Session) -> Extent | None:
    """The box around every grid in the database, or None when there is none yet."""
    row = session.execute(
        select(func.min(Grid.min_lon), func.min(Grid.min_lat), func.max(Grid.max_lon), func.max(Grid.max_lat))
    ).one()
    return None if row[0] is None else Extent(*(float(v) for v in row))


def far_message(lon: float, lat: float, km: float, extent: Extent, limit_km: float) -> str:
    return (
        f"({lon:.5f}, {lat:.5f}) is {km:,.0f} km from the district's grids ({extent}); "
        f"a wrong coordinate or another place? (grids.max_distance_km = {limit_km:g})"
    )
