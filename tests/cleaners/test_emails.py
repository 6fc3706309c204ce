"""Spec of cleaners/emails.py: normalised address, reasons, typo suggestions, other addresses."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.emails import EMAIL_REASONS, OUTPUT_SCHEMA, normalise_emails

FRAGMENTS = [
    "zhang", "Li.Wei", "@", "＠", "qq.com", "qq.con", "163.com", "gmial.com", "example.com", ".",
    "。", ",", ";", " ", "mailto:", "邮箱：", "<", ">", "无", "test", "张三", "-", "1",
]  # fmt: skip
EMAILS = st.one_of(
    st.text(max_size=20),
    st.emails().map(str),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=2), max_size=8).map("".join),
)
CELLS = st.lists(st.none() | EMAILS, max_size=8)


CASES = [
    ("zhang@qq.com", "zhang@qq.com", None, None, []),
    ("  Zhang.Wei@QQ.COM ", "zhang.wei@qq.com", None, None, []),
    ("张三＠１６３．ｃｏｍ", "张三@163.com", None, None, []),
    ("li@163。com", "li@163.com", None, None, []),
    ("mailto:Li@Sina.com", "li@sina.com", None, None, []),
    ("邮箱：li@sina.cn", "li@sina.cn", None, None, []),
    ("张三 <zhang@126.com>", "zhang@126.com", None, None, []),
    ("a@qq.com; b@163.com，c@126.com", "a@qq.com", "email_multiple", None, ["b@163.com", "c@126.com"]),
    ("a@qq.com / a@qq.com", "a@qq.com", None, None, []),
    ("bad@@x; b@163.com", "b@163.com", None, None, []),
    ("x@qq.con", "x@qq.con", "email_domain_typo", "x@qq.com", []),
    ("x@163.cm", "x@163.cm", "email_domain_typo", "x@163.com", []),
    ("x@gmial.com", "x@gmial.com", "email_domain_typo", "x@gmail.com", []),
    ("x@gmali.com", "x@gmali.com", "email_domain_typo", "x@gmail.com", []),
    ("x@hotmial.com", "x@hotmial.com", "email_domain_typo", "x@hotmail.com", []),
    ("x@outlook.co", "x@outlook.co", "email_domain_typo", "x@outlook.com", []),
    ("x@gmail.com", "x@gmail.com", None, None, []),
    ("x@mycompany.cn", "x@mycompany.cn", None, None, []),
    ("无", None, "email_placeholder", None, []),
    ("N/A", None, "email_placeholder", None, []),
    ("test@test.com", None, "email_placeholder", None, []),
    ("someone@example.com", None, "email_placeholder", None, []),
    ("notanemail", None, "email_invalid_syntax", None, []),
    ("zhang@qq", None, "email_invalid_syntax", None, []),
    ("a..b@qq.com", None, "email_invalid_syntax", None, []),
    ("a@b@qq.com", None, "email_invalid_syntax", None, []),
    (None, None, None, None, None),
    ("   ", None, None, None, None),
]
IDS = [
    "plain", "case-and-spaces", "full-width", "ideographic-full-stop", "mailto", "label",
    "display-name", "several", "duplicate", "first-valid-wins", "qq-con", "163-cm", "gmial",
    "gmali-swap", "hotmial", "outlook-co", "provider-itself", "company-domain", "wu", "n-a",
    "test-test", "example-domain", "no-at", "no-dot", "double-dot", "two-ats", "null", "blank",
]  # fmt: skip


@cache
def _table_results() -> dict[str | None, tuple[Any, ...]]:
    """Every cell of the table, normalised in one call."""
    cells = [case[0] for case in CASES]
    return dict(zip(cells, normalise_emails(pl.Series(cells, dtype=pl.String)).rows(), strict=True))


@pytest.mark.parametrize(("cell", "email", "reason", "suggestion", "others"), CASES, ids=IDS)
def test_normalise_emails(
    cell: str | None,
    email: str | None,
    reason: str | None,
    suggestion: str | None,
    others: list[str] | None,
) -> None:
    assert _table_results()[cell] == (email, reason, suggestion, others)


def test_output_schema_name_and_one_megabyte_cell() -> None:
    big = ("zhang@qq.com; 无, x@@y " * 50_000)[:1_000_000]
    out = normalise_emails(pl.Series("email", [big, None, "li@163.com"]))
    assert out.schema == OUTPUT_SCHEMA
    assert out["email"].to_list() == ["zhang@qq.com", None, "li@163.com"]


@settings(max_examples=100, deadline=None)
@given(CELLS)
def test_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    # One call over the values and their reverse: same length, and order is kept row by row.
    both = normalise_emails(pl.concat([s, s.reverse()]))
    assert both.height == 2 * s.len() and both.schema == OUTPUT_SCHEMA
    out = both.head(s.len())
    assert both.tail(s.len()).rows() == out.reverse().rows()
    assert normalise_emails(out["email"])["email"].to_list() == out["email"].to_list()
    assert set(out["email_reason"].drop_nulls()) <= EMAIL_REASONS
    for email in out["email"].drop_nulls():
        assert email == email.lower() and email.count("@") == 1
