"""The one configuration loader: `config.toml`, then `WANGXUN_SECTION__KEY` environment variables,
then a test/override dict.

config.toml is the single list of settings and their defaults. A key that is not in config.toml is not
a setting: asking for it, or overriding it from the environment, is an error rather than a silent
default, so a typo in a deployment's environment cannot go unnoticed.
"""

from __future__ import annotations

import functools
import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

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
        d.mkdir(parents=True, exist_ok=True)
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
    """Read config.toml, apply WANGXUN_SECTION__KEY environment overrides, then `overrides`.

    `overrides` is a nested dict ({"search": {"backend": "embedded"}}) or dotted keys
    ({"search.backend": "embedded"}); both must name existing settings.
    """
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get(ENV_CONFIG_PATH) or DEFAULT_PATH).resolve()
    data = read_settings_file(path, "config file")
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX) and name not in _NOT_SETTINGS and "__" in name:
            keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
            _set(data, keys, raw, source=f"environment variable {name}", from_text=True)
    for dotted, value in _flatten(overrides or {}):
        _set(data, dotted.split("."), value, source=f"override {dotted}", from_text=False)
    return Config(data, path)


def child_environ(cfg: Config, **settings: str) -> dict[str, str]:
    """The environment for a child process (a crawl, the scheduler) that must see the same config file,
    data directory and database as `cfg`, plus `settings` given as dotted keys' env names
    (child_environ(cfg, crawl__sample_site_url=url) sets WANGXUN_CRAWL__SAMPLE_SITE_URL)."""
    env = dict(os.environ)
    env[ENV_CONFIG_PATH] = str(cfg.path)
    env[f"{ENV_PREFIX}CORE__DATA_DIR"] = str(cfg.data_dir)
    env[f"{ENV_PREFIX}CORE__DATABASE_URL"] = cfg.database_url
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
            raise ConfigError(f"{source} names unknown section {'.'.join(keys[:-1])}")
        node = node[k]
    last = keys[-1]
    if last not in node:
        raise ConfigError(f"{source} names unknown setting {'.'.join(keys)}")
    node[last] = _coerce(value, node[last], source) if from_text else value


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
