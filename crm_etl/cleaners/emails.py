"""E-mail cells: one normalised address, the others kept, typos of big providers flagged."""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl
from email_validator import EmailNotValidError, validate_email
from rapidfuzz import process
from rapidfuzz.distance import OSA

from crm_etl.cleaners.text import normalise_text

EMAIL_REASONS: frozenset[str] = frozenset(
    {"email_invalid_syntax", "email_placeholder", "email_domain_typo", "email_multiple"}
)

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "email": pl.String(),
    "email_reason": pl.String(),
    "email_suggestion": pl.String(),
    "other_emails": pl.List(pl.String()),
}

# Mail providers Chinese B2B contacts use, and the global ones they use next to them.
PROVIDERS: tuple[str, ...] = (
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "188.com",
    "vip.163.com", "vip.126.com", "sina.com", "sina.cn", "vip.sina.com", "sina.com.cn", "sohu.com",
    "aliyun.com", "139.com", "189.cn", "wo.cn", "21cn.com", "tom.com", "263.net",
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "live.cn", "msn.com",
    "yahoo.com", "yahoo.com.cn", "icloud.com", "me.com", "protonmail.com",
)  # fmt: skip
# Seen typos, including those edit distance does not find or finds ambiguous.
KNOWN_TYPOS: dict[str, str] = {
    "qq.con": "qq.com", "qq.cm": "qq.com", "qq.co": "qq.com", "qq.comm": "qq.com",
    "qq.om": "qq.com", "qq.vom": "qq.com", "qq.xom": "qq.com", "qq.cim": "qq.com",
    "qq.cpm": "qq.com", "qqq.com": "qq.com", "qq.c0m": "qq.com", "qq.coom": "qq.com",
    "163.con": "163.com", "163.cm": "163.com", "163.co": "163.com", "163.comm": "163.com",
    "163.cpm": "163.com", "163.vom": "163.com", "136.com": "163.com", "162.com": "163.com",
    "126.con": "126.com", "126.cm": "126.com", "126.co": "126.com", "162.co": "126.com",
    "gmial.com": "gmail.com", "gmai.com": "gmail.com", "gamil.com": "gmail.com",
    "gmail.co": "gmail.com", "gmail.con": "gmail.com", "gmail.cm": "gmail.com",
    "hotmial.com": "hotmail.com", "hotmai.com": "hotmail.com", "hotmail.co": "hotmail.com",
    "hotmail.con": "hotmail.com", "outlok.com": "outlook.com", "outlook.con": "outlook.com",
    "sina.con": "sina.com", "sian.com": "sina.com", "sina.cm": "sina.com", "sohu.con": "sohu.com",
    "foxmai.com": "foxmail.com", "foxmial.com": "foxmail.com", "foxmail.con": "foxmail.com",
    "yahoo.con": "yahoo.com", "yaho.com": "yahoo.com", "icloud.con": "icloud.com",
    "aliyun.con": "aliyun.com", "139.con": "139.com", "yeah.com": "yeah.net",
}  # fmt: skip
PLACEHOLDER_EMAILS: frozenset[str] = frozenset(
    {
        "无", "暂无", "没有", "未知", "不详", "空", "na", "n/a", "none", "null", "nil", "nan", "-",
        "--", "/", "x", "xx", "xxx", "0", "test", "无邮箱",
    }
)  # fmt: skip
PLACEHOLDER_LOCALS: frozenset[str] = frozenset(
    {"test", "none", "null", "no", "noemail", "nomail", "xxx", "xx", "abc", "123", "na", "无"}
)
PLACEHOLDER_DOMAINS: frozenset[str] = frozenset(
    {"example.com", "example.org", "example.net", "test.com", "xxx.com", "xx.com", "abc.com",
     "123.com", "email.com", "mail.com", "domain.com", "none.com", "noemail.com"}
)  # fmt: skip

# Several addresses in one cell are split on these. Brackets, quotes and colons split too, so that
# what mail clients paste unwraps to the address: `Name <x@y>`, `"Name" <x@y>`, `x@y (Name)`,
# `张三<x@y>`, `张三：x@y`.
_SEPARATORS = re.compile(r"[\s,;，；、|/:<>()\"“”‘’《》〈〉「」『』【】〔〕]+")
# Labels pasted in front of an address: mailto:, e-mail:, 邮箱：
_LABELS = r"(?:mailto|e-?mail|电子邮箱|电子邮件|邮箱地址|邮箱|邮件)\s*:\s*"
# The query of a mailto link (mailto:x@y?subject=…) is no part of the address.
_MAILTO_QUERY = r"(mailto\s*:\s*[^\s?]*)\?\S*"
# Trailing sentence punctuation and leftover brackets around one address.
_WRAPPERS = "<>\"'()[]{}.。!?…"
# Obfuscated addresses are not rewritten: `x#y.com` (请把#换成@), `x[at]y.com`, `x at y dot com` and
# Cloudflare's `[email protected]` stay email_invalid_syntax. They are common on scraped web pages,
# rare in the ledgers, CRM exports and sign-up forms this pipeline reads, where `#` is as likely a
# slip of the shift key as a disguise; `#` is also legal in a local part (a#b@c.com), so turning
# it into `@` is a guess, and a guessed address is worse than a flagged one.
# A cell with more candidate addresses than this is a pasted list: the rest are not checked.
_MAX_CANDIDATES = 20
# One edit away from a short provider name (qq, 163, sina, live) are real other domains (life.com):
# those providers rely on KNOWN_TYPOS only.
_FUZZY_PROVIDERS = tuple(p for p in PROVIDERS if len(p.split(".")[0]) >= 5)

EmailCell = tuple[str | None, str | None, str | None, list[str]]


@lru_cache(maxsize=65_536)
def _typo_correction(domain: str) -> str | None:
    """The provider domain a domain is one edit (or swap: gmali) away from, if exactly one is."""
    if domain in PROVIDERS:
        return None
    if domain in KNOWN_TYPOS:
        return KNOWN_TYPOS[domain]
    close = process.extract(domain, _FUZZY_PROVIDERS, scorer=OSA.distance, score_cutoff=1, limit=2)
    return str(close[0][0]) if len(close) == 1 else None


def _is_placeholder(address: str) -> bool:
    if "@" not in address:
        return address in PLACEHOLDER_EMAILS
    local, _, domain = address.rpartition("@")
    return local in PLACEHOLDER_LOCALS or domain in PLACEHOLDER_DOMAINS


# Plain ASCII addresses that email-validator always accepts (dot-atom local part, LDH labels, a
# letters-only TLD): checked by this regex in a microsecond instead of 25 µs. Anything else (quotes,
# Unicode, punycode, `--` in a label, a special-use TLD such as .local or .test, lengths near the
# limits) goes to email-validator. tests/cleaners/test_emails.py checks the regex never accepts
# an address email-validator refuses.
SIMPLE_ADDRESS = re.compile(
    r"(?=[^@]{1,64}@.{1,189}$)[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*"
    r"@(?!.*--)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?!(?:arpa|invalid|local|localhost|onion|test)$)[a-z]{2,24}"
)


def _is_valid(address: str) -> bool:
    if SIMPLE_ADDRESS.fullmatch(address):
        return True
    try:
        validate_email(address, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return False
    return True


def _email_cell(cell: str) -> EmailCell:
    """(email, reason, suggestion, other emails) of one normalised cell; first valid one wins."""
    tokens = [t.strip(_WRAPPERS) for t in _SEPARATORS.split(cell)]
    tokens = [t for t in tokens if t]
    if cell in PLACEHOLDER_EMAILS or all(_is_placeholder(t) for t in tokens):
        return None, "email_placeholder", None, []
    addresses = [t for t in tokens if "@" in t and not _is_placeholder(t)][:_MAX_CANDIDATES]
    valid = list(dict.fromkeys(a for a in addresses if _is_valid(a)))
    if not valid:
        placeholder = not addresses and any(_is_placeholder(t) for t in tokens)
        return None, "email_placeholder" if placeholder else "email_invalid_syntax", None, []
    email, others = valid[0], valid[1:]
    local, _, domain = email.rpartition("@")
    correction = _typo_correction(domain)
    if correction is not None:
        return email, "email_domain_typo", f"{local}@{correction}", others
    return email, "email_multiple" if others else None, None, others


def _prepared(s: pl.Series) -> pl.Series:
    """NFKC (＠ → @), lower-cased, 。 as dot, labels such as mailto: (and its ?query) removed, trimmed."""
    text = (
        normalise_text(pl.col("v"))
        .str.to_lowercase()
        .str.replace_all("。", ".", literal=True)
        .str.replace_all(_MAILTO_QUERY, "${1}")
        .str.replace_all(_LABELS, " ")
        .str.strip_chars(" ")
        .replace("", None)
    )
    return pl.DataFrame({"v": s}).select(text).to_series()


def normalise_emails(s: pl.Series) -> pl.DataFrame:
    """Normalise e-mail cells into `email`, `email_reason`, `email_suggestion`, `other_emails`."""
    prepared = _prepared(s.cast(pl.String))
    unique = prepared.drop_nulls().unique().to_list()
    cells = [_email_cell(cell) for cell in unique]
    lookup = pl.DataFrame(
        {
            "v": unique,
            **{name: [cell[i] for cell in cells] for i, name in enumerate(OUTPUT_SCHEMA)},
        },
        schema={"v": pl.String, **OUTPUT_SCHEMA},
    )
    joined = pl.DataFrame({"v": prepared}).join(lookup, on="v", how="left", maintain_order="left")
    return joined.select(list(OUTPUT_SCHEMA))
