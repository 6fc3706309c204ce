import shutil

import pytest

from crm_etl.schemas import SCHEMAS_DIR, ConfigError, load_config
from crm_etl.schemas.config import load_channels, load_lead_sources, load_tag_rules


@pytest.fixture
def schemas(tmp_path):
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_bundled_configuration_loads():
    config = load_config()
    names = {s.name for s in config.sources}
    assert {
        "excel_ledger",
        "legacy_crm_accounts",
        "legacy_crm_orders",
        "legacy_crm_interactions",
        "web_form",
    } <= names
    assert config.pipeline.source_trust[0] == "legacy_crm"
    rules = load_tag_rules()
    assert rules.rules and all(r.line > 0 for r in rules.rules)
    assert load_channels()["call"] == "电话"
    lead_sources = load_lead_sources()
    assert lead_sources.spellings["tradeshow"] == "展会" and lead_sources.channels[-1] == "其他"


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "sources/excel_ledger.yaml",
            "  mobile: [",
            "  mobil: [",
            r"excel_ledger\.yaml: aliases\.mobil: not a canonical",
        ),
        (
            "sources/excel_ledger.yaml",
            "record_type: customers",
            "record_type: leads",
            r"excel_ledger\.yaml: record_type",
        ),
        (
            "sources/excel_ledger.yaml",
            "  email: [邮箱",
            "  email: [手机, 邮箱",
            r"alias '手机' is listed under both",
        ),
        (
            "sources/web_form.yaml",
            "name: web_form",
            "name: excel_ledger",
            r"name 'excel_ledger' is already used",
        ),
        (
            "pipeline.yaml",
            "completeness_target: 0.90",
            "completeness_target: 1.5",
            r"pipeline\.yaml: completeness_target",
        ),
        ("pipeline.yaml", "phone_region: CN", "phone_region: CN\nsurprise: 1", r"pipeline\.yaml: surprise"),
        ("customer.yaml", "record_types:", "record_types: [\n", r"customer\.yaml: not valid YAML"),
        (
            "garbage_rows.yaml",
            "numbers: ['13800138000',",
            "numbers: [00000000000, '13800138000',",
            r"garbage_rows\.yaml: test_records\.placeholder_phones\.numbers: .*quote numbers",
        ),
        (
            "garbage_rows.yaml",
            "    - '^©'",
            "    - '^(?=©)'",
            r"garbage_rows\.yaml: footers\.patterns: .*not a valid regex for polars",
        ),
        (
            "garbage_rows.yaml",
            "name_columns: [customer_name, contact_name]",
            "name_columns: [customer_name, contact]",
            r"garbage_rows\.yaml: test_records\.name_columns: 'contact' is not a canonical field",
        ),
        (
            "garbage_rows.yaml",
            "  units: [",
            "  unit: [",
            r"garbage_rows\.yaml: totals\.unit: Extra inputs",
        ),
        ("garbage_rows.yaml", "markers: [测试,", "markers: ['', 测试,", r"test_records\.markers: .*empty"),
        (
            "runs.yaml",
            "duckdb_storage_version: v1.4.0",
            "duckdb_storage_version: v1.9.0",
            r"runs\.yaml: duckdb_storage_version: .*'v1\.9\.0' is not a known DuckDB version",
        ),
    ],
    ids=[
        "unknown-field",
        "bad-record-type",
        "alias-twice",
        "duplicate-name",
        "out-of-range",
        "unknown-key",
        "bad-yaml",
        "garbage-unquoted-phone",
        "garbage-lookaround",
        "garbage-unknown-column",
        "garbage-unknown-key",
        "garbage-empty-marker",
        "unknown-storage-version",
    ],
)
def test_config_errors_name_the_file_and_key(schemas, file, old, new, message):
    _edit(schemas / file, old, new)
    with pytest.raises(ConfigError, match=message):
        load_config(schemas)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{tag: 大型客户, group: 属性,",
            "{tag: 大型客户, group: 尺寸,",
            r":29: rule '大型客户' has group '尺寸'",
        ),
        (
            "{tag: 大型客户, group: 属性, slot: 规模,",
            "{tag: 大型客户, group: 属性, slot: 尺寸,",
            r":29: rule '大型客户' has slot '尺寸'",
        ),
        (
            "{tag: 中小客户, group: 属性,",
            "{tag: 大型客户, group: 状态,",
            r":30: rule '大型客户': the same tag at line 29 has another group",
        ),
        (
            "when: \"employee_band = '大型'\"",
            'when: "true; DROP TABLE customers"',
            r":29: rule '大型客户': `when` must be one SQL expression",
        ),
    ],
    ids=["unknown-group", "unknown-slot", "tag-in-two-groups", "two-statements"],
)
def test_tag_rule_errors_name_the_file_and_line(schemas, old, new, message):
    _edit(schemas / "tag_rules.yaml", old, new)
    with pytest.raises(ConfigError, match=r"tag_rules\.yaml" + message):
        load_tag_rules(schemas / "tag_rules.yaml")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "spellings: [官网, ",
            "spellings: [官网, Trade-Show, ",
            r": lead_sources\.官网\.spellings: 'Trade-Show' is also a spelling of '展会' "
            r"\(as 'trade show'; both read 'tradeshow'\)",
        ),
        (
            "spellings: [其他, 其它, ",
            "spellings: [其他, 其它, 展会, ",
            r": lead_sources\.其他\.spellings: '展会' is also a spelling of '展会'",
        ),
        (
            "spellings: [其他, 其它, ",
            'spellings: [其他, "--", ',
            r": lead_sources\.其他\.spellings: '--' has no letters or digits",
        ),
        (
            "spellings: [其他, 其它, ",
            "spellings: [其他, 42, ",
            r": lead_sources\.其他\.spellings\.1: Input should be a valid string",
        ),
        (
            "      - ^others?\\b\n",
            "      - ^others?(\\b\n",
            r": lead_sources\.其他\.patterns\.1: '\^others\?\(\\\\b' is not a valid regular expression "
            r"\(error: unclosed group\)",
        ),
        (
            "      - ^其[他它]\n",
            "      - (?<!其)他\n",
            r": lead_sources\.其他\.patterns\.0: '\(\?<!其\)他' is not a valid regular expression "
            r"\(error: look-around",
        ),
        (
            "      - ^其[他它]\n",
            "      - 其*\n",
            r": lead_sources\.其他\.patterns\.0: '其\*' matches the empty text",
        ),
        (
            "  其他:\n    spellings:",
            "  其他:\n    spelings:",
            r": lead_sources\.其他\.spelings: Extra inputs are not permitted",
        ),
        ("lead_sources:\n", "lead_source:\n", r": lead_sources: Field required"),
        ("unknown: 其他\n", "unknown: 其它渠道\n", r": unknown: '其它渠道' is not a channel of lead_sources"),
        ("  其他:\n    spellings: [", "  其他:\n    spellings: [[", r": not valid YAML"),
    ],
    ids=[
        "spelling-under-two-channels",
        "canonical-name-under-another-channel",
        "spelling-without-letters",
        "spelling-not-text",
        "bad-regex",
        "look-around-regex",
        "regex-matching-everything",
        "unknown-key",
        "missing-top-key",
        "unknown-channel-not-a-channel",
        "bad-yaml",
    ],
)
def test_lead_source_errors_name_the_file_and_key(schemas, old, new, message):
    _edit(schemas / "lead_sources.yaml", old, new)
    with pytest.raises(ConfigError, match=r"lead_sources\.yaml" + message):
        load_lead_sources(schemas / "lead_sources.yaml")


def test_missing_lead_sources_file(tmp_path):
    with pytest.raises(ConfigError, match=r"lead_sources\.yaml: file not found"):
        load_lead_sources(tmp_path / "lead_sources.yaml")
