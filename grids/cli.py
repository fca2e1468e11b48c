"""Verbs that import what users have: grid polygons and registers of venues, agencies, inspections."""

from __future__ import annotations

import click

from core.cli import load_config

CRS_HELP = "Coordinate system of the file's lon/lat: gcj02 (高德/腾讯), bd09 (百度) or wgs84 (GPS/天地图)."


@click.command("import-grids")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--crs", help="CRS of a file that does not declare one: EPSG code, gcj02 or bd09.")
@click.pass_context
def import_grids_cmd(ctx, path, crs):
    """Import grids from GeoJSON or a Shapefile (reprojected to WGS-84; all or nothing)."""
    from grids.importers.geo import import_grids

    _import(ctx, "grids", lambda s, cfg: import_grids(s, path, crs=crs, repair=cfg.grids.repair_invalid_polygons))


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
        lambda s, cfg: import_venues(
            s, path, crs or cfg.grids.default_input_crs, cfg.grids.reject_points_outside_grids
        ),
    )


@click.command("import-agencies")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--crs", type=click.Choice(["gcj02", "bd09", "wgs84"]), help=CRS_HELP)
@click.pass_context
def import_agencies_cmd(ctx, path, crs):
    """Import the licensed travel-agency registry from CSV or .xlsx; all or nothing."""
    from grids.importers.registers import import_agencies

    _import(ctx, "agencies", lambda s, cfg: import_agencies(s, path, crs or cfg.grids.default_input_crs))


@click.command("import-inspections")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def import_inspections_cmd(ctx, path):
    """Import inspection history (matched to venues by licence number); all or nothing."""
    from grids.importers.registers import import_inspections

    _import(ctx, "inspections", lambda s, _cfg: import_inspections(s, path))


def _import(ctx, label: str, do_import) -> None:
    """Run one importer in one transaction: a rejected file rolls back and writes nothing."""
    from core import db

    cfg = load_config(ctx)
    with db.session_scope(cfg) as session:
        summary = do_import(session, cfg)
    click.echo(f"{label}: {summary}")


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
