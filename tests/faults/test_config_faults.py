"""Bad settings stop at load time with one line naming the setting and where it came from: a value
of the wrong type for every setting of config.toml, impossible values, unknown names, unreadable
files; and through the real command, one line on stderr, no traceback, a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from core import config
from core.errors import ConfigError
from tests.conftest import PROJECT_ROOT


def _settings():
    """(section, key, default) of every plain setting in the shipped config.toml."""
    data = tomllib.loads(config.DEFAULT_PATH.read_text(encoding="utf-8"))
    for section, values in data.items():
        for key, default in values.items():
            if not (isinstance(default, list) and default and isinstance(default[0], dict)):  # [[jobs.schedule]]
                yield section, key, default


def _wrong_type(default):
    if isinstance(default, bool):
        return '"yes"'
    if isinstance(default, (int, float)):
        return '"five hundred"'
    if isinstance(default, str):
        return "5"
    if isinstance(default, list):
        return '"a, b"'
    return '"x"'


SETTINGS = list(_settings())


def test_the_table_covers_every_setting():
    assert len(SETTINGS) > 100


@pytest.mark.parametrize("section, key, default", SETTINGS, ids=[f"{s}.{k}" for s, k, _ in SETTINGS])
def test_a_wrong_type_for_any_setting_names_it_and_the_file(tmp_path, section, key, default):
    site = tmp_path / "site.toml"
    site.write_text(f"[{section}]\n{key} = {_wrong_type(default)}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config.load(site, environ={})
    message = str(err.value)
    assert f"setting {section}.{key} must be" in message and str(site) in message and "\n" not in message


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            "[core]\nsqlite_busy_timout_s = 5",
            "unknown setting core.sqlite_busy_timout_s; did you mean sqlite_busy_timeout_s?",
        ),
        ("[search]\nbakend = 'embedded'", "unknown setting search.bakend; did you mean backend?"),
        ("[serach]\nbackend = 'embedded'", "unknown section [serach]; did you mean search?"),
        ("[search]\nmax_query_length = 'five hundred'", "setting search.max_query_length must be a whole number"),
        ("[search]\nbackend = 'solr'", "setting search.backend must be one of embedded, elasticsearch, postgres"),
        ("[core]\ntimezone = 'Mars/Olympus'", "setting core.timezone is not a time zone name"),
        ("[core]\nlog_level = 'LOUD'", "setting core.log_level must be one of DEBUG"),
        ("[core]\ndatabase_url = 'not a url'", "setting core.database_url is not a database URL"),
        ("[core]\ndatabase_url = 'nosuchdb://x/y'", "setting core.database_url is not a database URL"),
        ("[search]\nbulk_size = 0", "setting search.bulk_size must be at least 1"),
        ("[crawl]\nretry_times = -1", "setting crawl.retry_times must be at least 0"),
        ("[evidence]\ngzip_level = 10", "setting evidence.gzip_level must be from 1 to 9"),
        ("[grading]\nthresholds = [35.0, 25.0, 15.0]", "setting grading.thresholds must be three rising numbers"),
        ("[draws]\nrates = { A = 'many' }", "setting draws.rates must hold numbers only"),
    ],
)
def test_names_and_values_that_cannot_be_right(tmp_path, line, expected):
    site = tmp_path / "site.toml"
    site.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("?", r"\?")):
        config.load(site, environ={})


def test_a_password_in_a_bad_database_url_is_not_printed(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(environ={"WANGXUN_CORE__DATABASE_URL": "nosuchdb://user:secret@host/db"})
    assert "secret" not in str(err.value) and "user:***@host" in str(err.value)


@pytest.mark.parametrize(
    "name, value, expected",
    [
        (
            "WANGXUN_CORE__TIMEZONE",
            "Asia/Nowhere",
            "environment variable WANGXUN_CORE__TIMEZONE: setting core.timezone",
        ),
        ("WANGXUN_CORE__LOG_LEVEL", "chatty", "environment variable WANGXUN_CORE__LOG_LEVEL: setting core.log_level"),
        ("WANGXUN_SEARCH__MAX_QUERY_LENGTH", "five hundred", "WANGXUN_SEARCH__MAX_QUERY_LENGTH='five hundred' is not"),
        ("WANGXUN_SERACH__BACKEND", "embedded", "unknown section serach; did you mean search?"),
    ],
)
def test_environment_values_are_checked_too(name, value, expected):
    with pytest.raises(ConfigError, match=expected):
        config.load(environ={name: value})


def test_unreadable_files_are_one_clear_line(tmp_path):
    latin = tmp_path / "latin1.toml"
    latin.write_bytes("[core]\ntimezone = 'Europe/Zürich'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        config.load(latin, environ={})
    with pytest.raises(ConfigError, match="is a directory"):
        config.load(tmp_path, environ={})


def test_an_unusable_data_dir_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    cfg = config.load(overrides={"core.data_dir": str(blocker / "var")}, environ={})
    with pytest.raises(ConfigError, match="setting core.data_dir: .* cannot be used"):
        _ = cfg.data_dir


def test_a_site_file_keeps_the_shipped_defaults_for_what_it_leaves_out(tmp_path):
    site = tmp_path / "etc" / "wangxun.toml"
    site.parent.mkdir()
    site.write_text("[search]\nmax_per_page = 50\n[core]\ndata_dir = 'data'\n", encoding="utf-8")
    cfg = config.load(site, environ={})
    assert cfg.search.max_per_page == 50 and cfg.search.backend == "embedded"
    assert cfg.data_dir == tmp_path / "etc" / "data"  # the site's own relative path: beside the site file
    # A path the site file leaves out still means the project's file.
    assert cfg.resolve(cfg.crawl.sources_file) == PROJECT_ROOT / "crawlers" / "sources.toml"


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"WANGXUN_CORE__TIMEZONE": "Mars/Olympus"}, "setting core.timezone"),
        ({"WANGXUN_CORE__DATABASE_URL": "garbage"}, "setting core.database_url"),
        ({"WANGXUN_SEARCH__BAKEND": "x"}, "did you mean backend?"),
    ],
)
def test_the_command_prints_one_line_and_exits_non_zero(tmp_path, environ, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env.update({"WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"), **environ})
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "init"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert expected in proc.stderr
