"""schemas/kpis.yaml: every figure named once, with known parameters and label keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_etl.flows.texts import messages
from crm_etl.schemas.config import ConfigError
from crm_etl.schemas.kpis import load_kpis


def test_the_bundled_figures_load_with_labels_the_messages_know():
    definitions = load_kpis()
    names = [k.name for k in definitions.kpis]
    assert "overdue_followups" in names and len(names) == len(set(names))
    texts = messages()["text"]
    assert all(k.label in texts for k in definitions.kpis if k.label)
    assert definitions["field_completeness"].parameters == ["completeness_fields"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kpis:\n  - {name: a, sql: SELECT 1}\n  - {name: a, sql: SELECT 2}\n", "name 'a' is defined twice"),
        (
            "kpis:\n  - {name: a, sql: SELECT $as_of}\n",
            r"uses \$as_of; a query may only use \$completeness_fields",
        ),
        ("kpis:\n  - {name: a, sql: SELECT 1, colour: red}\n", r"kpis\.0\.colour"),
        ("kpis: []\n", "kpis"),
    ],
    ids=["duplicate-name", "unknown-parameter", "unknown-key", "no-figure"],
)
def test_a_bad_definition_names_the_file_and_key(tmp_path: Path, text, message):
    path = tmp_path / "kpis.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_kpis(path)
    assert str(path) in str(caught.value)
