"""Marks of an earlier wrong decode in a text, whatever encoding reads it now.

UTF-8 once read as cp1252 and saved again (`æ–°å…¬å¸` for 新公司, `Ã¼` for ü), GB18030 once read as
latin-1 (`ÉÏº£` for 上海), U+FFFD where an earlier decode gave up, C1 controls that no text has: any of
them means the characters are no longer the ones the customer typed, so the file is refused, not loaded.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence

from crm_etl.flows.text_plausibility import cjk_plausibility

# The characters cp1252 makes of bytes 0x80-0x9F (it leaves 0x81 0x8D 0x8F 0x90 0x9D undefined).
_CP1252_BYTE = {
    char: byte for byte in range(0x80, 0xA0) for char in [bytes([byte]).decode("cp1252", "ignore")] if char
}
# A character a cp1252 or latin-1 decode makes of one byte >= 0x80.
_ONE_HIGH_BYTE = "[\x80-\xff" + re.escape("".join(_CP1252_BYTE)) + "]"
# A UTF-8 sequence read as cp1252/latin-1: `Ã©` for é, `æ–°` for 新, `â€™` for ’. A lead character and
# one to three continuations; _repair_utf8 checks the count (one regex class first keeps the scan fast).
_UTF8_CONTINUATION = "[\x80-\xbf" + re.escape("".join(_CP1252_BYTE)) + "]"
_UTF8_READ_AS_CP1252 = re.compile(f"[\u00c2-\u00f4]{_UTF8_CONTINUATION}{{1,3}}")
# Two GB18030 characters or more (four bytes) read as latin-1/cp1252: `ÉÏº£` for 上海.
_GB_READ_AS_LATIN1 = re.compile(f"{_ONE_HIGH_BYTE}{_ONE_HIGH_BYTE}{_ONE_HIGH_BYTE}{_ONE_HIGH_BYTE}+")
# Where any of the marks above can start: text without these characters has none of them.
_MARK_START = re.compile(f"{_ONE_HIGH_BYTE}|\ufffd")
# No text has C1 controls; U+FFFD is what an earlier decode left for bytes it could not read.
_NOT_TEXT = re.compile("[\x80-\x9f\ufffd]")

# What a repaired GB18030 mojibake must score to count as Chinese text.
_CJK_CONVINCING = 0.6


def find_mojibake(text: str, spans: Iterable[tuple[int, int]]) -> str | None:
    """What marks `text` as mis-decoded (a sentence for the error message), or None.

    Only `spans` (start, end) are searched: the stretches that are not pure ASCII, which hold every mark.
    """
    # Mojibake, C1 controls and U+FFFD all start with a latin-1/cp1252 character or are U+FFFD.
    spans = [(start, end) for start, end in spans if _MARK_START.search(text, start, end)]
    utf8 = [m for start, end in spans for m in _UTF8_READ_AS_CP1252.finditer(text, start, end)]
    # One mis-read word holds several sequences: count it once.
    utf8_runs = list(
        {run[0]: run for run in map(_repaired_utf8_run, itertools.repeat(text), utf8) if run}.values()
    )
    if utf8_runs:
        start, excerpt, fixed = utf8_runs[0]
        return (
            f"'{_shown(excerpt[:24])}' at line {_line_of(text, start)}{_more(utf8_runs)} is UTF-8 text that was "
            f"once read as cp1252/latin-1 (it would read '{_shown(fixed[:24])}')"
        )
    gb = [m for start, end in spans for m in _GB_READ_AS_LATIN1.finditer(text, start, end)]
    gb = [m for m in gb if _repair_gb18030(m.group())]
    if gb:
        excerpt = gb[0].group()[:24]
        return (
            f"'{_shown(excerpt)}' at line {_line_of(text, gb[0].start())}{_more(gb)} is GB18030 text that was once "
            f"read as latin-1/cp1252 (it would read '{_repair_gb18030(gb[0].group())}')"
        )
    not_text = [m for start, end in spans for m in _NOT_TEXT.finditer(text, start, end)]
    replaced = [m for m in not_text if m.group() == "\ufffd"]
    if replaced:
        return (
            f"it has replacement characters (U+FFFD) at line {_line_of(text, replaced[0].start())}"
            f"{_more(replaced)}: an earlier decode, e.g. GBK read as UTF-8, already destroyed the characters"
        )
    if not_text:
        return (
            f"it has C1 control characters (U+0080-U+009F) at line {_line_of(text, not_text[0].start())}"
            f"{_more(not_text)}, which no text has: bytes meant for another code page"
        )
    return None


def _more(found: Sequence[object]) -> str:
    return f" ({len(found)} in all)" if len(found) > 1 else ""


def _repair_utf8(candidate: str) -> str | None:
    """The character a UTF-8 sequence read as cp1252/latin-1 stood for, if it is a plausible one."""
    lead = ord(candidate[0])
    length = 2 if lead <= 0xDF else 3 if lead <= 0xEF else 4
    raw = _cp1252_bytes(candidate[:length])
    if raw is None or len(raw) != length:
        return None
    try:
        char = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if unicodedata.category(char) in {"Cc", "Cn", "Co", "Cs"}:
        return None
    code = ord(char)
    # Two-byte sequences count only for Latin and Greek/Cyrillic letters: a real `ß“` is not mojibake.
    if length == 2 and not (0xA0 <= code <= 0x24F or 0x370 <= code <= 0x4FF):
        return None
    return char


def _repaired_utf8_run(text: str, sequence: re.Match[str]) -> tuple[int, str, str] | None:
    """(start, run, repaired run) when the whole latin-1/cp1252 run around a UTF-8-looking sequence is
    UTF-8 read as cp1252: a real `ÉÏº£` (GB18030 read as latin-1) holds `Ïº` by chance."""
    if not _repair_utf8(sequence.group()):
        return None
    start, end = sequence.start(), sequence.end()
    while start > 0 and _is_one_high_byte(text[start - 1]):
        start -= 1
    while end < len(text) and _is_one_high_byte(text[end]):
        end += 1
    try:
        fixed = (_cp1252_bytes(text[start:end]) or b"").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return start, text[start:end], fixed


def _is_one_high_byte(char: str) -> bool:
    return 0x80 <= ord(char) <= 0xFF or char in _CP1252_BYTE


def _repair_gb18030(run: str) -> str | None:
    """The Chinese text a run of latin-1/cp1252 characters was in GB18030, if it is convincingly Chinese."""
    raw = _cp1252_bytes(run)
    try:
        text = raw.decode("gb18030") if raw is not None else ""
    except UnicodeDecodeError:
        return None
    return text if len(text) >= 2 and cjk_plausibility(text, "gb2312") >= _CJK_CONVINCING else None


def _cp1252_bytes(text: str) -> bytes | None:
    """The bytes a cp1252 (latin-1 for cp1252's undefined bytes) decode turned into `text`."""
    raw = bytearray()
    for char in text:
        code = ord(char)
        byte = code if code < 0x100 else _CP1252_BYTE.get(char)
        if byte is None:
            return None
        raw.append(byte)
    return bytes(raw)


def _shown(excerpt: str) -> str:
    """An excerpt for a message, its control characters escaped (\\x8f)."""
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in excerpt)


def _line_of(text: str, position: int) -> str:
    return str(text.count("\n", 0, position) + 1)
