"""Settings: every key documented, environment overrides typed, unknown keys rejected."""

import re

import pytest

from core import config
from core.errors import ConfigError


def _keys_with_comments(text: str):
    """Yield (dotted key, has_comment) for each key line of config.toml."""
    section, prev_comment = "", False
    for line in text.splitlines():
        stripped = line.strip()
        header = re.match(r"^\[\[?([^\]]+)\]\]?$", stripped)
        if header:
            section, prev_comment = header.group(1), False
            continue
        key = re.match(r"^([A-Za-z0-9_\-]+)\s*=", stripped)
        if key:
            inline = "#" in line.split("=", 1)[1] and not line.split("=", 1)[1].strip().startswith(('"#', "'#"))
            yield f"{section}.{key.group(1)}", prev_comment or inline
            prev_comment = False
        elif stripped.startswith("#"):
            prev_comment = True
        elif not stripped:
            prev_comment = False


def test_every_setting_is_commented():
    text = config.DEFAULT_PATH.read_text(encoding="utf-8")
    undocumented = [k for k, ok in _keys_with_comments(text) if not ok]
    assert undocumented == [], f"settings without a comment in config.toml: {undocumented}"
    assert len(list(_keys_with_comments(text))) > 5


def test_environment_overrides_are_typed():
    cfg = config.load(
        environ={
            "WANGXUN_CORE__SQLITE_BUSY_TIMEOUT_S": "7",
            "WANGXUN_GRIDS__REPAIR_INVALID_POLYGONS": "false",
            "WANGXUN_CORE__DATABASE_URL": "sqlite:////tmp/x.db",
        }
    )
    assert cfg.core.sqlite_busy_timeout_s == 7
    assert cfg.grids.repair_invalid_polygons is False
    assert cfg.database_url == "sqlite:////tmp/x.db"


def test_unknown_or_mistyped_settings_are_errors():
    with pytest.raises(ConfigError, match="unknown setting"):
        config.load(environ={"WANGXUN_CORE__DATABSE_URL": "x"})
    with pytest.raises(ConfigError, match="not a valid int"):
        config.load(environ={"WANGXUN_CORE__SQLITE_BUSY_TIMEOUT_S": "soon"})
    with pytest.raises(ConfigError, match="unknown setting"):
        _ = config.load(environ={}).core.no_such_key
    with pytest.raises(ConfigError, match="unknown setting"):
        config.load(overrides={"core.nope": 1}, environ={})


def test_missing_and_broken_files_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "none.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[core\nx=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(bad, environ={})


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    cfg = config.load(overrides={"core.data_dir": "var"}, environ={})
    assert cfg.data_dir == config.PROJECT_ROOT / "var"


def test_files_named_by_settings_are_read_by_the_config_module(tmp_path):
    """The crawl sources file and the jobs schedule file report problems the same way as config.toml."""
    from crawlers.sources import load_sources
    from jobs.definitions import load_definitions

    broken = tmp_path / "broken.toml"
    broken.write_text("[[sources]\nname=", encoding="utf-8")
    cfg = config.load(overrides={"crawl.sources_file": str(broken)}, environ={})
    with pytest.raises(ConfigError, match=r"sources file .*broken.toml is not valid TOML"):
        load_sources(cfg)
    cfg = config.load(overrides={"jobs.schedule_file": str(broken)}, environ={})
    with pytest.raises(ConfigError, match=r"jobs schedule file .*broken.toml is not valid TOML"):
        load_definitions(cfg)
    cfg = config.load(overrides={"crawl.sources_file": str(tmp_path / "none.toml")}, environ={})
    with pytest.raises(ConfigError, match=r"sources file not found: .*none.toml \(setting crawl.sources_file\)"):
        load_sources(cfg)


def test_child_environ_points_a_child_process_at_the_same_settings(tmp_path):
    cfg = config.load(overrides={"core.data_dir": str(tmp_path / "var")}, environ={})
    env = config.child_environ(cfg, crawl__sample_site_url="http://127.0.0.1:9999")
    child = config.load(environ=env)
    assert child.path == cfg.path and child.data_dir == cfg.data_dir
    assert child.database_url == cfg.database_url
    assert child.crawl.sample_site_url == "http://127.0.0.1:9999"
