"""Where the folders come from: flag > CRM_ETL_* variable > crm-etl.toml / [tool.crm-etl] > default."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_INPUT, app
from crm_etl.flows.settings import FOLDER_SETTINGS, SettingsError, file_settings, folder_defaults

runner = CliRunner()


def test_the_settings_file_is_read_relative_to_its_folder(tmp_path):
    (tmp_path / "crm-etl.toml").write_text('db = "store/crm.duckdb"\ninbox = "exports"\n', encoding="utf-8")
    assert file_settings(tmp_path) == {"db": tmp_path / "store/crm.duckdb", "inbox": tmp_path / "exports"}


def test_pyprojects_tool_table_is_the_fallback(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.crm-etl]\nreports = "out"\n', encoding="utf-8")
    assert file_settings(tmp_path) == {"reports": tmp_path / "out"}
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n', encoding="utf-8")
    assert file_settings(tmp_path) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'database = "x"\n',
            r"crm-etl\.toml: 'database' is not a setting \(one of db, inbox, reports, schemas\)",
        ),
        ("db = 3\n", r"crm-etl\.toml: db: expected a path as a string, got 3"),
        ('db = "x\n', r"crm-etl\.toml: cannot read the settings"),
    ],
    ids=["unknown-key", "not-a-string", "bad-toml"],
)
def test_a_bad_settings_file_names_the_file_and_key(tmp_path, text, message):
    (tmp_path / "crm-etl.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        file_settings(tmp_path)


def test_variables_win_over_the_file_and_empty_ones_count_as_unset(tmp_path):
    (tmp_path / "crm-etl.toml").write_text('db = "file.duckdb"\ninbox = "file-inbox"\n', encoding="utf-8")
    environ = {"CRM_ETL_DB": "env.duckdb", "CRM_ETL_INBOX": " ", "CRM_ETL_OTHER": "x"}
    assert folder_defaults(tmp_path, environ) == {"db": Path("env.duckdb"), "inbox": tmp_path / "file-inbox"}
    assert set(FOLDER_SETTINGS.values()) == {f"CRM_ETL_{k.upper()}" for k in FOLDER_SETTINGS}


@pytest.mark.parametrize(
    ("flag", "env", "file", "used"),
    [
        ("flag.duckdb", "env.duckdb", "file.duckdb", "flag.duckdb"),
        (None, "env.duckdb", "file.duckdb", "env.duckdb"),
        (None, None, "file.duckdb", "file.duckdb"),
        (None, None, None, "data/crm.duckdb"),
    ],
    ids=["flag", "env", "file", "default"],
)
def test_the_cli_takes_flag_then_env_then_file_then_default(tmp_path, monkeypatch, flag, env, file, used):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRM_ETL_DB", raising=False)
    if file:
        (tmp_path / "crm-etl.toml").write_text(f'db = "{file}"\n', encoding="utf-8")
    args = ["runs", *(["--db", flag] if flag else [])]
    # `runs` on a file that does not exist names the file it looked for: the one the settings chose.
    result = runner.invoke(app, args, env={"CRM_ETL_DB": env} if env else {})
    assert result.exit_code == EXIT_INPUT
    assert f"{used} does not exist" in " ".join(result.output.split())


def test_run_takes_its_inbox_from_the_variable_and_its_db_from_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "from-env"
    inbox.mkdir()
    (tmp_path / "crm-etl.toml").write_text('db = "from-file.duckdb"\n', encoding="utf-8")
    # run: the inbox from the variable (empty, so refused before anything is written), the db from the file.
    result = runner.invoke(app, ["run"], env={"CRM_ETL_INBOX": str(inbox)})
    assert result.exit_code == EXIT_INPUT
    message = " ".join(result.output.split())
    assert f"inbox {inbox}" in message and "from-file.duckdb" in message


def test_a_bad_settings_file_is_a_configuration_error_of_any_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "crm-etl.toml").write_text('inbx = "x"\n', encoding="utf-8")
    result = runner.invoke(app, ["runs"])
    assert result.exit_code == EXIT_INPUT
    assert "configuration error" in result.output and "'inbx' is not a setting" in result.output
