"""Mask personal data (phones, emails) for logs, reports and error messages."""

from __future__ import annotations

import re

import polars as pl

# Phone-shaped digit runs only: mainland mobiles, landlines with an area code, 400/800 numbers and
# international numbers written with `+`. Identifiers such as run ids (`R20261123T110622`) or order
# numbers glued to letters are left alone: a phone never touches an ASCII letter or another digit.
_EDGE_L = r"(?<![0-9A-Za-z])"
_EDGE_R = r"(?![0-9A-Za-z])"
_CC = r"(?:(?:\+|00)?86[\s\-]?|\(\+?86\)\s?)?"
_PHONE_RUN = re.compile(
    _EDGE_L
    + "(?:"
    + _CC
    + r"1[3-9]\d(?:[\s\-.]?\d){8}"  # mobile, optionally grouped 3-4-4
    + "|"
    + _CC
    + r"\(?0\d{2,3}\)?[\s\-.]?\d{3,4}[\s\-]?\d{4}"  # landline with area code
    + r"|[48]00[\s\-]?\d{3}[\s\-]?\d{4}"  # service numbers
    + r"|\+\d{1,3}[\s\-]?\d(?:[\s\-]?\d){6,13}"  # any international number
    + ")"
    + _EDGE_R
)
_EMAIL = re.compile(r"([\w.+\-]+)@([\w\-]+(?:\.[\w\-]+)+)", re.UNICODE)


def mask_phone(value: str | None) -> str | None:
    """`+8613800138000` -> `+86138****8000`: keep the first three and last four digits of the number."""
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return "*" * len(value)
    prefix = "+86" if value.startswith("+86") else ("+" if value.startswith("+") else "")
    national = digits[2:] if prefix == "+86" else digits
    if len(national) < 7:
        national = digits
    return f"{prefix}{national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"


def mask_email(value: str | None) -> str | None:
    """`zhangsan@qq.com` -> `z***@qq.com`."""
    if value is None:
        return None
    local, at, domain = value.partition("@")
    if not at:
        return f"{value[:1]}***"
    return f"{local[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Mask every phone number and email address inside free text; dates, amounts and ids stay readable."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)) or "", text)

    def _phone(match: re.Match[str]) -> str:
        return mask_phone(match.group(0)) or match.group(0)

    return _PHONE_RUN.sub(_phone, text)


def mask_phone_expr(column: str) -> pl.Expr:
    """Vectorised mask for an E.164 or national phone column: keep 3 leading and 4 trailing digits."""
    col = pl.col(column)
    national = col.str.replace(r"^\+86", "")
    masked = (
        national.str.slice(0, 3)
        + pl.lit("*").repeat_by(national.str.len_chars() - 7).list.join("")
        + national.str.slice(-4)
    )
    prefix = pl.when(col.str.starts_with("+86")).then(pl.lit("+86")).otherwise(pl.lit(""))
    return (
        pl.when(national.str.len_chars() >= 7).then(prefix + masked).otherwise(pl.lit("****")).alias(column)
    )


def mask_email_expr(column: str) -> pl.Expr:
    """Vectorised `z***@qq.com` mask for an email column."""
    col = pl.col(column)
    return (col.str.slice(0, 1) + pl.lit("***@") + col.str.split("@").list.last()).alias(column)
