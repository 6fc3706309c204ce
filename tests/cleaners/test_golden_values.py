"""Golden values by consensus and quality: the survivorship rules of schemas/pipeline.yaml on crafted clusters."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest

from crm_etl.cleaners.company import company_display_name, company_match_key
from crm_etl.cleaners.dedupe.settings import FieldSurvivorship, Survivorship
from crm_etl.cleaners.dedupe.survivorship import GOLDEN_FIELDS, golden_records, one_edit_typos
from crm_etl.cleaners.golden_values import golden_value_columns
from crm_etl.schemas.config import load_config

CONFIG = load_config()
TRUST = CONFIG.dedupe.source_trust
_STRING_FIELDS = [f for f in GOLDEN_FIELDS if f not in {"first_contact_date", "customer_name", "company_key"}]


def _records(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """One cluster (customer C1) of customer records as cleaning leaves them; `name` is the raw cell."""
    full = [
        {
            "customer_id": row.get("customer_id", "C1"),
            "source_system": row.get("system", "excel_ledger"),
            "source_file": row.get("file", "ledger.xlsx"),
            "source_sheet": "Sheet1",
            "source_row": index + 2,
            "first_contact_date": row.get("date", dt.date(2024, 1, 1)),
            "name": row.get("name"),
            "raw": json.dumps({"客户名称": row.get("name")}, ensure_ascii=False),
            "other_phones": [],
            **{f: row.get(f) for f in _STRING_FIELDS},
        }
        for index, row in enumerate(rows)
    ]
    frame = pl.DataFrame(full, schema_overrides={f: pl.String for f in _STRING_FIELDS})
    names = frame.get_column("name")
    return frame.with_columns(
        company_display_name(names).alias("customer_name"), company_match_key(names).alias("company_key")
    ).drop("name")


def _golden(rows: list[dict[str, Any]], survivorship: Survivorship = CONFIG.dedupe.survivorship) -> dict:
    golden = golden_records(golden_value_columns(_records(rows)), survivorship, TRUST)
    assert golden.height == 1
    row = golden.row(0, named=True)
    return {**row, "field_sources": json.loads(row["field_sources"])}


def _names(*names: str | tuple[str, str]) -> list[dict[str, Any]]:
    """Records by name, each optionally (name, source system)."""
    return [{"name": n} if isinstance(n, str) else {"name": n[0], "system": n[1]} for n in names]


NAME_CASES = [
    pytest.param(
        _names("深圳华鼎信息技术有限公司", "深圳华鼎信息技术有限公司", "深圳华鼎信息技树有限公司"),
        "深圳华鼎信息技术有限公司",
        "typo of a more frequent variant rejected",
        id="a rarer typo loses to the right spelling",
    ),
    pytest.param(
        _names(
            ("深圳华鼎信息技树有限公司", "legacy_crm"),
            "深圳华鼎信息技术有限公司",
            "深圳华鼎信息技术有限公司",
        ),
        "深圳华鼎信息技术有限公司",
        "typo of a more frequent variant rejected",
        id="a one-edit variant never wins even from the most trusted source",
    ),
    pytest.param(
        _names(
            ("深圳华鼎信息术有限公司", "legacy_crm"), "深圳华鼎信息技术有限公司", "深圳华鼎信息技术有限公司"
        ),
        "深圳华鼎信息技术有限公司",
        "typo of a more frequent variant rejected",
        id="a dropped character is a typo",
    ),
    pytest.param(
        _names("宏达机械", "宏达机械", "宏达机械", "上海宏达机械制造有限公司"),
        "上海宏达机械制造有限公司",
        "complete legal form",
        id="the complete legal form beats a more frequent short form",
    ),
    pytest.param(
        _names("宏达机械制造有限公司", "宏达机械制造有限公司", ("上海宏达机械制造有限公司", "web_form")),
        "上海宏达机械制造有限公司",
        "complete legal form",
        id="with its place beats without",
    ),
    pytest.param(
        _names("上海宏达", "上海宏达", "宏达机械制造有限公司"),
        "宏达机械制造有限公司",
        "legal form without place",
        id="a legal form beats a place and a short name",
    ),
    pytest.param(
        _names(
            ("上海宏达机戒制造有限公司", "legacy_crm"),
            "宏达机械",
            "宏达机械",
            "上海宏达机械制造有限公司",
        ),
        "上海宏达机械制造有限公司",
        "complete legal form",
        id="a complete form with a typo in the part others agree on is still a typo",
    ),
    pytest.param(
        _names(
            ("上海宏达机械制造有限公司", "legacy_crm"),
            "宏达机械制造（上海）有限公司",
            "上海市宏达机械制造有限公司",
            "上海宏达机械有限公司",
            "上海宏达机械有限公司",
        ),
        "上海宏达机械制造有限公司",
        "most records (3 of 5), then most trusted source legacy_crm",
        id="spellings of one registered name agree",
    ),
    pytest.param(
        _names("上海宏达集团有限公司", "上海宏达（集团）有限公司", ("上海宏达实业有限公司", "legacy_crm")),
        "上海宏达集团有限公司",
        "most records (2 of 3), then first in file order",
        id="（集团） and 集团 are one form",
    ),
]


@pytest.mark.parametrize(("rows", "name", "why"), NAME_CASES)
def test_customer_name_by_consensus_and_quality(rows: list[dict[str, Any]], name: str, why: str) -> None:
    golden = _golden(rows)
    assert golden["customer_name"] == name
    assert golden["field_sources"]["customer_name"]["why"] == why


def test_simplified_original_is_credited_over_a_traditional_one() -> None:
    # Both display as 上海宏达机械制造有限公司; the record that was written so is the source.
    golden = _golden(_names(("上海宏達機械製造有限公司", "legacy_crm"), "上海宏达机械制造有限公司"))
    assert golden["customer_name"] == "上海宏达机械制造有限公司"
    assert golden["field_sources"]["customer_name"] == {
        "record": "ledger.xlsx#Sheet1!3",
        "why": "all 2 records with a value agree",
    }


def test_traditional_characters_do_not_split_the_vote() -> None:
    golden = _golden(
        _names("上海宏達機械製造有限公司", "上海宏达机械制造有限公司", ("上海宏达实业有限公司", "legacy_crm"))
    )
    assert golden["customer_name"] == "上海宏达机械制造有限公司"
    assert golden["field_sources"]["customer_name"]["why"] == "most records (2 of 3)"


def test_mobile_most_records_show_wins_over_trust() -> None:
    rows = [
        {"name": "宏达", "mobile": "+8613800000001", "system": "legacy_crm"},
        {"name": "宏达", "mobile": "+8613800000002"},
        {"name": "宏达", "mobile": "+8613800000002", "system": "web_form"},
    ]
    golden = _golden(rows)
    assert golden["mobile"] == "+8613800000002"
    assert golden["field_sources"]["mobile"] == {
        "record": "ledger.xlsx#Sheet1!3",
        "why": "most records (2 of 3)",
    }


def test_mobile_tie_goes_to_the_trusted_source() -> None:
    rows = [
        {"name": "宏达", "mobile": "+8613800000001"},
        {"name": "宏达", "mobile": "+8613800000002", "system": "legacy_crm"},
    ]
    golden = _golden(rows)
    assert golden["mobile"] == "+8613800000002"
    assert golden["field_sources"]["mobile"]["why"] == "most trusted source legacy_crm"


def test_first_contact_is_the_earliest() -> None:
    rows = [
        {"name": "宏达", "date": dt.date(2024, 3, 1), "system": "legacy_crm"},
        {"name": "宏达", "date": dt.date(2023, 8, 15)},
        {"name": "宏达", "date": None},
    ]
    golden = _golden(rows)
    assert golden["first_contact_date"] == dt.date(2023, 8, 15)
    assert golden["field_sources"]["first_contact_date"] == {
        "record": "ledger.xlsx#Sheet1!3",
        "why": "earliest",
    }


INDUSTRY_CASES = [
    pytest.param(
        [("其他", None, "legacy_crm"), ("其他", None, "legacy_crm"), ("制造业", "C", "web_form")],
        ("制造业", "C"),
        "specific industry",
        id="specific over generic",
    ),
    pytest.param(
        [("新型智能装置", None, "legacy_crm"), ("制造业", "C", "web_form")],
        ("制造业", "C"),
        "specific industry",
        id="a code-table industry over unmapped text",
    ),
    pytest.param(
        [("制造业", "C", "legacy_crm"), ("信息传输、软件和信息技术服务业", "I", None),
         ("信息传输、软件和信息技术服务业", "I", "web_form")],
        ("信息传输、软件和信息技术服务业", "I"),
        "most records (2 of 3)",
        id="most records agree among specific ones",
    ),
    pytest.param(
        [("未知", None, "legacy_crm"), ("综合", None, None)],
        ("未知", None),
        "most trusted source legacy_crm",
        id="only generic values: trust",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("values", "expected", "why"), INDUSTRY_CASES)
def test_industry_most_specific_agreed_with_its_own_code(
    values: list[tuple[str, str | None, str | None]], expected: tuple[str, str | None], why: str
) -> None:
    rows = [
        {"name": "宏达", "industry": industry, "industry_code": code, "system": system or "excel_ledger"}
        for industry, code, system in values
    ]
    golden = _golden(rows)
    assert (golden["industry"], golden["industry_code"]) == expected
    sources = golden["field_sources"]
    assert sources["industry"]["why"] == why
    if expected[1] is not None:
        assert sources["industry_code"] == {
            "record": sources["industry"]["record"],
            "why": "from the record chosen for industry",
        }


def test_other_fields_keep_trust_then_recency() -> None:
    rows = [
        {"name": "宏达", "owner": "张伟", "date": dt.date(2024, 3, 1)},
        {"name": "宏达", "owner": "王芳", "system": "legacy_crm", "date": dt.date(2023, 1, 1)},
        {"name": "宏达", "owner": "李娜", "date": dt.date(2024, 5, 1)},
    ]
    golden = _golden(rows)
    assert golden["owner"] == "王芳"
    assert golden["field_sources"]["owner"] == {
        "record": "ledger.xlsx#Sheet1!3",
        "why": "most trusted source legacy_crm",
    }
    # Without the legacy record, the most recent ledger row wins.
    assert _golden([rows[0], rows[2]])["field_sources"]["owner"]["why"] == "most recent record"


def test_field_sources_name_the_record_and_why_for_every_field() -> None:
    golden = _golden([{"name": "宏达", "owner": "张伟"}, {"name": "宏达"}])
    sources = golden["field_sources"]
    assert set(sources) == set(GOLDEN_FIELDS)
    assert sources["owner"] == {"record": "ledger.xlsx#Sheet1!2", "why": "only record with a value"}
    assert sources["email"] is None


def test_clusters_are_ranked_independently() -> None:
    rows = [
        {"customer_id": "C1", "name": "宏达机械"},
        {"customer_id": "C1", "name": "上海宏达机械制造有限公司"},
        {"customer_id": "C2", "name": "杭州明远五金工具有限公司"},
        {"customer_id": "C2", "name": "杭州明远五金工具有限公司"},
        {"customer_id": "C2", "name": "杭州明远五金工俱有限公司", "system": "legacy_crm"},
    ]
    golden = golden_records(golden_value_columns(_records(rows)), CONFIG.dedupe.survivorship, TRUST)
    assert golden.sort("customer_id")["customer_name"].to_list() == [
        "上海宏达机械制造有限公司",
        "杭州明远五金工具有限公司",
    ]


TYPO_CASES = [
    pytest.param(["技术", "技术", "技树"], [False, False, True], id="substitution"),
    pytest.param(
        ["宏达机械", "宏达机械", "宏达机戒制造"],
        [False, False, True],
        id="typo at the start of a longer form",
    ),
    pytest.param(
        ["宏达机械", "宏达机械", "宏达机械制造"], [False, False, False], id="a longer form is no typo"
    ),
    pytest.param(
        ["中联", "中联", "中国联通"], [False, False, False], id="two characters are not compared as a start"
    ),
    pytest.param(["技术", "技树"], [False, False], id="equally frequent spellings are no typos"),
    pytest.param(["技术", "技术", "技术服务"], [False, False, False], id="two edits"),
]


@pytest.mark.parametrize(("spellings", "typos"), TYPO_CASES)
def test_one_edit_typos(spellings: list[str], typos: list[bool]) -> None:
    frame = pl.DataFrame({"customer_id": ["C1"] * len(spellings), "key": spellings})
    assert one_edit_typos(frame, "customer_id", "key").to_list() == typos


def test_a_rule_without_its_column_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="needs the record column 'spelling'"):
        FieldSurvivorship(rules=["no_typo", "trust"])
    with pytest.raises(ValueError, match="same_record_as"):
        Survivorship(fields={"industry_code": {"same_record_as": "industry_code"}})


def test_rule_lists_still_configure_a_field() -> None:
    survivorship = Survivorship(fields={"owner": ["recency", "trust"]})
    assert survivorship.for_field("owner").rules == ["recency", "trust"]
    assert survivorship.for_field("first_contact_date").rules == ["earliest"]
    assert survivorship.for_field("phone").rules == ["trust", "recency", "frequency"]


@pytest.mark.parametrize(
    ("field", "flagged", "clean", "issue"),
    [
        ("email", "li@qq.con", "li@qq.com", "email:email_domain_typo"),
        ("mobile", "+8613800138000", "+8613912345678", "mobile:phone_placeholder_number"),
        ("source_channel", "其他", "展会", "source_channel:source_channel_unknown"),
    ],
    ids=["typo-email", "placeholder-mobile", "unknown-source"],
)
def test_a_flagged_value_loses_to_a_clean_one_even_from_a_less_trusted_source(field, flagged, clean, issue):
    # Two trusted ledger records keep the flagged value; a worklist sent back (trusted least) corrects it.
    rows = [{"name": "上海甲机械有限公司", field: flagged}] * 2 + [
        {"name": "上海甲机械有限公司", field: clean, "system": "worklist"}
    ]
    records = _records(rows).with_columns(pl.Series("issues", [[issue], [issue], []]))
    golden = golden_records(golden_value_columns(records), CONFIG.dedupe.survivorship, TRUST).row(
        0, named=True
    )
    assert golden[field] == clean
    assert json.loads(golden["field_sources"])[field]["why"] == "value without a cleaning doubt"
