"""Verbs that import what users have: grid polygons and registers of venues, agencies, inspections."""

from __future__ import annotations

import datetime as dt
import warnings

import click

from core.cli import load_config
from core.errors import UserError

CRS_HELP = "Coordinate system of the file's lon/lat: gcj02 (高德/腾讯), bd09 (百度) or wgs84 (GPS/天地图)."


@click.command("import-grids")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--crs",
    help="CRS of the file's coordinates when the file does not declare one (or must agree with it): "
    "an EPSG code such as EPSG:4547, gcj02, bd09 or wgs84.",
)
@click.pass_context
def import_grids_cmd(ctx, path, crs):
    """Import grids from GeoJSON or a Shapefile (reprojected to WGS-84; all or nothing)."""
    from grids.importers.geo import import_grids

    _import(
        ctx,
        "grids",
        path,
        lambda s, cfg: import_grids(
            s, path, crs=crs, repair=cfg.grids.repair_invalid_polygons, max_distance_km=cfg.grids.max_distance_km
        ),
    )


@click.command("import-roads")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--crs",
    help="CRS of the file's coordinates when the file does not declare one: an EPSG code, gcj02, bd09 or wgs84.",
)
@click.pass_context
def import_roads_cmd(ctx, path, crs):
    """Import road lines for the offline base map from GeoJSON or a Shapefile; replaces the roads
    imported before; all or nothing."""
    from grids.importers.roads import import_roads

    _import(
        ctx, "roads", path, lambda s, cfg: import_roads(s, path, crs=crs, max_distance_km=cfg.grids.max_distance_km)
    )


@click.command("import-venues")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--crs", type=click.Choice(["gcj02", "bd09", "wgs84"]), help=CRS_HELP)
@click.pass_context
def import_venues_cmd(ctx, path, crs):
    """Import venues (一户一档) from CSV or .xlsx; Chinese headers accepted; all or nothing."""
    from grids.importers.registers import import_venues

    _import(
        ctx,
        "venues",
        path,
        lambda s, cfg: import_venues(
            s,
            path,
            crs or cfg.grids.default_input_crs,
            cfg.grids.reject_points_outside_grids,
            max_distance_km=cfg.grids.max_distance_km,
        ),
    )


@click.command("import-agencies")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--crs", type=click.Choice(["gcj02", "bd09", "wgs84"]), help=CRS_HELP)
@click.pass_context
def import_agencies_cmd(ctx, path, crs):
    """Import the licensed travel-agency registry from CSV or .xlsx; all or nothing."""
    from grids.importers.registers import import_agencies

    _import(ctx, "agencies", path, lambda s, cfg: import_agencies(s, path, crs or cfg.grids.default_input_crs))


@click.command("import-inspections")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def import_inspections_cmd(ctx, path):
    """Import inspection history (matched to venues by licence number); all or nothing; importing a
    file again adds only the inspections that are new."""
    from zoneinfo import ZoneInfo

    from grids.importers.registers import import_inspections

    def run(session, cfg):
        today = dt.datetime.now(ZoneInfo(cfg.core.timezone)).date()  # the district's today, not the server's
        return import_inspections(session, path, today=today)

    _import(ctx, "inspections", path, run)


def _import(ctx, label: str, path: str, do_import) -> None:
    """Run one importer in one transaction: a rejected file rolls back and writes nothing.

    stderr carries exactly one line when the import fails: library warnings (openpyxl's styles, GDAL's
    field names) are kept out of it and, on success, reported after the summary on stdout. The
    database refusing a row, or being locked by another writer past the busy timeout, is one line
    too: the file is fine, or at least not the problem the user can see."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from core import db

    cfg = load_config(ctx)
    name = click.format_filename(path, shorten=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with db.session_scope(cfg) as session:
                summary = do_import(session, cfg)
        except IntegrityError as exc:
            detail = str(exc.orig).splitlines()[0][:160]
            raise UserError(f"{name}: the database refused a row ({detail}); nothing was written") from None
        except OperationalError as exc:
            if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                raise
            raise UserError(
                f"{name}: the database is busy (another import, a crawl or the web app is writing); nothing was "
                "written: run the import again"
            ) from None
    click.echo(f"{label}: {summary}")
    seen = sorted({str(w.message).splitlines()[0][:160] for w in caught if str(w.message)})
    if seen:
        click.echo(f"{label}: warnings while reading {name}: " + "; ".join(seen))


@click.command("load-sample")
@click.pass_context
def load_sample_cmd(ctx):
    """Load the bundled sample district (姑苏区): grids, venues, agencies, inspections."""
    from core import db
    from grids.sample.load import load_sample

    cfg = load_config(ctx)
    db.upgrade(cfg)
    counts = load_sample(cfg)
    click.echo("sample district: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
