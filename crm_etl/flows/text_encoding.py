"""Which encoding a text export is in, decided on evidence, and refusal of text that reads as mojibake.

UTF-8/16/32 announce themselves: a byte-order mark, the NUL pattern of UTF-16, or a strict UTF-8 decode.
Anything else is a legacy export. Mainland systems write GB18030 (GBK, GB2312), Taiwanese and Hong Kong
ones Big5, and both codecs "decode" most byte strings, so every candidate that decodes strictly is scored
on how plausible its non-ASCII characters are. A single-byte code page (cp1252, cp1251 ...) is the last
resort: only when no CJK reading exists or it is clearly nonsense. Whatever wins is checked for the marks
of an earlier wrong decode (flows/mojibake.py) before a single row is loaded; the scores are
flows/text_plausibility.py.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import charset_normalizer

from crm_etl.flows.mojibake import find_mojibake
from crm_etl.flows.text_plausibility import (
    cjk_plausibility,
    cjk_run_plausibility,
    least_cjk_plausibility,
    run_word_plausibility,
    word_plausibility,
)


class UndecodableText(ValueError):
    """The bytes are not trustworthy text; the message says which encoding was tried and what looked wrong."""


_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")

# A text is looked at in chunks; a pure-ASCII chunk is skipped without looking at its characters.
_CHUNK = 1 << 14
# Non-ASCII chunks whose characters are scored, spread evenly over the file.
_SAMPLE_CHUNKS = 64
# Runs scored at most, shared out between the sampled chunks.
_SAMPLE_RUNS = 20_000
# Mean plausibility (-1 .. 1 per non-ASCII character) below which a CJK reading is nonsense.
_CJK_NONSENSE = 0.2
# What every GB2312 character (either level) and CJK punctuation scores at least.
_CJK_GB2312 = 0.3
# Big5 must beat GB18030 by 0.1 + 0.6 / sqrt(non-ASCII characters): mainland exports are the norm, so
# a tie, or a character or two that happen to read as frequent traditional ones, reads as GB18030.
# (Tuned on every GB2312 character alone and 20,000 random 2-4 character strings: none reads as Big5.)
_BIG5_MARGIN = 0.1
_BIG5_MARGIN_PER_EVIDENCE = 0.6
# A single-byte reading is used at this plausibility when no CJK reading exists, and displaces a
# nonsense CJK reading only at the higher one.
_SINGLE_BYTE_PLAUSIBLE = 0.6
_SINGLE_BYTE_CLEAR = 0.85
# A UTF-8 reading with this much of words (not only symbols or lone letters) is never second-guessed.
_UTF8_WORDS = 0.75
# Below this many non-ASCII characters a nonsense CJK reading is still kept (mainland norm), not refused.
_MIN_EVIDENCE = 20
# A few private-use characters are legitimate (GBK's user-defined characters for rare names); more are
# bytes read with the wrong codec.
_PRIVATE_USE_SHARE = 0.02
_PRIVATE_USE_MIN = 3

_BYTE_ORDER_MARKS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32-be"),
    (b"\xff\xfe", "utf-16", "utf-16-le"),
    (b"\xfe\xff", "utf-16", "utf-16-be"),
)
_GB_CODECS = ("gb18030",)
# cp950 and HKSCS extend Big5 (Windows in Taiwan, Hong Kong); plain Big5 is tried first.
_BIG5_CODECS = ("big5", "cp950", "big5hkscs")
_SINGLE_BYTE_CODECS = [
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "koi8_r",
    "koi8_u",
    "cp866",
    "iso8859_2",
    "iso8859_5",
    "iso8859_7",
]
# The character set whose levels rank the hanzi of a reading: GB2312 for GB18030, Big5 for its family.
_STANDARD = {"gb18030": "gb2312", "big5": "big5", "cp950": "big5", "big5hkscs": "big5"}


class _Run(NamedTuple):
    """A maximal run of non-ASCII characters and the characters on either side of it ('' at an end)."""

    start: int
    text: str
    before: str
    after: str


@dataclass
class _Reading:
    """One way of decoding the bytes, with the sample of non-ASCII runs it is judged on."""

    codec: str
    text: str
    # Starts of the chunks that are not pure ASCII.
    chunks: list[int]
    sample: list[_Run]
    # The encoding name reported; a single-byte code page says why it was chosen over CJK.
    name: str = ""

    @classmethod
    def of(cls, codec: str, text: str) -> _Reading:
        chunks = [i for i in range(0, len(text), _CHUNK) if not text[i : i + _CHUNK].isascii()]
        return cls(codec, text, chunks, _sample_runs(text, chunks), codec)

    @cached_property
    def non_ascii(self) -> int:
        return sum(len(run.text) for run in self.sample)

    @cached_property
    def cjk_score(self) -> float:
        runs = ((run.text, run.before, run.after) for run in self.sample)
        return cjk_run_plausibility(runs, _STANDARD.get(self.codec, "any"))

    @cached_property
    def single_byte_score(self) -> float:
        return word_plausibility((run.text, run.before, run.after) for run in self.sample)


def decode_export(data: bytes) -> tuple[str, str]:
    """The text of a CSV/JSONL export and the name of the encoding it was read with.

    Raises UndecodableText when no encoding gives plausible text, or when the text carries the marks
    of an earlier wrong decode (mojibake, replacement characters, private-use characters).
    """
    if not data.strip():
        raise UndecodableText("the file is empty")
    reading = _read_unicode(data) or _read_legacy(data)
    problem = _mis_decoding(reading)
    if problem:
        raise UndecodableText(
            f"the text looks mis-decoded (mojibake), so it is not loaded: read as {reading.name}, {problem}"
        )
    return reading.text, reading.name


def _read_unicode(data: bytes) -> _Reading | None:
    """UTF-8, -16 or -32 when the bytes say so (a byte-order mark, NULs, strict UTF-8); else None."""
    for mark, codec, name in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return _Reading.of(name, _decode_strictly(data, codec, f"starts with a {name} byte-order mark"))
    head = data[:4096]
    utf16 = _utf16_by_nul_pattern(head)
    if utf16:
        return _Reading.of(utf16, _decode_strictly(data, utf16, f"has the NUL bytes of {utf16} text"))
    if b"\x00" in head:
        raise UndecodableText("binary content (NUL bytes): not a text export")
    if data.isascii():
        return _Reading.of("utf-8", data.decode("ascii"))
    try:
        utf8 = _Reading.of("utf-8", data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return None if _gb18030_in_disguise(utf8, data) else utf8


def _gb18030_in_disguise(utf8: _Reading, data: bytes) -> bool:
    """Whether valid UTF-8 is likelier GB18030: a few characters that are neither words nor Chinese nor
    mojibake (隆 and 茅 are `¡` and `é` in UTF-8), where GB18030 reads as GB2312 Chinese throughout.

    On so little evidence the mainland norm wins, so a UTF-8 file whose only non-ASCII characters are
    one or two symbols away from any number (`©`) reads as GB18030 too; symbols with numbers (£100),
    accented letters inside words (Müller), Cyrillic words and real Chinese stay UTF-8.
    """
    if utf8.non_ascii >= _MIN_EVIDENCE or utf8.single_byte_score >= _UTF8_WORDS or _mis_decoding(utf8):
        return False
    gb = _strict_reading(data, _GB_CODECS)
    if gb is None:
        return False
    sample = "".join(run.text for run in gb.sample)
    # A tie (路 is `·` in UTF-8, both plausible) goes to the mainland norm.
    return least_cjk_plausibility(sample, "gb2312") >= _CJK_GB2312 and gb.cjk_score >= utf8.cjk_score


def _decode_strictly(data: bytes, codec: str, claim: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UndecodableText(
            f"cannot decode the text: it {claim} but is not valid {codec} "
            f"({exc.reason} at byte offset {exc.start})"
        ) from exc


def _utf16_by_nul_pattern(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in (nearly) every other byte."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0 : 2 * pairs : 2].count(0), head[1 : 2 * pairs : 2].count(0)
    # A few NULs on the other side are characters like 一 (U+4E00).
    if odd >= pairs / 2 and even <= pairs / 20:
        return "utf-16-le"
    if even >= pairs / 2 and odd <= pairs / 20:
        return "utf-16-be"
    return None


def _read_legacy(data: bytes) -> _Reading:
    """GB18030 or Big5 by plausibility; a single-byte code page only when neither gives Chinese text."""
    gb, big5 = _strict_reading(data, _GB_CODECS), _strict_reading(data, _BIG5_CODECS)
    cjk = _likelier_cjk(gb, big5)
    if cjk is not None and cjk.cjk_score >= _CJK_NONSENSE:
        return cjk
    single = _single_byte_reading(data)
    if cjk is None:
        if single is not None and single.single_byte_score >= _SINGLE_BYTE_PLAUSIBLE:
            single.name = f"{single.codec} (invalid as GB18030 and Big5)"
            return single
        raise UndecodableText(
            f"cannot decode the text: not UTF-8 ({_first_bad_utf8(data)}), not GB18030 or Big5 (invalid "
            f"bytes), and no single-byte code page gives plausible text{_as_example(single)}"
        )
    if single is not None and single.single_byte_score >= _SINGLE_BYTE_CLEAR:
        nonsense = " and ".join(r.codec for r in (gb, big5) if r is not None)
        single.name = (
            f"{single.codec} (the {nonsense} reading{'s are' if ' and ' in nonsense else ' is'} nonsense)"
        )
        return single
    if cjk.non_ascii < _MIN_EVIDENCE or not _mostly_hanzi(cjk):
        # Too few characters to overrule the mainland norm, or symbols rather than nonsense hanzi.
        return cjk
    raise UndecodableText(
        f"cannot decode the text: read as {cjk.codec} it is mostly rare or private-use characters "
        f"({_least_plausible(cjk)}), and no single-byte code page gives plausible text either"
        f"{_as_example(single)}"
    )


def _strict_reading(data: bytes, codecs: tuple[str, ...]) -> _Reading | None:
    """The reading with the first of `codecs` that decodes every byte, if any does."""
    for codec in codecs:
        try:
            return _Reading.of(codec, data.decode(codec))
        except UnicodeDecodeError:
            continue
    return None


def _likelier_cjk(gb: _Reading | None, big5: _Reading | None) -> _Reading | None:
    if gb is None or big5 is None:
        return gb or big5
    margin = _BIG5_MARGIN + _BIG5_MARGIN_PER_EVIDENCE / math.sqrt(max(1, big5.non_ascii))
    if big5.cjk_score > gb.cjk_score + margin or gb.cjk_score < _CJK_NONSENSE <= big5.cjk_score:
        return big5
    return gb


def _single_byte_reading(data: bytes) -> _Reading | None:
    """The likeliest single-byte reading: cp1252, or the code page charset_normalizer's language models
    prefer when it reads as more plausible words."""
    candidates = ["cp1252"]
    guess = charset_normalizer.from_bytes(_bytes_around_runs(data), cp_isolation=_SINGLE_BYTE_CODECS).best()
    if guess is not None and guess.encoding not in candidates:
        candidates.append(guess.encoding)
    readings = [r for codec in candidates if (r := _strict_reading(data, (codec,))) is not None]
    # max keeps the first of equals: cp1252 wins a tie.
    return max(readings, key=lambda r: r.single_byte_score, default=None)


def _bytes_around_runs(data: bytes) -> bytes:
    """The sampled non-ASCII bytes with some context, for charset_normalizer (whole files are slow)."""
    # latin-1 maps byte i to character i, so the runs' positions are byte offsets.
    view = _Reading.of("latin-1", data.decode("latin-1"))
    return b"\n".join(data[max(0, run.start - 40) : run.start + len(run.text) + 40] for run in view.sample)


def _mis_decoding(reading: _Reading) -> str | None:
    """What marks the reading as wrong: mojibake anywhere in it, or a sample of private-use or rare hanzi."""
    text = reading.text
    problem = find_mojibake(text, _spans(reading.chunks, len(text)))
    if problem:
        return problem
    private = [(run, m) for run in reading.sample for m in _PRIVATE_USE.finditer(run.text)]
    if len(private) >= _PRIVATE_USE_MIN and len(private) > _PRIVATE_USE_SHARE * reading.non_ascii:
        run, m = private[0]
        return (
            f"{len(private) / reading.non_ascii:.0%} of its non-ASCII characters are private-use ones "
            f"(U+{ord(m.group()):04X} at line {_line_of(text, run.start + m.start())}), "
            f"which a right reading does not give"
        )
    if reading.non_ascii >= _MIN_EVIDENCE and reading.cjk_score < _CJK_NONSENSE and _mostly_hanzi(reading):
        return f"its Chinese characters are mostly rare ones ({_least_plausible(reading)})"
    return None


def _sample_runs(text: str, chunks: list[int]) -> list[_Run]:
    """The non-ASCII runs of at most _SAMPLE_CHUNKS chunks spread evenly over the text."""
    step = max(1.0, len(chunks) / _SAMPLE_CHUNKS)
    picked = [chunks[int(i * step)] for i in range(min(len(chunks), _SAMPLE_CHUNKS))]
    per_chunk = _SAMPLE_RUNS // max(1, len(picked))
    runs = []
    for start in picked:
        for m in itertools.islice(_NON_ASCII_RUN.finditer(text, start, start + _CHUNK), per_chunk):
            before = text[m.start() - 1] if m.start() > 0 else ""
            after = text[m.end()] if m.end() < len(text) else ""
            runs.append(_Run(m.start(), m.group(), before, after))
    return runs


def _spans(chunks: list[int], length: int) -> list[tuple[int, int]]:
    """Consecutive non-ASCII chunks merged, so no run or sequence is cut at a chunk border."""
    spans: list[tuple[int, int]] = []
    for start in chunks:
        end = min(start + _CHUNK, length)
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _mostly_hanzi(reading: _Reading) -> bool:
    hanzi = sum(
        1 for run in reading.sample for char in run.text if unicodedata.name(char, "").startswith("CJK")
    )
    return hanzi * 2 >= reading.non_ascii


def _least_plausible(reading: _Reading) -> str:
    standard = _STANDARD.get(reading.codec, "any")
    run = min(reading.sample, key=lambda r: cjk_plausibility(r.text, standard), default=None)
    if run is None:
        return "no sample"
    return f"e.g. '{run.text[:12]}' at line {_line_of(reading.text, run.start)}"


def _as_example(single: _Reading | None) -> str:
    if single is None or not single.sample:
        return ""
    run = min(single.sample, key=lambda r: run_word_plausibility(r.text, r.before, r.after))
    return f" ({single.codec} reads '{run.text[:12]}' at line {_line_of(single.text, run.start)})"


def _first_bad_utf8(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
    return "valid"


def _line_of(text: str, position: int) -> str:
    return str(text.count("\n", 0, position) + 1)
