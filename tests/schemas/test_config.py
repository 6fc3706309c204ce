import shutil

import pytest

from schemas import SCHEMAS_DIR, ConfigError, load_config
from schemas.config import load_channels, load_tag_rules


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
    ],
    ids=[
        "unknown-field",
        "bad-record-type",
        "alias-twice",
        "duplicate-name",
        "out-of-range",
        "unknown-key",
        "bad-yaml",
    ],
)
def test_config_errors_name_the_file_and_key(schemas, file, old, new, message):
    _edit(schemas / file, old, new)
    with pytest.raises(ConfigError, match=message):
        load_config(schemas)


def test_tag_rule_in_unknown_group_names_the_line(schemas):
    _edit(schemas / "tag_rules.yaml", "group: 规模, priority: 10", "group: 尺寸, priority: 10")
    with pytest.raises(ConfigError, match=r"tag_rules\.yaml:\d+: rule '大型客户' has group '尺寸'"):
        load_tag_rules(schemas / "tag_rules.yaml")
