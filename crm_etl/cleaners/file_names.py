"""File names built from user data (an owner, an input file's path, a table's name), safe on every system.

The rule: a readable slug of the name plus a short hash of the FULL name, `张伟-1a2b3c4d.xlsx`.
The hash is always there, even when the name is already safe: two names that slug alike
(`销售/华东:张伟`, `销售_华东_张伟`) or differ only in case (`Zhang`, `zhang`, one file on
Windows and macOS) or in Unicode normalisation (macOS stores NFD) still get two files, and a
rep still reads their own name first.

Whole names are kept within `MAX_NAME_BYTES` UTF-8 bytes: file systems limit a name to 255
bytes (ext4, APFS, NTFS in UTF-16 units), eCryptfs home folders to 143, and Windows a whole path
to 260 characters, so the name leaves room for its folder and for a `.NAME.partial` temporary
beside it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_NAME_BYTES = 120
HASH_LENGTH = 8
# Word characters of any script (CJK included), digits, `_` and `-` stay; the rest becomes `_`
# (dots too: the only dot is the one before the extension, and no name is hidden).
_UNSAFE = re.compile(r"[^\w-]+")
_UNDERSCORES = re.compile(r"_{2,}")
_EDGES = "_- "
# Windows refuses these as a name, in any case (`con.xlsx` is the device CON).
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"{port}{n}" for port in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]),
}


def name_hash(name: str) -> str:
    """The first hex digits of the SHA-256 of the full name (a name that was not UTF-8 hashes too)."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]


def slug(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A readable stem: NFC, unsafe runs as `_`, no `_` or `-` at the ends, at most `max_bytes` UTF-8 bytes.

    Never empty, never `.` or `..`, never a name Windows reserves; cut only between characters.
    """
    text = unicodedata.normalize("NFC", name)
    text = _UNDERSCORES.sub("_", _UNSAFE.sub("_", text)).strip(_EDGES)
    text = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore").strip(_EDGES)
    if not text:
        return "_"
    if text.upper() in _RESERVED:
        text = "_" + text.encode("utf-8")[: max_bytes - 1].decode("utf-8", "ignore").strip(_EDGES)
    return text


def safe_file_name(name: str, suffix: str, hash_of: str | None = None) -> str:
    """`<slug>-<hash>.<suffix>` within `MAX_NAME_BYTES`; `hash_of` (default: the name) decides the hash.

    Distinct names give distinct file names (bar a SHA-256 prefix collision), whatever their slugs.
    """
    extension = f".{suffix.lstrip('.')}"
    tail = f"-{name_hash(name if hash_of is None else hash_of)}{extension}"
    budget = MAX_NAME_BYTES - len(tail.encode("utf-8"))
    if budget < 1:
        raise ValueError(f"suffix {suffix!r} leaves no room for a name")
    return slug(name, budget) + tail


def is_plain_file_name(name: str, suffix: str) -> bool:
    """Whether `<name>.<suffix>` is safe as it is: word characters only, NFC, not reserved, short enough.

    Such a name holds no `-`, so it never equals a `safe_file_name`; for names that are unique
    regardless of case (DuckDB's tables) it is the readable choice.
    """
    extension = f".{suffix.lstrip('.')}"
    return (
        re.fullmatch(r"\w+", name) is not None
        and unicodedata.is_normalized("NFC", name)
        and name.upper() not in _RESERVED
        and len((name + extension).encode("utf-8")) <= MAX_NAME_BYTES
    )
