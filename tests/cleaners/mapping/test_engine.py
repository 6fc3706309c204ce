"""The mapping engine on crafted headers and columns: hints, perturbations, content, composites, sheets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.mapping import decide_column, decide_columns, map_sheet, name_candidates, parse_header
from crm_etl.cleaners.mapping.columns import for_spec
from crm_etl.cleaners.mapping.content import profile_column
from crm_etl.cleaners.mapping.sheets import AmbiguousSheet, SheetMapping, SpecInfo
from crm_etl.schemas import load_config

CONFIG = load_config()
VOCABS = CONFIG.vocabularies()
SPECS = [SpecInfo(s.name, s.record_type, s.min_matched_fields) for s in CONFIG.sources]


def _field(header: str, record_type: str = "customers", values: list[str] | None = None) -> str | None:
    vocab = VOCABS[record_type]  # type: ignore[index]
    parsed = parse_header(header)
    profile = profile_column(values) if values else profile_column([])
    return decide_column(0, parsed, name_candidates(parsed, vocab), vocab, profile).field


@pytest.mark.parametrize(
    ("header", "hint", "value"),
    [
        ("首次接触日期(年/月/日)", "date_order", "YMD"),
        ("成交日期（日/月/年）", "date_order", "DMY"),
        ("Created Date (MM/DD/YYYY)", "date_order", "MDY"),
        ("Signup (dd.mm.yyyy)", "date_order", "DMY"),
        ("金额(万元)", "scale", 10_000.0),
        ("订单金额（千元）", "scale", 1_000.0),
        ("Amount CNY", "scale", 1.0),
        ("*客户名称", "required", True),
        ("手机(必填)", "required", True),
        ("负责人(系统)", "system", True),
        ("完成率(%)", "unit", "%"),
    ],
    ids=[
        "ymd",
        "dmy",
        "mdy",
        "dotted-dmy",
        "wan",
        "qian",
        "trailing-cny",
        "star",
        "required",
        "system",
        "percent",
    ],
)
def test_header_hints_are_parsed_not_dropped(header: str, hint: str, value: object) -> None:
    assert parse_header(header).hints.as_dict()[hint] == value


@pytest.mark.parametrize("header", ["单元", "公元纪年", "美元金额"], ids=["unit-room", "era", "usd"])
def test_words_ending_in_yuan_are_no_cny_unit(header: str) -> None:
    assert parse_header(header).hints.scale is None


# Known aliases of schemas/sources/, and the field each names.
KNOWN = [
    (alias, field)
    for spec in CONFIG.sources
    if spec.record_type == "customers" and spec.name == "excel_ledger"
    for field, names in spec.aliases.items()
    for alias in names
    if len(alias) >= 2 and not alias.isascii()
]


@st.composite
def perturbed(draw: st.DrawFn) -> tuple[str, str]:
    alias, field = draw(st.sampled_from(KNOWN))
    text = alias
    if draw(st.booleans()):
        text = text.replace("时间", "日期") if "时间" in text else text.replace("日期", "时间")
    if draw(st.booleans()):
        text = (
            draw(st.sampled_from(["（", "(", "【"]))
            + "必填"
            + draw(st.sampled_from(["）", ")", "】"]))
            + text
        )
        text = text[text.index(")") + 1 :] if ")" in text[:6] else text
        text = text + draw(st.sampled_from(["（必填）", "(选填)", "*", " (系统)"]))
    if draw(st.booleans()):
        text = " ".join(text)  # 客 户 名 称
    if draw(st.booleans()):
        text = text.translate({ord(c): ord(c) + 0xFEE0 for c in "()*"})
    return text, field


@settings(max_examples=150, deadline=None)
@given(perturbed())
def test_perturbing_a_known_alias_keeps_its_field(case: tuple[str, str]) -> None:
    header, field = case
    assert _field(header) == field, header


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KNOWN))
def test_customer_prefix_keeps_the_field(case: tuple[str, str]) -> None:
    alias, field = case
    if alias.startswith(("客户", "公司")) or field in {"customer_name", "legacy_id", "customer_type"}:
        return  # 客户 + 客户名称 / 客户编号 / 客户类型 already carry it
    assert _field("客户" + alias) in {field, None}, alias


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.builds(lambda n: f"备用{n}", st.integers(1, 99)),
        st.builds(lambda n: f"扩展字段{n}", st.integers(1, 99)),
        st.builds(lambda n: f"Column {n}", st.integers(1, 300)),
        st.builds(lambda n: f"自定义字段{n}", st.integers(1, 20)),
        st.sampled_from(
            ["序号", "No.", "#", "操作", "修改时间", "Last Modified By", "附件", "Tags", "下次联系时间"]
        ),
    )
)
def test_headers_with_no_field_map_to_none(header: str) -> None:
    assert _field(header) is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (["zhang@qq.com", "mailto:li@163.com", "Wang <wang@corp.cn>", "x@y.com"], "email"),
        (["13812345678", "139-1234-5678", "+86 186 1234 5678", "15000001111"], "mobile"),
        (["2024-01-02", "2024/3/4", "2024年5月6日", "2023-11-30 10:00:00"], "first_contact_date"),
    ],
    ids=["emails", "mobiles", "dates"],
)
def test_unknown_header_is_mapped_by_content(values: list[str], field: str) -> None:
    rows = [["客户名称", "神秘列"], *[["甲公司", v] for v in values]]
    vocab = VOCABS["customers"]
    decisions, _ = decide_columns(rows, 0, SPECS[1], vocab)
    assert decisions[1].field == field
    assert decisions[1].method == "content"


def test_phone_header_over_dates_is_refused() -> None:
    rows = [
        ["客户名称", "电话"],
        *[["甲公司", d] for d in ["2024-01-02", "2024-02-03", "2024-03-04", "2024-05-06"]],
    ]
    decisions, _ = decide_columns(rows, 0, SPECS[1], VOCABS["customers"])
    assert decisions[1].field is None
    assert decisions[1].method == "refused"
    assert "date" in (decisions[1].note or "")


def test_content_breaks_a_tie_between_phone_and_mobile() -> None:
    vocab = VOCABS["customers"]
    parsed = parse_header("电话/手机")
    landlines = profile_column(["021-62345678", "010-88887777", "0755-26543210"])
    mobiles = profile_column(["13812345678", "13912345678", "18612345678"])
    candidates = name_candidates(parsed, vocab)
    assert decide_column(0, parsed, candidates, vocab, landlines).field in {"phone", None}
    assert decide_column(0, parsed, candidates, vocab, mobiles).field in {"mobile", "phone", None}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["First Name", "Last Name", "Company", "Email"], "John Smith"),
        (["姓", "名", "公司名称", "邮箱"], "张伟"),
    ],
    ids=["english", "chinese"],
)
def test_name_parts_compose_the_contact_name(header: list[str], expected: str) -> None:
    from crm_etl.cleaners.mapping.composite import compose_field

    first = ["John", "Smith"] if header[0] == "First Name" else ["张", "伟"]
    rows = [header, [*first, "Acme Ltd", "j@acme.com"]]
    decisions, composites = decide_columns(rows, 0, SPECS[1], VOCABS["customers"])
    parts = composites["contact_name"]
    assert compose_field("contact_name", [(p, rows[1][i]) for i, p in parts]) == expected
    assert {d.field for d in decisions[:2]} == {"contact_name"}


def test_province_city_district_street_compose_city_and_address() -> None:
    from crm_etl.cleaners.mapping.composite import compose_field

    rows = [
        ["客户名称", "省", "市", "区", "详细地址"],
        ["甲公司", "广东省", "深圳市", "南山区", "科技园路1号"],
    ]
    _, composites = decide_columns(rows, 0, SPECS[1], VOCABS["customers"])
    cells = rows[1]
    assert (
        compose_field("address", [(p, cells[i]) for i, p in composites["address"]])
        == "广东省深圳市南山区科技园路1号"
    )
    assert compose_field("city", [(p, cells[i]) for i, p in composites["city"]]) == "深圳市"


def test_sheet_kind_by_evidence_under_a_title_row() -> None:
    rows = [
        ["2024年订单汇总", None, None, None],
        ["订单号", "客户名称", "下单日期", "金额(万元)"],
        ["SO-1", "甲公司", "2024-01-02", "12.5"],
    ]
    found = map_sheet(rows, SPECS, VOCABS)
    assert isinstance(found, SheetMapping)
    assert (found.row_index, found.record_type) == (1, "orders")
    assert found.hints("amount_cny")["scale"] == 10_000.0


def test_a_sheet_two_kinds_explain_equally_is_ambiguous() -> None:
    # Only the customer and the owner: a customer list or a follow-up log, nothing says which.
    rows = [["客户名称", "负责人"], ["甲公司", "张伟"]]
    found = map_sheet(rows, SPECS, VOCABS)
    assert found is None or isinstance(found, AmbiguousSheet)


def test_for_spec_prefers_the_sheets_own_aliases() -> None:
    vocab = VOCABS["customers"]
    parsed = parse_header("电话")
    assert for_spec(name_candidates(parsed, vocab), "excel_ledger")[0].field == "phone"
    assert for_spec(name_candidates(parsed, vocab), "web_form")[0].field == "mobile"


LONG_CJK = [(a, f) for a, f in KNOWN if len(a) >= 4]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(LONG_CJK), st.integers(0, 10), st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
)
def test_one_wrong_character_keeps_the_field_or_abstains(
    case: tuple[str, str], position: int, char: str
) -> None:
    alias, field = case
    index = position % len(alias)
    typo = alias[:index] + char + alias[index + 1 :]
    vocab = VOCABS["customers"]
    if typo in vocab.exact or typo[-2:] in {"级别", "等级", "评级", "星级"}:
        return  # the "typo" is another alias, or a word the rules know to hold no field
    assert _field(typo) in {field, None}, typo


@pytest.mark.parametrize(
    ("header", "field"),
    [("客护名称", "customer_name"), ("所属行页", "industry"), ("联系人职未", "contact_title")],
    ids=["substituted", "substituted-2", "substituted-3"],
)
def test_chinese_typos_map_to_the_alias_they_miss(header: str, field: str) -> None:
    assert _field(header) == field


def test_the_column_whose_values_fit_wins_a_field_two_headers_claim() -> None:
    # A WeCom customer list: 客户 is the person added on WeChat, 企业 the company they work at.
    header = ["客户", "添加人", "添加时间", "企业", "手机号"]
    row = ["张三", "李娜", "2024-03-01 10:00", "上海宏达机械有限公司", "13912345678"]
    found = map_sheet([header, row, row, row], SPECS, VOCABS)
    assert isinstance(found, SheetMapping) and found.kind in {"customers", "contacts"}
    fields = {d.header: d.field for d in found.columns}
    assert fields == {
        "客户": "contact_name",
        "添加人": "owner",
        "添加时间": "first_contact_date",
        "企业": "customer_name",
        "手机号": "mobile",
    }
