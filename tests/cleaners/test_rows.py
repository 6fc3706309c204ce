"""Spec of cleaners/rows.py: rows that are no record, and the vocabulary in schemas/garbage_rows.yaml."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from typing import Any

import openpyxl
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.garbage_vocabulary import GarbageVocabulary
from crm_etl.cleaners.mapping.headers import normalise_header
from crm_etl.cleaners.records import clean_customers
from crm_etl.cleaners.rows import garbage_reason, placeholder_phone_issues, repeated_header
from crm_etl.flows.extract import extract_file
from crm_etl.flows.tasks import cleaning_tables
from crm_etl.schemas import SCHEMAS_DIR, load_config
from crm_etl.schemas.config import load_garbage_rows

COLUMNS = ["customer_name", "contact_name", "mobile", "email", "remark"]
VOCABULARY = load_garbage_rows()


def _frame(rows: list[tuple[str | None, ...]], extra: list[str | None] | None = None) -> pl.DataFrame:
    padded = [tuple(row) + (None,) * (len(COLUMNS) - len(row)) for row in rows]
    frame = pl.DataFrame(padded, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")
    return frame.with_columns(pl.Series("extra", extra or [None] * len(rows), dtype=pl.String))


def _reason(*row: str | None) -> str | None:
    reason: str | None = garbage_reason(_frame([row]), COLUMNS, VOCABULARY).item()
    return reason


def _vocabulary_strings() -> set[str]:
    """Every string in schemas/garbage_rows.yaml, as cells are compared (NFKC, lower case)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.add(unicodedata.normalize("NFKC", node).strip().lower())

    walk(yaml.safe_load((SCHEMAS_DIR / "garbage_rows.yaml").read_text(encoding="utf-8")))
    return found


def _assert_held_out(spellings: list[Any]) -> None:
    listed = _vocabulary_strings()
    for param in spellings:
        cell = param.values[0] if hasattr(param, "values") else param
        assert unicodedata.normalize("NFKC", cell).strip().lower() not in listed, cell


# --- the reasons that were there before -------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((None, None, None), "blank_row"),
        (("合计", "共22家", None), "totals_row"),
        (("总计：", None, "35"), "totals_row"),
        (("Total", None, None), "totals_row"),
        (("备注：以上客户信息由张伟整理", None, None), "note_row"),
        (("以上数据截至六月底，如有变动请及时更新。", None, None), "note_row"),
        (("上海宏达机械制造有限公司", None, None), None),
        (("上海宏达机械制造有限公司", "张伟", "13957160423"), None),
        (("合计科技有限公司", "李四", None), None),
        ((None, None, "13957160423"), None),
    ],
    ids=[
        "blank",
        "totals",
        "totals-colon",
        "total-en",
        "note-prefix",
        "note-sentence",
        "name-only",
        "full-record",
        "company-containing-heji",
        "mobile-only",
    ],
)
def test_garbage_reason(row, reason):
    assert garbage_reason(_frame([row]), COLUMNS, VOCABULARY).to_list() == [reason]


def test_unmapped_cells_make_a_row_non_blank():
    frame = _frame([(None, None, None)], extra=['{"备用": "x"}'])
    assert garbage_reason(frame, COLUMNS, VOCABULARY).to_list() == [None]


# --- totals and subtotals ---------------------------------------------------------------------

# Spellings the YAML does not list: they must follow from labels, qualifiers, brackets, figures.
TOTALS_HELD_OUT = [
    pytest.param("本季度合计", id="quarter-qualifier"),
    pytest.param("全年累计", id="year-cumulative"),
    pytest.param("当月小计：", id="month-subtotal-colon"),
    pytest.param("合 计：1,234.50元", id="spaced-label-figures-unit"),
    pytest.param("合计（万元）", id="bracketed-unit"),
    pytest.param("小计 共22家", id="subtotal-count"),
    pytest.param("GRAND TOTALS:", id="grand-totals-upper"),
    pytest.param("Sub Total (USD)", id="sub-total-usd"),
    pytest.param("Subtotals: 1,234.50", id="subtotals-figures"),
    pytest.param("Page Total = 35", id="page-total-equals"),
    pytest.param("Ｔｏｔａｌ：￥12,000", id="fullwidth"),
    pytest.param("Total: RMB 1,234", id="currency-before-figure"),
    pytest.param("总计 35 家 / 1,200,000 元", id="two-figures"),
]
TOTALS_LISTED = [
    pytest.param("合计", id="heji"),
    pytest.param("总计", id="zongji"),
    pytest.param("小计", id="xiaoji"),
    pytest.param("共计", id="gongji"),
    pytest.param("累计", id="leiji"),
    pytest.param("总合计", id="zong-heji"),
    pytest.param("本页小计", id="page-subtotal"),
    pytest.param("本月合计", id="month-total"),
    pytest.param("Total", id="total"),
    pytest.param("Totals", id="totals"),
    pytest.param("Grand Total", id="grand-total"),
    pytest.param("Grand Totals", id="grand-totals"),
    pytest.param("Sub-total", id="sub-total"),
    pytest.param("Subtotal", id="subtotal"),
    pytest.param("SUM", id="sum"),
    pytest.param("Total: 1,234", id="total-colon-number"),
    pytest.param("合计：12,345.00", id="heji-figures"),
    pytest.param("Total (CNY)", id="total-cny"),
]


@pytest.mark.parametrize("cell", TOTALS_LISTED + TOTALS_HELD_OUT)
def test_totals_labels_in_any_spelling(cell):
    assert _reason(cell) == "totals_row"


def test_totals_held_out_spellings_are_not_listed_in_the_yaml():
    _assert_held_out(TOTALS_HELD_OUT)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(("总计划科技有限公司",), id="zongji-in-company"),
        pytest.param(("合计科技有限公司", "李四"), id="heji-in-company"),
        pytest.param(("上海总计量检测有限公司",), id="zongji-inside-name"),
        pytest.param(("小计算器贸易商行",), id="xiaoji-prefix"),
        pytest.param(("Total Energies",), id="total-energies"),
        pytest.param(("Totalsoft Ltd",), id="totalsoft"),
        pytest.param(("Summit Corp",), id="sum-prefix"),
        pytest.param(("Total", "王芳", "13957160423"), id="company-named-total-with-mobile"),
        pytest.param(
            ("上海宏达机械制造有限公司", "张伟", None, "zw@hongda.com", "合计"), id="label-in-remark"
        ),
        pytest.param(("合计：以上为华东区客户，请核对",), id="label-then-sentence-is-a-note-not-totals"),
    ],
)
def test_names_containing_a_totals_word_are_no_totals_row(row):
    assert _reason(*row) != "totals_row"


def test_a_totals_label_in_an_unmapped_column_is_seen():
    frame = _frame([(None, "共3家", None)], extra=['{"序号": "合计", "金额": 125000}'])
    assert garbage_reason(frame, COLUMNS, VOCABULARY).to_list() == ["totals_row"]


# --- report footers ---------------------------------------------------------------------------

FOOTERS_HELD_OUT = [
    pytest.param("STRICTLY CONFIDENTIAL – internal use only", id="confidential-dash-text"),
    pytest.param("机密★请勿外传", id="jimi-star"),
    pytest.param("内部资料，请勿外传", id="internal-comma"),
    pytest.param("© 2024 上海宏达机械制造有限公司", id="copyright-sign"),
    pytest.param("(c) 2023 Acme Corp. All rights reserved.", id="c-in-brackets"),
    pytest.param("上海宏达机械制造有限公司 版权所有", id="banquan-after-name"),
    pytest.param("Generated by Salesforce on 2024-06-30", id="generated-by"),
    pytest.param("Exported on 2024-06-30 10:00 by admin", id="exported-on"),
    pytest.param("Report generated at 10:00", id="report-generated-at"),
    pytest.param("导出时间：2024/06/30 10:15", id="daochu-shijian-value"),
    pytest.param("制表人: 张伟", id="zhibiaoren-value"),
    pytest.param("打印时间 2024-06-30", id="dayin-space"),
    pytest.param("Page 2 of 15", id="page-of"),
    pytest.param("page 2/5", id="page-slash"),
    pytest.param("第 2 页，共 5 页", id="di-ye-gong-ye"),
    pytest.param("共5页 第2页", id="gong-ye-di-ye"),
]
FOOTERS_LISTED = [
    pytest.param("Confidential", id="confidential"),
    pytest.param("Strictly Confidential", id="strictly-confidential"),
    pytest.param("机密", id="jimi"),
    pytest.param("内部资料", id="neibu-ziliao"),
    pytest.param("Copyright 2024 Acme Ltd", id="copyright"),
    pytest.param("版权所有", id="banquan-suoyou"),
    pytest.param("导出人：王芳", id="daochu-ren"),
    pytest.param("Page 1 of 3", id="page-1-of-3"),
    pytest.param("第1页 共3页", id="di-1-ye"),
]


@pytest.mark.parametrize("cell", FOOTERS_LISTED + FOOTERS_HELD_OUT)
def test_report_footers(cell):
    assert _reason(cell) == "footer_row"


def test_footer_held_out_spellings_are_not_listed_in_the_yaml():
    _assert_held_out(FOOTERS_HELD_OUT)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(("制表人：", "张伟"), id="label-and-value-in-two-cells"),
        pytest.param(("制表人：张伟", None, None, None, "打印时间：2024-06-30"), id="two-footer-cells"),
    ],
)
def test_footers_across_cells(row):
    assert _reason(*row) == "footer_row"


def test_a_footer_in_an_unmapped_column_is_seen():
    frame = _frame([(None,)], extra=['{"序号": "Generated by CRM at 2024-06-30"}'])
    assert garbage_reason(frame, COLUMNS, VOCABULARY).to_list() == ["footer_row"]


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(("机密科技有限公司",), id="jimi-company"),
        pytest.param(("秘密花园文化传媒有限公司",), id="mimi-company"),
        pytest.param(("Confidentiality Solutions Ltd",), id="confidentiality-company"),
        pytest.param(("Confidential Advisors LLC",), id="confidential-then-word"),
        pytest.param(("Copyright Clearance Center",), id="copyright-company"),
        pytest.param(("Page Industries Ltd",), id="page-company"),
        pytest.param(("Generated Power Co",), id="generated-company"),
        pytest.param(
            ("上海宏达机械制造有限公司", None, None, None, "机密客户，勿外传"), id="footer-word-in-remark"
        ),
        pytest.param(("制表人：张伟", None, "13957160423"), id="footer-with-a-mobile"),
    ],
)
def test_names_that_start_like_a_footer_are_records(row):
    assert _reason(*row) != "footer_row"


# --- test and sample records ------------------------------------------------------------------

MARKERS_HELD_OUT = [
    pytest.param("测试用户", id="ceshi-yonghu"),
    pytest.param("TEST_user_01", id="test-user-index"),
    pytest.param("（示例）", id="shili-brackets"),
    pytest.param("Sample Customer 2", id="sample-customer-index"),
    pytest.param("Dummy Ltd.", id="dummy-ltd"),
    pytest.param("演示公司", id="yanshi-gongsi"),
    pytest.param("测试客户甲", id="ceshi-kehu-jia"),
    pytest.param("“测试测试”", id="repeated-marker-quoted"),
    pytest.param("【测试】上海宏达机械有限公司", id="bracket-tag-before-name"),
    pytest.param("上海宏达机械有限公司(测试)", id="bracket-tag-after-name"),
    pytest.param("某某科技有限公司", id="mou-mou-keji"),
    pytest.param("XXXX贸易公司", id="xxxx-trade"),
]
MARKERS_LISTED = [
    pytest.param("测试", id="ceshi"),
    pytest.param("测试客户", id="ceshi-kehu"),
    pytest.param("测试公司", id="ceshi-gongsi"),
    pytest.param("测试数据", id="ceshi-shuju"),
    pytest.param("测试1", id="ceshi-1"),
    pytest.param("【测试】", id="ceshi-brackets"),
    pytest.param("test", id="test"),
    pytest.param("Test Company", id="test-company"),
    pytest.param("test123", id="test123"),
    pytest.param("TEST-客户", id="test-kehu"),
    pytest.param("样例", id="yangli"),
    pytest.param("示例", id="shili"),
    pytest.param("示例客户", id="shili-kehu"),
    pytest.param("demo", id="demo"),
    pytest.param("Demo Corp", id="demo-corp"),
    pytest.param("sample", id="sample"),
    pytest.param("dummy", id="dummy"),
    pytest.param("placeholder", id="placeholder"),
    pytest.param("xxx公司", id="xxx-gongsi"),
    pytest.param("某某公司", id="moumou-gongsi"),
]


@pytest.mark.parametrize("cell", MARKERS_LISTED + MARKERS_HELD_OUT)
def test_marker_company_names_are_test_records(cell):
    assert _reason(cell, "王芳", "13957160423") == "test_record"


def test_marker_held_out_spellings_are_not_listed_in_the_yaml():
    _assert_held_out(MARKERS_HELD_OUT)


PHONES_HELD_OUT = [
    pytest.param("13999999999", id="same-tail"),
    pytest.param("15000000000", id="zero-tail"),
    pytest.param("021-12345678", id="sequence-landline"),
    pytest.param("0755-87654321", id="descending-landline"),
    pytest.param("22222222222", id="all-same"),
]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param(
            ("上海宏达机械制造有限公司", "测试"), "test_record", id="marker-contact-at-real-company"
        ),
        pytest.param((None, "test"), "test_record", id="marker-contact-alone"),
        pytest.param((None, None, "13800138000"), "test_record", id="placeholder-mobile-alone"),
        pytest.param((None, None, "+86 138-0013-8000"), "test_record", id="placeholder-mobile-formatted"),
        pytest.param((None, None, "12345678901"), "test_record", id="placeholder-sequence"),
        pytest.param((None, "王芳", "13800138000"), "test_record", id="placeholder-mobile-real-name"),
        pytest.param((None, "王芳", None, "test@qq.com"), "test_record", id="marker-email-local-part"),
        pytest.param((None, "王芳", None, "wang@example.com"), "test_record", id="example-domain"),
        pytest.param((None, None, None, "demo.user@corp.test"), "test_record", id="reserved-tld"),
        pytest.param((None, "张三", "13800138000", "test@test.com"), "test_record", id="all-placeholders"),
        *(pytest.param((None, None, p.values[0]), "test_record", id=p.id) for p in PHONES_HELD_OUT),
        pytest.param(
            ("上海宏达机械制造有限公司", "张三", "13800138000"), None, id="placeholder-at-real-company"
        ),
        pytest.param(
            ("上海宏达机械制造有限公司", None, None, "test@example.com"), None, id="example-email-at-company"
        ),
        pytest.param(
            (None, "王芳", "13800138000", "wangfang@hongda.com"), None, id="placeholder-and-real-email"
        ),
        pytest.param((None, "王芳", "13800138000 / 13957160423"), None, id="placeholder-and-real-mobile"),
        pytest.param((None, None, "13912345678"), None, id="sequence-inside-real-mobile"),
        pytest.param((None, None, None, "testing@hongda.com"), None, id="testing-local-part"),
    ],
)
def test_test_records(row, reason):
    assert _reason(*row) == reason


def test_placeholder_phone_held_out_numbers_are_not_listed_in_the_yaml():
    _assert_held_out(PHONES_HELD_OUT)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(("深圳市测试技术有限公司",), id="ceshi-jishu"),
        pytest.param(("华测检测认证集团",), id="huace"),
        pytest.param(("中国测试技术研究院",), id="ceshi-yanjiuyuan"),
        pytest.param(("测试技术有限公司",), id="ceshi-without-place"),
        pytest.param(("上海示例软件有限公司",), id="shili-inside-name"),
        pytest.param(("中国计量测试（集团）有限公司",), id="bracket-not-a-marker"),
        pytest.param(("苏州样例模具厂", "陈明"), id="yangli-inside-name"),
        pytest.param(("上海宏达机械制造有限公司", "张三"), id="zhangsan-at-real-company"),
        pytest.param(("上海宏达机械制造有限公司", "李四", "13957160423"), id="lisi-with-mobile"),
        pytest.param(("Testing Solutions Ltd",), id="testing"),
        pytest.param(("Demo Day Events Co",), id="demo-day"),
        pytest.param(("Sampler Audio GmbH",), id="sampler"),
        pytest.param(("甲公司", "张三", "13957160423"), id="jia-gongsi"),
    ],
)
def test_real_names_containing_a_marker_are_records(row):
    assert _reason(*row) is None


def test_placeholder_contacts_at_a_real_company_are_doubts_not_rejections():
    frame = _frame(
        [
            ("上海宏达机械制造有限公司", "张三", "13800138000", "test@example.com"),
            ("上海宏达机械制造有限公司", "张伟", "13957160423", "zw@hongda.com"),
        ]
    ).with_columns(phone=pl.Series(["0755-87654321", None]))
    columns = [*COLUMNS, "phone"]
    assert garbage_reason(frame, columns, VOCABULARY).to_list() == [None, None]
    assert placeholder_phone_issues(frame, columns, VOCABULARY).to_list() == [
        ["mobile:phone_placeholder_number", "phone:phone_placeholder_number"],
        [],
    ]


def test_the_vocabulary_is_a_parameter():
    data = VOCABULARY.model_dump()
    data["test_records"]["markers"] = ["试单"]
    custom = GarbageVocabulary.model_validate(data)
    frame = _frame([("试单",), ("测试",)])
    assert garbage_reason(frame, COLUMNS, custom).to_list() == ["test_record", None]
    assert garbage_reason(frame, COLUMNS, VOCABULARY).to_list() == [None, "test_record"]


def test_cleaning_uses_the_garbage_vocabulary_of_the_configuration_folder(tmp_path):
    # `--schemas DIR` must reach cleaning: the vocabulary is loaded with the configuration, not by cleaners/.
    import shutil

    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    data = yaml.safe_load((folder / "garbage_rows.yaml").read_text(encoding="utf-8"))
    data["test_records"]["markers"] = ["试单"]
    (folder / "garbage_rows.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = load_config(folder)
    assert config.garbage_rows.test_records.markers == ("试单",)
    tables = cleaning_tables(config, dt.date(2024, 6, 30))
    raw = _frame([("试单",), ("测试",)])
    assert garbage_reason(raw, COLUMNS, tables.garbage_rows).to_list() == ["test_record", None]


def test_frames_without_contact_or_name_columns():
    orders = pl.DataFrame({"order_id": ["A1", "合计", None], "amount_cny": ["100", "300", None]})
    assert garbage_reason(orders, ["order_id", "amount_cny"], VOCABULARY).to_list() == [
        None,
        "totals_row",
        "blank_row",
    ]


# --- properties -------------------------------------------------------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
PLACES = ["上海", "北京市", "深圳市", "杭州", "苏州工业园区", "广东省东莞市", "成都", "武汉市"]
SURNAMES = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"]


@settings(max_examples=150, deadline=None)
@given(
    place=st.sampled_from(PLACES),
    trade_name=st.text(CJK, min_size=2, max_size=4),
    trade=st.sampled_from(["", "科技", "机械制造", "贸易", "测试技术", "电子"]),
    contact=st.none()
    | st.tuples(st.sampled_from(SURNAMES), st.text(CJK, min_size=1, max_size=2)).map("".join),
    mobile=st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
)
def test_a_real_looking_company_is_never_garbage(place, trade_name, trade, contact, mobile):
    name = f"{place}{trade_name}{trade}有限公司"
    assert _reason(name, contact, mobile) is None


def _number_text(number: int | float, style: str) -> str:
    if style == "thousands":
        return f"{number:,}"
    if style == "yuan":
        return f"¥{number}"
    if style == "unit":
        return f"{number}元"
    return str(number)


@settings(max_examples=200, deadline=None)
@given(
    label=st.sampled_from(VOCABULARY.totals.labels),
    qualifier=st.sampled_from(["", "本页", "本月", "grand ", "总"]),
    separator=st.sampled_from(["", " ", ":", "：", ": ", " = "]),
    number=st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False),
    style=st.sampled_from(["plain", "thousands", "yuan", "unit"]),
    upper=st.booleans(),
)
def test_a_totals_label_with_any_number_after_it_is_a_totals_row(
    label, qualifier, separator, number, style, upper
):
    cell = f"{qualifier}{label}{separator}{_number_text(number, style)}"
    assert _reason(cell.upper() if upper else cell) == "totals_row"


# --- repeated header rows ---------------------------------------------------------------------

HEADER = ["客户名称", "联系人", "手机", "邮箱", None]


@pytest.mark.parametrize(
    ("row", "repeated"),
    [
        pytest.param(["客户名称", "联系人", "手机", "邮箱", None], True, id="exact"),
        pytest.param(["客户名称*", "联系人：", " 手机 ", "邮箱", None], True, id="decorated"),
        pytest.param(["客户名称", "联系人", None, None], True, id="two-of-two"),
        pytest.param(["客户名称", "联系人", "13800138000"], True, id="two-of-three"),
        pytest.param(["客户名称", "联系人", "张三", "zs@x.com"], False, id="two-of-four"),
        pytest.param(["客户名称", None, None, None], False, id="one-cell"),
        pytest.param(["联系人", "客户名称", "手机"], False, id="swapped-columns"),
        pytest.param([None, "客户名称", "联系人", "手机"], False, id="shifted"),
        pytest.param(["上海宏达机械制造有限公司", "张伟", "13957160423"], False, id="data-row"),
        pytest.param([], False, id="empty"),
        pytest.param(["客户名称", "联系人", "手机", "邮箱", None, "备注"], True, id="longer-than-header"),
    ],
)
def test_repeated_header(row, repeated):
    assert _repeated([row]) == [repeated]


def test_repeated_header_keeps_row_order():
    rows = [["甲公司", "张三"], ["客户名称", "联系人"], ["乙公司", "李四"]]
    assert _repeated(rows) == [False, True, False]


def _repeated(rows: list[list[Any]], header: list[Any] = HEADER) -> list[bool]:
    """repeated_header of rows given as lists (cells as str(), short rows padded)."""
    width = max([len(header), *(len(r) for r in rows)])
    cells = pl.DataFrame(
        {
            str(i): pl.Series(
                [str(r[i]) if i < len(r) and r[i] is not None else None for r in rows], dtype=pl.String
            )
            for i in range(width)
        }
    )
    return repeated_header(cells, header).to_list()


def _repeated_by_row(rows: list[list[Any]], header: list[Any]) -> list[bool]:
    """The rule cell by cell: at least 2, and 60%, of a row's filled cells are its header cell."""
    keys = [normalise_header("" if c is None else str(c)) for c in header]
    flags = []
    for row in rows:
        cells = [normalise_header("" if c is None else str(c)) for c in row]
        filled = sum(1 for c in cells if c)
        same = sum(1 for i, c in enumerate(cells) if c and i < len(keys) and c == keys[i])
        flags.append(same >= 2 and same >= 0.6 * filled)
    return flags


_HEADER_CELLS = [
    "客户名称",
    "联系人",
    "手机",
    "Mobile",
    "E-mail",
    "ACCOUNT_NAME",
    "１２３",
    "ｶﾞ",
    "İd",
    "备注",
]
_CELL_TEXT = st.one_of(
    st.sampled_from(
        [*_HEADER_CELLS, "客户名称*", " mobile ", "e mail", "account name", "ガ", "i\u0307d", "😀", ""]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_HEADER_CELLS), min_size=2, max_size=5),
    st.lists(st.lists(st.one_of(st.none(), _CELL_TEXT), max_size=6), min_size=1, max_size=8),
)
def test_repeated_header_follows_the_rule_cell_by_cell(header, rows):
    assert _repeated(rows, header) == _repeated_by_row(rows, header)


# --- a real workbook through extraction and cleaning ------------------------------------------


def test_garbage_rows_of_a_real_workbook_are_quarantined_with_their_reason(tmp_path):
    header = ["序号", "客户名称", "联系人", "手机", "邮箱", "首次接触时间", "负责人"]
    rows: list[list[Any]] = [
        [1, "上海宏达机械制造有限公司", "张伟", "13957160423", "zw@hongda.com", dt.date(2024, 5, 1), "王芳"],
        [2, "【测试】客户", "张三", "13800138000", None, dt.date(2024, 5, 2), "王芳"],
        [3, "深圳市测试技术有限公司", "李娜", "13812345670", None, dt.date(2024, 5, 3), "王芳"],
        [4, None, None, "13800138000", None, None, None],
        ["合计", "共4家", None, None, None, None, None],
        ["制表人：王芳", None, None, None, None, None, None],
        ["第1页 共1页", None, None, None, None, None, None],
    ]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "客户台账"
    sheet.append(["华东区客户台账（2024年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path = tmp_path / "x.xlsx"
    workbook.save(path)

    config = load_config()
    raw = extract_file(path, "x.xlsx", config).records["customers"]
    cleaned = clean_customers(raw, cleaning_tables(config, dt.date(2024, 6, 30)))

    reasons = dict(zip(cleaned["source_row"], cleaned["reject_reason"], strict=True))
    assert reasons == {
        3: None,
        4: "test_record",
        5: None,
        6: "test_record",
        7: "totals_row",
        8: "footer_row",
        9: "footer_row",
    }
    assert json.loads(cleaned.filter(pl.col("source_row") == 7)["raw"].item())["序号"] == "合计"
