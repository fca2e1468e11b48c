"""The one configuration loader: the shipped `config.toml`, a site's own file over it, then
`WANGXUN_SECTION__KEY` environment variables, then a test/override dict; every value checked.

config.toml is the single list of settings, their defaults and so their types. A key that is not in
config.toml is not a setting: naming it in a file, the environment or an override is an error that
suggests the closest real one, so a typo in a deployment cannot go unnoticed. Allowed values beyond
the type are in core/config_rules.py. Every problem is a ConfigError (one line naming the setting and
where its value came from), raised when the configuration loads.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core import config_rules
from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = PROJECT_ROOT / "config.toml"
ENV_PREFIX = "WANGXUN_"
ENV_CONFIG_PATH = "WANGXUN_CONFIG"
# Environment variables that start with the prefix but are not settings.
_NOT_SETTINGS = {ENV_CONFIG_PATH, "WANGXUN_TEST_ELASTICSEARCH_URL"}


class Section(Mapping):
    """A read-only table of settings; `cfg.search.backend` and `cfg["search"]["backend"]` both work."""

    def __init__(self, data: dict[str, Any], name: str = ""):
        self._data = {k: Section(v, f"{name}.{k}".strip(".")) if isinstance(v, dict) else v for k, v in data.items()}
        self._name = name

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise ConfigError(f"unknown setting {self._name}.{key} (not in config.toml)") from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() if isinstance(v, Section) else v for k, v in self._data.items()}


class Config(Section):
    """All settings plus where they came from, so relative paths resolve against the config file."""

    def __init__(self, data: dict[str, Any], path: Path):
        super().__init__(data)
        self.path = path
        self.base_dir = path.parent

    def resolve(self, value: str | os.PathLike) -> Path:
        """An absolute path for a path setting; relative ones are relative to the config file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    # Cached: settings are read-only, and the crawl's page workers ask for these on every page.
    @functools.cached_property
    def data_dir(self) -> Path:
        d = self.resolve(self.core.data_dir)
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission, a read-only disk
            raise ConfigError(f"setting core.data_dir: {d} cannot be used: {exc.strerror or exc}") from None
        if not os.access(d, os.W_OK | os.X_OK):
            raise ConfigError(f"setting core.data_dir: {d} is not writable by this user")
        return d

    @functools.cached_property
    def database_url(self) -> str:
        url = self.core.database_url
        return url or f"sqlite:///{self.data_dir / 'wangxun.db'}"


def load(
    path: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the configuration, apply WANGXUN_SECTION__KEY environment overrides, then `overrides`,
    and check every setting's type and value. A problem is a ConfigError naming the setting and
    where the value came from (the file, the environment variable or the override).

    The shipped config.toml is the schema: every setting and its type (the type of its default). A
    site's own file (WANGXUN_CONFIG or `path`) is checked against it: an unknown section or key is
    an error that suggests the closest real one, and a setting the site file leaves out keeps the
    shipped default. `overrides` is a nested dict ({"search": {"backend": "embedded"}}) or dotted
    keys ({"search.backend": "embedded"}); both must name existing settings.
    """
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get(ENV_CONFIG_PATH) or DEFAULT_PATH).resolve()
    data = copy.deepcopy(_schema())
    origins = {key: f"config file {DEFAULT_PATH}" for key in _leaf_keys(data)}
    if path != DEFAULT_PATH.resolve():
        site = read_settings_file(path, "config file")
        _overlay(data, site, path, origins)
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX) and name not in _NOT_SETTINGS and "__" in name:
            keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
            _set(data, keys, raw, source=f"environment variable {name}", from_text=True)
            origins[".".join(keys)] = f"environment variable {name}"
    for dotted, value in _flatten(overrides or {}):
        _set(data, dotted.split("."), value, source=f"override {dotted}", from_text=False)
        origins[dotted] = f"override {dotted}"
    _check_values(data, origins)
    return Config(data, path)


def with_overrides(cfg: Config, overrides: Mapping[str, Any]) -> Config:
    """`cfg` with some settings replaced (dotted keys), checked like any other override."""
    data = cfg.to_dict()
    origins = {}
    for dotted, value in _flatten(overrides):
        _set(data, dotted.split("."), value, source=f"override {dotted}", from_text=False)
        origins[dotted] = f"override {dotted}"
    _check_values(data, origins, only=set(origins))
    return Config(data, cfg.path)


@functools.cache
def _schema() -> dict[str, Any]:
    """The shipped config.toml: every setting, its default and so its type."""
    return read_settings_file(DEFAULT_PATH, "config file")


def _overlay(data: dict, site: dict, path: Path, origins: dict[str, str]) -> None:
    """Put a site file's values over the shipped defaults, checking names and types as it goes."""
    where = f"config file {path}"
    for section, values in site.items():
        if section not in data:
            raise ConfigError(f"{path}: unknown section [{section}]{_suggest(section, data)}")
        if not isinstance(values, dict) or not isinstance(data[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a table of settings")
        for key, value in values.items():
            dotted = f"{section}.{key}"
            if key not in data[section]:
                raise ConfigError(f"{path}: unknown setting {dotted}{_suggest(key, data[section])}")
            data[section][key] = _typed(dotted, value, data[section][key], where)
            origins[dotted] = where
    # Path settings the site file leaves out keep meaning a place under the project.
    for dotted in config_rules.PATHS:
        section, key = dotted.split(".")
        if dotted not in origins or origins[dotted] != where:
            value = data[section][key]
            if value and not Path(value).is_absolute():
                data[section][key] = str((DEFAULT_PATH.parent / value).resolve())


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else f" (known: {', '.join(sorted(known))})"


def _leaf_keys(data: dict, prefix: str = "") -> Iterator[str]:
    for key, value in data.items():
        if isinstance(value, dict) and not prefix:
            yield from _leaf_keys(value, f"{key}.")
        else:
            yield f"{prefix}{key}"


def _typed(dotted: str, value: Any, default: Any, source: str) -> Any:
    """`value` when it has the type of the setting's default (an int is a valid float), else a
    ConfigError naming the setting, the expected type and where the value came from."""

    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{source}: setting {dotted} must be {expected}, not {value!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("a string (in quotes)")
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise wrong("a list [ … ]")
        if default and all(isinstance(x, str) for x in default) and not all(isinstance(x, str) for x in value):
            raise wrong("a list of strings")
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise wrong("a table { … }")
        return value
    return value


def _check_values(data: dict, origins: dict[str, str], only: set[str] | None = None) -> None:
    for dotted in only or origins:
        section, _, key = dotted.partition(".")
        if not key or not isinstance(data.get(section), dict) or key not in data[section]:
            continue
        problem = config_rules.check_value(dotted, data[section][key])
        if problem:
            raise ConfigError(f"{origins[dotted]}: setting {dotted} {problem}")


def child_environ(cfg: Config, **settings: str) -> dict[str, str]:
    """The environment for a child process (a crawl, the scheduler) that must see the same config file,
    data directory and database as `cfg`, plus `settings` given as dotted keys' env names
    (child_environ(cfg, crawl__sample_site_url=url) sets WANGXUN_CRAWL__SAMPLE_SITE_URL)."""
    env = dict(os.environ)
    env[ENV_CONFIG_PATH] = str(cfg.path)
    env[f"{ENV_PREFIX}CORE__DATA_DIR"] = str(cfg.data_dir)
    env[f"{ENV_PREFIX}CORE__DATABASE_URL"] = cfg.database_url
    # The evidence chain's signing key and anchors belong to this database (a crawl anchors its head).
    env[f"{ENV_PREFIX}EVIDENCE__ANCHOR_KEY_FILE"] = str(cfg.resolve(cfg.evidence.anchor_key_file))
    if cfg.evidence.anchors_file:
        env[f"{ENV_PREFIX}EVIDENCE__ANCHORS_FILE"] = str(cfg.resolve(cfg.evidence.anchors_file))
    env["PYTHONIOENCODING"] = "utf-8"  # crawl summaries and errors are Chinese
    env.update({f"{ENV_PREFIX}{key.upper()}": str(value) for key, value in settings.items()})
    return env


def read_settings_file(path: Path, what: str, setting: str | None = None) -> dict[str, Any]:
    """Parse a TOML settings file: config.toml itself, or a file a setting names (the crawl sources
    file, the jobs schedule file). Every configuration file is read here, with one kind of error."""
    named_by = f" (setting {setting})" if setting else ""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}{named_by}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text (save it as UTF-8)") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {path} is a directory, not a file{named_by}") from None
    except PermissionError:
        raise ConfigError(f"{what} {path} cannot be read (permission denied){named_by}") from None


def _flatten(d: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and "." not in k:
            yield from _flatten(v, key + ".")
        else:
            yield key, v


def _set(data: dict, keys: list[str], value: Any, source: str, from_text: bool) -> None:
    node = data
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            known = [name for name, value in node.items() if isinstance(value, dict)]
            raise ConfigError(f"{source} names unknown section {'.'.join(keys[:-1])}{_suggest(k, known)}")
        node = node[k]
    last = keys[-1]
    if last not in node:
        raise ConfigError(f"{source} names unknown setting {'.'.join(keys)}{_suggest(last, node)}")
    value = _coerce(value, node[last], source) if from_text else value
    node[last] = _typed(".".join(keys), value, node[last], source)


def _coerce(text: str, default: Any, source: str) -> Any:
    """Environment values are text; give them the type of the default in config.toml."""
    try:
        if isinstance(default, bool):
            if text.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if text.strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, (list, dict)):
            if text.strip().startswith(("[", "{")):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{source}={text!r} is not a valid {type(default).__name__}") from None
    return text
