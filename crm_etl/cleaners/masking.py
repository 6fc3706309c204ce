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


# Columns whose whole value is a phone, an email or a person's name, wherever they appear.
PHONE_COLUMNS = frozenset({"mobile", "phone", "other_phones"})
EMAIL_COLUMNS = frozenset({"email", "email_suggestion"})
NAME_COLUMNS = frozenset({"contact_name", "name", "participants"})
# Long digit runs that are not phone-shaped (a mobile with a digit too many or too few).
_DIGIT_RUN = re.compile(_EDGE_L + r"(\d{3})(\d+)(\d{4})" + _EDGE_R)


def mask_name(value: str | None) -> str | None:
    """`张伟` -> `张*`, `Zhang Wei` -> `Z*******`: the first character only."""
    if value is None:
        return None
    text = value.strip()
    return f"{text[:1]}{'*' * max(len(text) - 1, 1)}" if text else text


def mask_digit_runs(text: str) -> str:
    """Mask runs of seven or more digits not glued to letters: `138001380001` -> `138*****0001`."""
    return _DIGIT_RUN.sub(lambda m: f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)


def mask_value(column: str, value: object) -> object:
    """Mask one cell for display: by its column when that holds personal data, else inside free text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [mask_value(column, v) for v in value]
    text = str(value)
    if column in NAME_COLUMNS:
        return mask_name(text)
    if column in EMAIL_COLUMNS:
        return mask_email(text) if "@" in text else mask_digit_runs(mask_text(text))
    if column in PHONE_COLUMNS:
        masked = mask_digit_runs(mask_text(text))
        return masked if masked != text or not any(c.isdigit() for c in text) else mask_phone(text)
    return mask_digit_runs(mask_text(text))


def masked_for_display(text: object) -> str:
    """Text a user controls (a file name, a message, a traceback) as it may be shown or logged.

    Phones and e-mails masked, and bytes that were not UTF-8 (a file name read with
    surrogateescape) shown as replacement characters instead of failing the output.
    """
    return mask_text(str(text).encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
