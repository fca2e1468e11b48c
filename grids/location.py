"""Where is it: which grid (网格) a point falls in. The one place that answers it, for one point
(`grid_at`: routing a clue) and for many (`GridIndex`: importers assigning a whole register).

shapely's STRtree answers all points in one vectorised query, so a million points against ten
thousand polygons is a few seconds rather than hours of nested loops. One point uses the same index
over the few grids whose bounding box holds it, so both answer alike on shared edges."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Grid


@dataclass
class GridIndex:
    ids: np.ndarray  # grid id per polygon
    codes: list[str]
    tree: STRtree
    polygons: np.ndarray

    @classmethod
    def from_polygons(cls, ids, codes, polygons) -> "GridIndex":
        polys = np.asarray(polygons, dtype=object)
        shapely.prepare(polys)
        return cls(np.asarray(ids), list(codes), STRtree(polys), polys)

    @classmethod
    def from_session(cls, session: Session, level: str = "grid") -> "GridIndex":
        rows = session.execute(select(Grid.id, Grid.code, Grid.geometry).where(Grid.level == level)).all()
        return cls.from_polygons(
            [r.id for r in rows], [r.code for r in rows], [shapely.from_geojson(r.geometry) for r in rows]
        )

    def assign(self, lon, lat) -> np.ndarray:
        """Grid id for each point, or -1 where no grid contains it (first match if grids overlap)."""
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        result = np.full(len(points), -1, dtype=np.int64)
        if len(self.ids) == 0 or len(points) == 0:
            return result
        # "intersects" is 2.4x faster than "within" on a million points and differs only for points exactly on
        # an edge, which the reversed assignment below settles the same way (lowest polygon index wins).
        point_idx, poly_idx = self.tree.query(points, predicate="intersects")
        # Reverse so the first polygon (lowest index) wins when a point lies on a shared edge.
        result[point_idx[::-1]] = self.ids[poly_idx[::-1]]
        return result

    def assign_one(self, lon: float, lat: float) -> int | None:
        gid = int(self.assign([lon], [lat])[0])
        return None if gid < 0 else gid


def grid_at(session: Session, lon: float, lat: float) -> int | None:
    """The lowest-level grid containing the point: a leaf grid, else a street, else the district."""
    box = (Grid.min_lon <= lon, Grid.max_lon >= lon, Grid.min_lat <= lat, Grid.max_lat >= lat)
    rows = session.execute(select(Grid.id, Grid.code, Grid.level, Grid.geometry).where(*box).order_by(Grid.id)).all()
    for level in ("grid", "street", "district"):
        at_level = [r for r in rows if r.level == level]
        if at_level:
            index = GridIndex.from_polygons(
                [r.id for r in at_level],
                [r.code for r in at_level],
                [shapely.from_geojson(r.geometry) for r in at_level],
            )
            found = index.assign_one(lon, lat)
            if found is not None:
                return found
    return None


def to_geojson(geom) -> str:
    """A shapely geometry as compact GeoJSON text, the form grids store."""
    return json.dumps(json.loads(shapely.to_geojson(geom)), separators=(",", ":"))
