"""Import road lines (GeoJSON or a Shapefile, any CRS) for the offline base map.

An intranet machine has no tile server, so the map's offline base draws the district from data the
project holds; roads come from a file the user has (a surveying bureau's export, an OSM extract
made elsewhere). The file is read and reprojected exactly as grid files are (grids.importers.geo:
--crs, GCJ-02/BD-09, declared CRS), every feature must be a line in China near the district's grids,
and everything is checked before anything is written. Roads are base-map data, not records with a
history, so an import replaces the previous set in one transaction.

Lines are simplified to about a metre (`SIMPLIFY_DEGREES`) before they are stored: survey exports
carry a vertex every few centimetres, and the map sends every road to the browser at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.errors import ImportRejected
from core.models import Road
from grids import coords
from grids.importers.checks import grids_extent
from grids.importers.geo import read_wgs84
from grids.importers.registers import ImportSummary

NAME_COLUMNS = ("name", "名称", "道路名称", "路名", "road_name", "NAME", "Name")
NAME_LENGTH = Road.__table__.c["name"].type.length
SIMPLIFY_DEGREES = 0.00001  # about 1 m: finer than a screen pixel at the map's highest zoom


def import_roads(
    session: Session, path, crs: str | None = None, *, max_distance_km: float | None = None
) -> ImportSummary:
    """Replace the stored roads with the file's lines; nothing is written when any feature is wrong."""
    path = Path(path)
    frame, source, notes = read_wgs84(path, crs)
    name_column = next((c for c in frame.columns if str(c) in NAME_COLUMNS), None)
    extent = grids_extent(session)
    problems: list[str] = []
    rows: list[dict] = []
    for i in range(len(frame)):
        name = _name(frame.iloc[i][name_column]) if name_column is not None else None
        label = f"feature #{i + 1}" + (f" ({name})" if name else "")
        geom = _line(frame.geometry.iloc[i], label, source, problems)
        if geom is None:
            continue
        if name and len(name) > NAME_LENGTH:
            problems.append(f"{label}: name is longer than {NAME_LENGTH} characters")
            continue
        if extent is not None and max_distance_km and max_distance_km > 0:
            point = geom.interpolate(0.5, normalized=True)
            km = float(extent.km_outside([point.x], [point.y])[0])
            if km > max_distance_km:
                problems.append(
                    f"{label}: at ({point.x:.5f}, {point.y:.5f}), {km:,.0f} km from the district's grids ({extent}); "
                    f"another place or a wrong --crs? (grids.max_distance_km = {max_distance_km:g})"
                )
                continue
        rows.append(_row(name, geom.simplify(SIMPLIFY_DEGREES, preserve_topology=True)))
    if problems:
        raise ImportRejected(path.name, problems)
    replaced = session.execute(delete(Road)).rowcount or 0
    session.add_all(Road(**row) for row in rows)
    session.flush()
    summary = ImportSummary(created=len(rows))
    if replaced:
        summary.notes.append(f"replaced the {replaced} road line(s) imported before")
    summary.notes.extend(notes)
    return summary


def _line(geom, label: str, source: str, problems: list[str]):
    if geom is None or geom.is_empty:
        problems.append(f"{label}: no geometry")
        return None
    if geom.geom_type not in ("LineString", "MultiLineString"):
        problems.append(f"{label}: geometry is a {geom.geom_type}, not a line")
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        problems.append(f"{label}: its coordinates cannot be converted from {source}; is that the right CRS?")
        return None
    if not coords.in_china(minx, miny) and coords.in_china(miny, minx):
        problems.append(
            f"{label}: coordinates ({minx:.4f}, {miny:.4f}) look like latitude and longitude swapped; "
            "GeoJSON and Shapefiles put longitude first"
        )
        return None
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        problems.append(
            f"{label}: coordinates ({minx:.0f}, {miny:.0f}) are not longitude/latitude (read with {source}); "
            "give the file's CRS with --crs (e.g. EPSG:4547)"
        )
        return None
    if not (coords.in_china(minx, miny) and coords.in_china(maxx, maxy)):
        problems.append(f"{label}: at ({minx:.5f}, {miny:.5f}), outside China (read with {source}); is the CRS right?")
        return None
    return geom


def _name(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _row(name: str | None, geom) -> dict:
    minx, miny, maxx, maxy = geom.bounds
    return {
        "name": name,
        "geometry": json.dumps(json.loads(shapely.to_geojson(geom, indent=None)), separators=(",", ":")),
        "min_lon": minx,
        "min_lat": miny,
        "max_lon": maxx,
        "max_lat": maxy,
    }
