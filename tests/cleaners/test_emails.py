"""Spec of cleaners/emails.py: normalised address, reasons, typo suggestions, other addresses."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.emails import (
    EMAIL_REASONS,
    OUTPUT_SCHEMA,
    PLACEHOLDER_DOMAINS,
    PLACEHOLDER_LOCALS,
    SIMPLE_ADDRESS,
    normalise_emails,
)

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
    ("MAILTO:Li@Sina.com", "li@sina.com", None, None, []),
    ("Mailto：li@sina.cn", "li@sina.cn", None, None, []),
    ("mailto:li@sina.cn?subject=报价&cc=x@qq.com", "li@sina.cn", None, None, []),
    ("<li@163.com>", "li@163.com", None, None, []),
    ("<mailto:li@163.com>", "li@163.com", None, None, []),
    ("Li Na <li@163.com>", "li@163.com", None, None, []),
    ('"Li, Na" <li@163.com>', "li@163.com", None, None, []),
    ("“李娜”<li@163.com>", "li@163.com", None, None, []),
    ("李娜＜li@163.com＞", "li@163.com", None, None, []),
    ("li@163.com (Li Na)", "li@163.com", None, None, []),
    ("li@163.com（李娜）", "li@163.com", None, None, []),
    ("【li@163.com】", "li@163.com", None, None, []),
    ("ｌｉ＠１６３．ｃｏｍ", "li@163.com", None, None, []),
    ("li@163.com;", "li@163.com", None, None, []),
    ("li@163.com，", "li@163.com", None, None, []),
    ("li@163.com。", "li@163.com", None, None, []),
    ("li@163.com！", "li@163.com", None, None, []),
    ("邮箱地址：li@163.com", "li@163.com", None, None, []),
    ('"Li" <li@163.com>, "Wang" <wang@qq.com>', "li@163.com", "email_multiple", None, ["wang@qq.com"]),
    ("Li <li@qq.con>", "li@qq.con", "email_domain_typo", "li@qq.com", []),
    ("test <li@163.com>", "li@163.com", None, None, []),
    ("zhangsan#163.com", None, "email_invalid_syntax", None, []),
    ("zhangsan[at]163.com", None, "email_invalid_syntax", None, []),
    ("zhangsan at 163 dot com", None, "email_invalid_syntax", None, []),
    ("[email\xa0protected]", None, "email_invalid_syntax", None, []),
    ("a#b@163.com", "a#b@163.com", None, None, []),
]
IDS = [
    "plain", "case-and-spaces", "full-width", "ideographic-full-stop", "mailto", "label",
    "display-name", "several", "duplicate", "first-valid-wins", "qq-con", "163-cm", "gmial",
    "gmali-swap", "hotmial", "outlook-co", "provider-itself", "company-domain", "wu", "n-a",
    "test-test", "example-domain", "no-at", "no-dot", "double-dot", "two-ats", "null", "blank",
    "mailto-upper", "mailto-full-width-colon", "mailto-query", "angle-brackets", "angle-mailto",
    "name-angle", "quoted-name-angle", "curly-quoted-name", "full-width-angle", "name-in-parentheses",
    "full-width-parentheses", "lenticular-brackets", "full-width-letters", "trailing-semicolon",
    "trailing-full-width-comma", "trailing-ideographic-full-stop", "trailing-exclamation",
    "label-address", "two-named", "named-typo", "placeholder-like-name", "hash-for-at-not-guessed",
    "at-in-brackets-not-guessed", "at-dot-words-not-guessed", "cloudflare-protected", "hash-in-local-part",
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


# Addresses the wrappers are tested with: plain ASCII, valid for email-validator, no placeholder.
LOCAL = st.from_regex(r"[a-z0-9](?:[a-z0-9_+-]|\.(?=[a-z0-9])){0,15}", fullmatch=True)
DOMAIN = st.tuples(
    st.lists(st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3),
    st.sampled_from(["com", "cn", "net", "com.cn", "org", "io"]),
).map(lambda parts: ".".join([*parts[0], parts[1]]))
ADDRESSES = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN).filter(
    lambda a: a.split("@")[0] not in PLACEHOLDER_LOCALS and a.split("@")[1] not in PLACEHOLDER_DOMAINS
)
NAMES = st.sampled_from(["Zhang Wei", "张伟", "Li, Na", "王经理 (销售)", "test", "N/A", "x"])
WRAPPERS = [
    "{a}", " {a} ", "mailto:{a}", "MAILTO:{a}", "Mailto：{a}", "mailto:{a}?subject=hi", "<{a}>",
    "<mailto:{a}>", "{n} <{a}>", "{n}<{a}>", '"{n}" <{a}>', "“{n}”<{a}>", "{a} ({n})", "{a}（{n}）",
    "{a};", "{a},", "{a}，", "{a}。", "{a}.", "邮箱：{a}", "E-mail: {a}", "【{a}】", "{n}：{a}；",
]  # fmt: skip


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=200, deadline=None)
@given(ADDRESSES, st.sampled_from(WRAPPERS), NAMES, st.booleans(), st.booleans())
def test_any_wrapped_address_unwraps_to_itself(
    address: str, wrapper: str, name: str, upper: bool, full_width: bool
) -> None:
    written = address.upper() if upper else address
    written = _full_width(written) if full_width else written
    cell = wrapper.format(a=written, n=name)
    out = normalise_emails(pl.Series([cell], dtype=pl.String))
    assert out["email"].to_list() == [address], cell
    assert out["email_reason"][0] in {None, "email_domain_typo"}, cell


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_NEAR_ADDRESSES = st.one_of(
    # Built to pass the fast path (kept only when it does) ...
    st.builds(
        lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
        st.from_regex(r"[a-z0-9_+-]{1,8}(?:\.[a-z0-9_+-]{1,8}){0,3}", fullmatch=True),
        st.lists(_LABEL, min_size=1, max_size=3),
        st.from_regex(r"[a-z]{2,6}", fullmatch=True),
    ),
    # ... and near misses: dots, hyphens and digits wherever they may break an address.
    st.from_regex(r"[a-z0-9_+.-]{1,70}@[a-z0-9.-]{1,70}\.[a-z0-9-]{1,8}", fullmatch=True),
)


@settings(max_examples=3000, deadline=None)
@given(_NEAR_ADDRESSES)
def test_the_fast_path_accepts_only_what_email_validator_accepts(address: str):
    from email_validator import validate_email

    if SIMPLE_ADDRESS.fullmatch(address):
        validate_email(address, check_deliverability=False)  # raises if the regex let a bad one through


@pytest.mark.parametrize(
    "address",
    [
        "a@b.local",
        "a@b.test",
        "a@xn--fsq.com",
        "a@ab--cd.com",
        "a..b@c.com",
        ".a@c.com",
        "a@-b.com",
        "a@b.c0m",
    ],
)
def test_what_the_fast_path_leaves_to_email_validator(address: str):
    assert SIMPLE_ADDRESS.fullmatch(address) is None
