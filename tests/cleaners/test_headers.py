import pytest

from cleaners.headers import find_header, map_header_row, normalise_header


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("客户名称", "客户名称"),
        (" 客户名称* ", "客户名称"),
        ("＊手机号码：", "手机号码"),
        ("Record Id", "recordid"),
        ("E-mail", "email"),
        ("Amount (CNY)", "amountcny"),
        ("【联系人】", "联系人"),
        (None, ""),
        (123, "123"),
    ],
    ids=[
        "plain",
        "star-space",
        "fullwidth-star-colon",
        "english",
        "dash",
        "unit",
        "brackets",
        "none",
        "number",
    ],
)
def test_normalise_header(raw, expected):
    assert normalise_header(raw) == expected


LEDGER = {"客户名称": "customer_name", "手机": "mobile", "联系人": "contact_name"}
ORDERS = {"订单号": "order_id", "客户名称": "customer_name", "金额": "amount_cny"}


def test_header_below_title_rows_is_found():
    rows = [
        ["华东区客户台账（2024年）", "", ""],
        ["", "", ""],
        ["客户名称", "联系人", "手机"],
        ["甲公司", "张三", "1"],
    ]
    match = find_header(rows, [LEDGER, ORDERS], [2, 2])
    assert match is not None
    assert match.row_index == 2
    assert match.spec_index == 0
    assert match.field_by_column == {0: "customer_name", 1: "contact_name", 2: "mobile"}


def test_spec_with_more_matched_fields_wins():
    rows = [["订单号", "客户名称", "金额"]]
    match = find_header(rows, [LEDGER, ORDERS], [2, 2])
    assert match is not None and match.spec_index == 1


def test_no_header_when_too_few_fields_match():
    assert find_header([["foo", "客户名称"], ["a", "b"]], [LEDGER], [2]) is None


def test_first_column_claiming_a_field_wins():
    assert map_header_row(["手机", "手机"], LEDGER) == {0: "mobile"}
