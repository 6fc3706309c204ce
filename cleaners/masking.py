"""Mask personal data (phones, emails) for logs, reports and error messages."""

from __future__ import annotations

import re

import polars as pl

# Runs of 7+ digits, allowing the separators people type inside phone numbers.
_PHONE_RUN = re.compile(r"(?<!\d)(?:\+?\d[\d\s\-().]{5,}\d)(?!\d)")
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
    """Mask every phone-like digit run and every email address inside free text."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)) or "", text)

    def _phone(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        # Dates and amounts are shorter or carry separators in date shape; keep them readable.
        if len(digits) < 7 or re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}", raw.strip()):
            return raw
        return mask_phone(raw) or raw

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
