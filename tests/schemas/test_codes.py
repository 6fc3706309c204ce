"""Spec of schemas/codes.py: the shipped code tables load, and bad tables fail by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_etl.schemas.codes import load_customer_types, load_industry_table
from crm_etl.schemas.config import ConfigError


def test_industry_table_covers_every_section() -> None:
    table = load_industry_table()
    assert sorted(table.names) == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert table.names["C"] == "制造业"
    assert table.names_en["I"].startswith("Information Transmission")
    assert table.broad_groups["C"] == "制造业"
    assert {table.broad_groups[c] for c in "FGHIJKLMNOPQRST"} == {"服务业"}
    # Synonyms are stored in lookup form: simplified, lower-case, no spaces or punctuation.
    assert table["制造业"] == "C" and table["it"] == "I" and table["realestate"] == "K"
    assert "製造業" not in table and "IT" not in table


def test_common_sections_have_many_synonyms() -> None:
    table = load_industry_table()
    per_code: dict[str, int] = {}
    for code in table.values():
        per_code[code] = per_code.get(code, 0) + 1
    assert all(per_code[code] >= 10 for code in "CFIJKLMEGHPQR")


def test_customer_types() -> None:
    table = load_customer_types()
    assert table["潜在客户"] == ("prospect", "lead")
    assert table["商机"] == ("prospect", "intent")
    assert table["vip"] == ("customer", "deal")
    assert table["已流失"] == ("churned", "churned")
    assert {value for value, _ in table.values()} == {"prospect", "customer", "churned"}
    assert {stage for _, stage in table.values()} == {"lead", "intent", "deal", "churned"}


INDUSTRY_HEAD = """
standard: GB/T 4754-2017
sections:
  - {code: C, name_zh: 制造业, name_en: Manufacturing, broad_group: 制造业, synonyms: [机械]}
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "  - {code: F, name_zh: 批发和零售业, name_en: Trade, broad_group: 服务业, synonyms: [機械]}\n",
            "synonym '機械' under section F is the same word as '机械' under section C",
        ),
        (
            "  - {code: F, name_zh: 批发和零售业, name_en: Trade, broad_group: 服务业, synonym: [x]}\n",
            "sections.1.synonym: Extra inputs are not permitted",
        ),
        (
            "  - {code: F, name_zh: 批发和零售业, name_en: manufacturing, broad_group: 服务业}\n",
            "'manufacturing' under section F is the same word as 'Manufacturing' under section C",
        ),
        (
            "  - {code: Z, name_zh: 其他, name_en: Other, broad_group: 服务业}\n",
            "sections.1.code: String should match pattern",
        ),
        (
            "  - {code: C, name_zh: 其他, name_en: Other, broad_group: 服务业}\n",
            "section codes listed more than once: C",
        ),
        ("colour: red\n", "colour: Extra inputs are not permitted"),
    ],
    ids=["duplicate-synonym", "unknown-key", "duplicate-name", "bad-code", "duplicate-code", "top-key"],
)
def test_bad_industry_tables(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "industries.yaml"
    path.write_text(INDUSTRY_HEAD + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_industry_table(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "types:\n  - {value: prospect, stage: lead, synonyms: [线索]}\n"
            "  - {value: customer, stage: deal, synonyms: [線索]}\n",
            "synonym '線索' under types.1 (customer/deal) is the same word as '线索'",
        ),
        ("types:\n  - {value: prospect, stage: lead, synonym: [x]}\n", "types.0.synonym"),
        ("types:\n  - {value: customer, stage: lead, synonyms: [x]}\n", "does not belong to type"),
        ("types:\n  - {value: partner, stage: deal, synonyms: [x]}\n", "types.0.value"),
        ("types: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping at the top level"),
    ],
    ids=[
        "duplicate-synonym",
        "unknown-key",
        "stage-of-other-type",
        "unknown-type",
        "bad-yaml",
        "not-mapping",
    ],
)
def test_bad_customer_types(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "customer_types.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_customer_types(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_industry_table(tmp_path / "nope.yaml")
