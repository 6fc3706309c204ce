"""Where the folders come from when no flag names them: `CRM_ETL_*` variables, then a settings file.

Precedence is flag > environment > file > built-in default. The file is `crm-etl.toml` in the
working directory (its keys at the top level), else the `[tool.crm-etl]` table of a
`pyproject.toml` there. Relative paths, in the file, a variable or a flag alike, are relative
to the working directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# The command-line parameter each setting fills, and its environment variable.
FOLDER_SETTINGS: dict[str, str] = {
    "db": "CRM_ETL_DB",
    "inbox": "CRM_ETL_INBOX",
    "reports": "CRM_ETL_REPORTS",
    "schemas": "CRM_ETL_SCHEMAS",
}
SETTINGS_FILE = "crm-etl.toml"


class SettingsError(ValueError):
    """A settings file is unreadable or names a setting crm-etl does not have."""


def file_settings(folder: Path) -> dict[str, Path]:
    """The folders set by `crm-etl.toml` (or pyproject's `[tool.crm-etl]`) in `folder`; {} if none."""
    path = folder / SETTINGS_FILE
    table: Any
    if path.is_file():
        table = _read_toml(path)
        where = str(path)
    elif (folder / "pyproject.toml").is_file():
        path = folder / "pyproject.toml"
        table = _read_toml(path).get("tool", {}).get("crm-etl")
        if table is None:
            return {}
        where = f"{path}: [tool.crm-etl]"
    else:
        return {}
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: expected a table of settings")
    settings: dict[str, Path] = {}
    for key, value in table.items():
        if key not in FOLDER_SETTINGS:
            raise SettingsError(f"{where}: {key!r} is not a setting (one of {', '.join(FOLDER_SETTINGS)})")
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{where}: {key}: expected a path as a string, got {value!r}")
        settings[key] = path.parent / Path(value).expanduser()
    return settings


def env_settings(environ: Mapping[str, str]) -> dict[str, Path]:
    """The folders set by `CRM_ETL_*` variables (an empty variable counts as unset)."""
    return {
        key: Path(environ[name]) for key, name in FOLDER_SETTINGS.items() if environ.get(name, "").strip()
    }


def folder_defaults(folder: Path, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Environment over file: what each folder option defaults to when its flag is not given."""
    return {**file_settings(folder), **env_settings(os.environ if environ is None else environ)}


def default_map(commands: Mapping[str, Iterable[str]], defaults: Mapping[str, Path]) -> dict[str, Any]:
    """Click's `default_map` for the subcommands: each gets the settings it has a parameter for."""
    return {
        name: {key: str(value) for key, value in defaults.items() if key in params}
        for name, params in commands.items()
    }


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the settings: {exc}") from exc


__all__ = [
    "FOLDER_SETTINGS",
    "SettingsError",
    "default_map",
    "env_settings",
    "file_settings",
    "folder_defaults",
]
