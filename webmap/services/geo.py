"""Coordinates as the browser shows them: the database is WGS-84, tiles may be GCJ-02 (高德).

Everything sent to the map is converted to the tiles' system, and every bounding box the map sends back
is converted to WGS-84 before it touches the database, so markers sit on the right street of the tiles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from core.i18n import N_, Msg
from grids import coords


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str | None) -> BBox | None:
        """ "minlon,minlat,maxlon,maxlat" as Leaflet's getBounds().toBBoxString() writes it."""
        if not text:
            return None
        bad = Msg(N_("地图范围（bbox）须写成：最小经度,最小纬度,最大经度,最大纬度"))
        try:
            parts = [float(p) for p in text.split(",")]
        except ValueError:
            raise ValueError(bad) from None
        if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
            raise ValueError(bad)
        return cls(*parts)

    def to_wgs84(self, crs: str, margin: float = 0.0) -> BBox:
        """The box in WGS-84. GCJ-02 shifts by at most ~0.007°, so corners converted one by one plus the
        margin cover the same ground."""
        lons, lats = coords.to_wgs84(
            np.array([self.min_lon, self.max_lon]), np.array([self.min_lat, self.max_lat]), crs
        )
        lons, lats = np.atleast_1d(lons), np.atleast_1d(lats)
        return BBox(float(lons[0]) - margin, float(lats[0]) - margin, float(lons[1]) + margin, float(lats[1]) + margin)


def points_to_display(lons, lats, crs: str) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = coords.from_wgs84(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), crs)
    return np.atleast_1d(np.asarray(lon)), np.atleast_1d(np.asarray(lat))


def geometry_to_display(geometry: dict | str, crs: str) -> dict:
    """A GeoJSON geometry with every position converted (one vectorised call per geometry)."""
    geom = json.loads(geometry) if isinstance(geometry, str) else geometry
    if crs == "wgs84":
        return geom
    flat: list[list[float]] = []
    _collect(geom["coordinates"], flat)
    arr = np.asarray(flat, dtype=float)
    lon, lat = points_to_display(arr[:, 0], arr[:, 1], crs)
    it = iter(zip(lon.tolist(), lat.tolist(), strict=True))
    return {"type": geom["type"], "coordinates": _rebuild(geom["coordinates"], it)}


def _collect(node, out) -> None:
    if node and isinstance(node[0], (int, float)):
        out.append(node[:2])
    else:
        for child in node:
            _collect(child, out)


def _rebuild(node, it):
    if node and isinstance(node[0], (int, float)):
        return list(next(it))
    return [_rebuild(child, it) for child in node]
