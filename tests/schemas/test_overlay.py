"""`--schemas DIR` overlays DIR's files on the bundled schemas/: same name replaces, others stay."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_INPUT, app
from crm_etl.schemas import SCHEMAS_DIR, ConfigError
from crm_etl.schemas.contracts import load_contracts
from crm_etl.schemas.overlay import original_paths, overlay_schemas, schema_files

runner = CliRunner()


def _web_form_with_alias(folder: Path, alias: str) -> Path:
    spec = yaml.safe_load((SCHEMAS_DIR / "sources" / "web_form.yaml").read_text(encoding="utf-8"))
    spec["aliases"]["customer_name"].append(alias)
    path = folder / "sources" / "web_form.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_a_file_of_dir_replaces_the_bundled_one_and_every_other_file_stays(tmp_path):
    mine = _web_form_with_alias(tmp_path / "mine", "firm of record")
    merged = overlay_schemas(tmp_path / "mine")
    files = schema_files(merged)
    assert set(files) == set(schema_files(SCHEMAS_DIR))
    assert files["sources/web_form.yaml"] == mine.resolve()
    assert files["sources/excel_ledger.yaml"] == (SCHEMAS_DIR / "sources" / "excel_ledger.yaml").resolve()
    contracts = load_contracts(merged)
    web_form = next(s for s in contracts.config.sources if s.name == "web_form")
    assert "firm of record" in web_form.aliases["customer_name"]
    assert len(contracts.config.sources) == len(load_contracts().config.sources)


def test_an_edit_of_dirs_file_is_seen_by_the_next_load(tmp_path):
    mine = tmp_path / "mine"
    _web_form_with_alias(mine, "firm of record")
    first = load_contracts(overlay_schemas(mine))
    _web_form_with_alias(mine, "registered firm")
    again = load_contracts(overlay_schemas(mine))
    web_form = next(s for s in again.config.sources if s.name == "web_form")
    assert "registered firm" in web_form.aliases["customer_name"] and first is not again


def test_without_dir_or_with_the_bundled_folder_nothing_is_merged():
    assert overlay_schemas(None) == SCHEMAS_DIR
    assert overlay_schemas(SCHEMAS_DIR) == SCHEMAS_DIR.resolve()


def test_a_missing_dir_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="configuration folder not found"):
        overlay_schemas(tmp_path / "nope")


def test_an_error_names_the_file_in_dir_not_the_overlays_link(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "segments.yaml").write_text("rfm: [\n", encoding="utf-8")
    merged = overlay_schemas(mine)
    with pytest.raises(ConfigError) as raised:
        load_contracts(merged)
    message = original_paths(str(raised.value), merged)
    assert str((mine / "segments.yaml").resolve()) in message and str(merged) not in message


def test_the_cli_overlays_a_partial_folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_text("company,mobile\nx,1\n", encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "segments.yaml").write_text("rfm: [\n", encoding="utf-8")
    # The folder holds only one (broken) file: the error is about it, not about a missing customer.yaml.
    result = runner.invoke(
        app, ["run", "--inbox", str(inbox), "--db", str(tmp_path / "c.duckdb"), "--schemas", str(mine)]
    )
    assert result.exit_code == EXIT_INPUT
    message = "".join(result.output.split())
    assert "configurationerror" in message and str(mine.resolve() / "segments.yaml") in message
    assert not (tmp_path / "c.duckdb").exists()
