import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_etl.cleaners.masking import (
    mask_digit_runs,
    mask_email,
    mask_email_expr,
    mask_name,
    mask_phone,
    mask_phone_expr,
    mask_text,
    mask_value,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+8613800138000", "+86138****8000"),
        ("+862162345678", "+86216***5678"),
        ("12", "**"),
    ],
    ids=["national", "e164", "landline", "short"],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


def test_mask_email():
    assert mask_email("zhangsan@qq.com") == "z***@qq.com"


def test_mask_text_hides_every_phone_and_email_but_keeps_dates():
    text = "客户 13800138000 / +86 139-1234-5678 邮箱 Li.Na@163.com 于 2024-05-01 联系，金额 1200"
    masked = mask_text(text)
    assert "13800138000" not in masked and "139-1234-5678" not in masked
    assert "Li.Na@163.com" not in masked and "L***@163.com" in masked
    assert "2024-05-01" in masked and "1200" in masked
    assert "138****8000" in masked


def test_vectorised_masks_match_scalar_ones():
    frame = pl.DataFrame({"m": ["+8613800138000", "13912345678"], "e": ["zhangsan@qq.com", "a@b.cn"]})
    out = frame.select(mask_phone_expr("m"), mask_email_expr("e"))
    assert out["m"].to_list() == [mask_phone("+8613800138000"), mask_phone("13912345678")]
    assert out["e"].to_list() == ["z***@qq.com", "a***@b.cn"]


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("座机 010-62345678 转 8001", "62345678"),
        ("call (021) 6234 5678", "6234 5678"),
        ("热线 400-820-8820", "820-8820"),
        ("0086 138 0013 8000 请回电", "0013 8000"),
        ("HK +852 9123 4567", "9123 4567"),
        ("电话13800138000请回", "13800138000"),
    ],
)
def test_mask_text_hides_phones_in_every_common_shape(text, hidden):
    assert hidden not in mask_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "run R20261123T110622-9b7a9e published",
        "order SO202405010001 amount 128000.50",
        "首次接触 20240501，金额 1,280,000",
        "row 12345678 of sheet 2",
    ],
)
def test_mask_text_leaves_ids_dates_and_amounts_alone(text):
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("column", "value", "masked"),
    [
        ("mobile", "+8613800138000", "+86138****8000"),
        ("mobile", "138001380001", "138*****0001"),
        ("mobile", "138 0013 8000", "138****8000"),
        ("mobile", "12345", "*****"),
        ("phone", "+862162345678;ext=801", "+86216***5678;ext=801"),
        ("other_phones", ["+8613800138000", "+8613900139000"], ["+86138****8000", "+86139****9000"]),
        ("email", "zhang@qq.com", "z***@qq.com"),
        ("email", "zhang.qq.com 13800138000", "zhang.qq.com 138****8000"),
        ("contact_name", "张伟", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("contact_name", "Zhang Wei", "Z********"),
        ("customer_name", "上海甲公司 13800138000", "上海甲公司 138****8000"),
        ("remark", "联系 li@163.com", "联系 l***@163.com"),
        ("customer_id", "C20240501001", "C20240501001"),
        ("source_row", 12, 12),
        ("first_contact_date", "2024-05-01", "2024-05-01"),
        ("mobile", None, None),
    ],
    ids=[
        "e164-mobile",
        "mobile-too-long",
        "grouped-mobile",
        "short",
        "landline-ext",
        "phone-list",
        "email",
        "broken-email-with-phone",
        "chinese-name",
        "four-character-name",
        "latin-name",
        "phone-in-company-text",
        "email-in-free-text",
        "customer-id-kept",
        "number-kept",
        "date-kept",
        "null",
    ],
)
def test_mask_value_hides_personal_data_by_column_and_in_text(column, value, masked):
    assert mask_value(column, value) == masked


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), st.sampled_from(["mobile", "remark", "customer_name"]))
def test_no_mainland_mobile_survives_masking(number, column):
    masked = mask_value(column, f"电话{number}。")
    assert not re.search(r"1[3-9]\d{9}", str(masked))


def test_mask_digit_runs_leaves_ids_glued_to_letters():
    assert mask_digit_runs("R20261123T110622 订单 A1380013800012") == "R20261123T110622 订单 A1380013800012"
    assert mask_digit_runs("账号 62220212345678") == "账号 622*******5678"


def test_mask_name_keeps_only_the_first_character():
    assert mask_name("李") == "李*"
    assert mask_name(None) is None
