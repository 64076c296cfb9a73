"""Find config.toml and read it: the one place the configuration touches the disk.

`find_config_path` picks the file (`--config`, then `$PAPERBOY_CONFIG`, then ./config.toml);
`load_config` reads it as UTF-8 TOML, hands the document to bot.config.validate, and lays
`$PAPERBOY_DATA` over the storage path. A file that cannot be read, is not UTF-8 or is not
TOML is one ConfigError naming the file (and the line, for a syntax error). With no file the
built-in defaults apply. Reads one file; no network. Called by the `paperboy` command at start.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config.schema import (
    DEFAULT_FILE,
    ENV_CONFIG,
    ENV_DATA,
    ENV_HEALTH_HOST,
    ENV_HEALTH_PORT,
    Config,
    HealthConfig,
    StorageConfig,
)
from bot.config.validate import build_config
from bot.errors import ConfigError

_TOML_ERROR = re.compile(r"^(?P<message>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def find_config_path(explicit: Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    """The config file to use: `--config`, else `$PAPERBOY_CONFIG`, else ./config.toml.

    A file the user named must exist (a typo must not silently mean "defaults"); a missing
    ./config.toml means built-in defaults and returns None. Relative paths are taken
    against `cwd`.
    """
    if explicit is not None:
        return _existing(cwd / explicit.expanduser(), "given with --config")
    named = env.get(ENV_CONFIG, "").strip()
    if named:
        return _existing(cwd / Path(named).expanduser(), f"named by ${ENV_CONFIG}")
    default = cwd / DEFAULT_FILE
    return default if default.is_file() else None


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate `path` (None: built-in defaults), then apply `$PAPERBOY_DATA`.

    Raises ConfigError naming the file and key path for the first problem found.
    """
    env = os.environ if env is None else env
    if path is None:
        return _apply_env(Config(), env)
    file = str(path)
    document = _parse(path, file)
    config = build_config(document, file, base=path.absolute().parent)
    return _apply_env(replace(config, source_path=path), env)


def _existing(path: Path, how: str) -> Path:
    if not path.exists():
        raise ConfigError(f"no such file ({how})", path=str(path))
    if not path.is_file():
        raise ConfigError(f"not a file ({how})", path=str(path))
    return path


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    config = _apply_health_env(config, env)
    data = env.get(ENV_DATA, "").strip()
    if not data:
        return config
    # Relative to where the command runs, as any path typed in a shell is.
    return replace(config, storage=StorageConfig(path=Path(data).expanduser().absolute()))


def _apply_health_env(config: Config, env: Mapping[str, str]) -> Config:
    # The container image listens for its HEALTHCHECK without a config file.
    port_text = env.get(ENV_HEALTH_PORT, "").strip()
    host = env.get(ENV_HEALTH_HOST, "").strip() or config.health.host
    port = config.health.port
    if port_text:
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise ConfigError(f"expected a port from 0 to 65535, got '{port_text}'",
                              key=f"${ENV_HEALTH_PORT}")
        port = int(port_text)
    return replace(config, health=HealthConfig(port=port, host=host))


def _parse(path: Path, file: str) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("no such file", path=file) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=file) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (bad byte at offset {exc.start})", path=file) from exc
    # Windows editors may start the file with a byte-order mark, which TOML does not allow.
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, file) from exc


def _syntax_error(message: str, text: str, file: str) -> ConfigError:
    match = _TOML_ERROR.match(message)
    if not match:
        return ConfigError(f"invalid TOML: {message}", path=file)
    line = int(match["line"])
    hint = ""
    source = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
    if re.match(r"^\s*time\s*=\s*\d", source):
        hint = ' (write the time in quotes: time = "09:00")'
    return ConfigError(
        f"invalid TOML: {match['message']}{hint}",
        path=file,
        key=f"line {line}, column {match['column']}",
    )
