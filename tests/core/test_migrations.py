"""Migrations build the schema from nothing and upgrade an older database without losing rows."""

from sqlalchemy import text

from core import db
from tests.conftest import make_config


def test_empty_database_upgrades_to_head_and_matches_models(tmp_path):
    from alembic import command

    cfg = make_config(tmp_path)
    db.upgrade(cfg)
    assert db.current_revision(cfg) is not None
    assert {"grids", "venues", "agencies", "inspections", "users", "hits", "evidence"} <= set(db.table_names(cfg))
    command.check(db._alembic_config(cfg))  # raises if the models drifted from the migrations
    db.dispose(cfg)


def test_upgrade_from_previous_schema_keeps_rows(tmp_path):
    cfg = make_config(tmp_path)
    db.upgrade(cfg, "0001")
    assert "hits" not in db.table_names(cfg)
    with db.get_engine(cfg).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO grids (code, name, level, geometry, min_lon, min_lat, max_lon, max_lat,"
                " centroid_lon, centroid_lat, created_at) VALUES ('320508001001', '平江网格', 'grid', '{}',"
                " 120.6, 31.3, 120.61, 31.31, 120.605, 31.305, '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO venues (name, category, lon, lat, status, created_at, updated_at)"
                " VALUES ('星空网吧', '网吧', 120.605, 31.305, '营业', '2026-01-01', '2026-01-01')"
            )
        )
    db.upgrade(cfg)
    with db.get_engine(cfg).connect() as conn:
        assert conn.execute(text("SELECT name FROM grids")).scalar_one() == "平江网格"
        assert conn.execute(text("SELECT name FROM venues")).scalar_one() == "星空网吧"
    assert "hits" in db.table_names(cfg)
    db.upgrade(cfg)  # running init again is harmless
    db.dispose(cfg)
