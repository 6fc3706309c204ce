import polars as pl
import pytest

from cleaners.masking import mask_email, mask_email_expr, mask_phone, mask_phone_expr, mask_text


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
