"""Migrations build the schema from nothing and upgrade an older database without losing rows."""

import pytest
from sqlalchemy import text

from core import db
from tests.conftest import make_config


@pytest.fixture
def empty_cfg(tmp_path, database_url):
    """Config on an empty database of the test's engine (SQLite and PostgreSQL: tests/conftest.py)."""
    cfg = make_config(tmp_path, **{"core.database_url": database_url(migrated=False)})
    yield cfg
    db.dispose(cfg)


def test_empty_database_upgrades_to_head_and_matches_models(empty_cfg):
    from alembic import command

    cfg = empty_cfg
    db.upgrade(cfg)
    assert db.current_revision(cfg) is not None
    assert {"grids", "venues", "agencies", "inspections", "users", "hits", "evidence"} <= set(db.table_names(cfg))
    command.check(db._alembic_config(cfg))  # raises if the models drifted from the migrations
    db.dispose(cfg)


def test_upgrade_from_previous_schema_keeps_rows(empty_cfg):
    cfg = empty_cfg
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


def test_0006_fills_licence_keys_and_keeps_duplicates_as_rows(empty_cfg, caplog):
    """Venues the old importer made twice (one licence in two spellings) both survive; the oldest keeps
    the key, the other is named in a warning. A downgrade drops the column and keeps the rows."""
    cfg = empty_cfg
    db.upgrade(cfg, "0005")
    with db.get_engine(cfg).begin() as conn:
        for number in ("L-JS-GJ00001", "l－js－gj00001", "新出发姑字第01355号", None):
            conn.execute(
                text(
                    "INSERT INTO venues (name, category, licence_no, lon, lat, status, created_at, updated_at)"
                    " VALUES ('网吧', '网吧', :no, 120.6, 31.3, '营业', '2026-01-01', '2026-01-01')"
                ),
                {"no": number},
            )
        conn.execute(
            text("INSERT INTO agencies (name, licence_no, created_at) VALUES ('甲', 'L-JS-CJ 00001', '2026-01-01')")
        )
    with caplog.at_level("WARNING"):
        db.upgrade(cfg)
    with db.get_engine(cfg).connect() as conn:
        venues = conn.execute(text("SELECT licence_no, licence_key FROM venues ORDER BY id")).all()
        agency = conn.execute(text("SELECT licence_no, licence_key FROM agencies")).one()
    assert venues == [
        ("L-JS-GJ00001", "LJSGJ00001"),
        ("l－js－gj00001", None),
        ("新出发姑字第01355号", "新出发姑字第01355号"),
        (None, None),
    ]
    assert tuple(agency) == ("L-JS-CJ 00001", "LJSCJ00001")
    assert "venues 2 has the licence of venues 1" in caplog.text
    db.upgrade(cfg)  # already at head: nothing happens
    from alembic import command

    command.downgrade(db._alembic_config(cfg), "0005")
    with db.get_engine(cfg).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM venues")).scalar_one() == 4
    db.dispose(cfg)


def test_0006_copy_of_the_licence_key_matches_core_licences():
    """The migration keeps its own copy of the normalisation (history must not move); a change to
    core.licences that breaks this needs a revision that recomputes the stored keys."""
    import importlib.util

    from core.licences import licence_key

    path = db.MIGRATIONS_DIR / "versions" / "0006_licence_keys.py"
    spec = importlib.util.spec_from_file_location("m0006", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for number in (
        "L-JS-CJ00001",
        "ｌ－ｊｓ－ｃｊ　００００１",
        "L—JS—CJ00001",
        "（苏）印证字3205号",
        "\u200bA‐1",
        " ",
        None,
    ):
        assert module._licence_key(number) == licence_key(number)


def test_0008_makes_inspection_venue_optional_and_keeps_every_row(empty_cfg):
    """Inspections and their photos survive 0008 (SQLite: no table copy, so no cascade); a named-party
    inspection can then be stored; downgrade refuses while one exists, and otherwise restores the NOT
    NULL with every row kept."""
    from alembic import command
    from sqlalchemy.exc import IntegrityError

    cfg = empty_cfg
    db.upgrade(cfg, "0007")
    engine = db.get_engine(cfg)
    inspection = (
        "INSERT INTO inspections (venue_id, date, inspectors, result, created_at)"
        " VALUES (:venue, '2026-03-01', '王执法', '责令整改', '2026-03-01') RETURNING id"
    )
    with engine.begin() as conn:
        venue = conn.execute(
            text(
                "INSERT INTO venues (name, category, lon, lat, status, created_at, updated_at)"
                " VALUES ('星空网吧', '网吧', 120.605, 31.305, '营业', '2026-01-01', '2026-01-01') RETURNING id"
            )
        ).scalar_one()
        kept = [conn.execute(text(inspection), {"venue": venue}).scalar_one() for _ in range(2)]
        conn.execute(
            text(
                "INSERT INTO attachments (inspection_id, filename, path, sha256, created_at)"
                " VALUES (:i, 'a.jpg', 'ab/a.jpg', 'ab', '2026-03-01')"
            ),
            {"i": kept[0]},
        )
    db.upgrade(cfg)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, venue_id FROM inspections ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(kept[0], venue), (kept[1], venue)]
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 1
        party = conn.execute(
            text(
                "INSERT INTO inspections (venue_id, grid_id, party_name, party_account, date, inspectors,"
                " result, created_at) VALUES (NULL, 7, '某网店', '淘宝：某某书屋', '2026-03-02', '王执法',"
                " '立案查处', '2026-03-02') RETURNING id"
            )
        ).scalar_one()
    command.downgrade(db._alembic_config(cfg), "0008")  # the revisions after 0008 first
    with pytest.raises(RuntimeError, match="1 inspections have a named party"):
        command.downgrade(db._alembic_config(cfg), "0007")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM inspections WHERE id = :i"), {"i": party})
    command.downgrade(db._alembic_config(cfg), "0007")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM inspections")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 1
    with pytest.raises(IntegrityError), engine.begin() as conn:  # NOT NULL is back
        conn.execute(text(inspection), {"venue": None})
    db.upgrade(cfg)


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(db.MIGRATIONS_DIR))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@pytest.mark.parametrize("start", _revisions()[:-1])
def test_every_earlier_revision_upgrades_to_head_and_back(empty_cfg, start):
    """From each earlier revision to head, then down to that revision and up again: every upgrade and
    downgrade step runs on each engine (PostgreSQL's transactional DDL and types included)."""
    from alembic import command

    cfg = empty_cfg
    db.upgrade(cfg, start)
    assert db.current_revision(cfg) == start
    db.upgrade(cfg)
    head = db.current_revision(cfg)
    assert head == _revisions()[-1]
    command.downgrade(db._alembic_config(cfg), start)
    assert db.current_revision(cfg) == start
    db.upgrade(cfg)
    assert db.current_revision(cfg) == head
    command.check(db._alembic_config(cfg))


def test_downgrade_to_empty_and_up_again(empty_cfg):
    from alembic import command

    cfg = empty_cfg
    db.upgrade(cfg)
    command.downgrade(db._alembic_config(cfg), "base")
    assert set(db.table_names(cfg)) <= {"alembic_version"}
    db.upgrade(cfg)
    assert "evidence" in db.table_names(cfg)
