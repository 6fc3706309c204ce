"""The physical lines of a text export and the records that cover them: quotes that span lines, JSON
objects printed over several lines, and the check that every line is accounted for.

A CSV record may span lines only where a real multi-line cell is plausible: the record has the
header's field count. A quote that opens a cell and swallows the lines after it (an unclosed `"`)
is not: the line it opens on is read on its own, and reading goes on from the next line, so the
good lines around it load and the damaged one is a row of its own with its text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

QUOTE = '"'
UNBALANCED_QUOTE = "unbalanced_quote"
# A JSON object printed over lines (a pretty-printed record in a JSON Lines file) is looked for
# over at most this many lines: an unclosed `{` must not make every later line a candidate.
JSON_OBJECT_MAX_LINES = 1000


@dataclass
class TextRecords:
    """The records read from a text file's lines: `rows[i]` covers lines `starts[i]`..`ends[i]` (1-based).

    `errors` holds rows that are not records (reason, detail) by index, `texts` the raw text of a
    row read as one damaged line; `stray_quotes` the lines whose unbalanced quote was kept as text.
    """

    rows: list[list[Any]] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    stray_quotes: list[int] = field(default_factory=list)
    # Rows that spanned lines, were left inside an open quote or read as a damaged line: only the
    # header's width tells a real multi-line cell among them from a swallowing quote.
    suspects: list[int] = field(default_factory=list)

    def add(self, row: list[Any], start: int, end: int) -> int:
        self.rows.append(row)
        self.starts.append(start)
        self.ends.append(end)
        return len(self.rows) - 1


def physical_lines(text: str) -> list[str]:
    """The file's lines as the csv module counts them, ends kept: split at \\n, \\r\\n and \\r only
    (str.splitlines would also split at \\x0b, \\x1c or U+2028, which a cell may hold)."""
    return io.StringIO(text, newline="").readlines()


def last_filled_line(lines: list[str]) -> int:
    """The number of the last line that is not blank (0 for none)."""
    last = len(lines)
    while last and not lines[last - 1].strip():
        last -= 1
    return last


def filled_width(cells: list[Any]) -> int:
    """The number of fields up to the last one that is not empty."""
    width = len(cells)
    while width and not str(cells[width - 1]).strip():
        width -= 1
    return width


def fits_header(cells: list[Any], header: list[Any]) -> bool:
    """Whether a record has the header's field count, empty fields at the end of either aside
    (`a,b,c,,` is a header of three fields that an export may also write with five)."""
    return len(cells) >= filled_width(header) and filled_width(cells) <= len(header)


def _ends_inside_quote(text: str, delimiter: str) -> bool:
    """Whether a quoted cell is still open at the end of `text` (csv's rules: a quote opens a cell
    only at its start, `""` inside one is a quote)."""
    quoted, at_cell_start, index = False, True, 0
    while index < len(text):
        char = text[index]
        if quoted:
            if char == QUOTE:
                if text[index + 1 : index + 2] == QUOTE:
                    index += 1
                else:
                    quoted = False
        elif char == QUOTE and at_cell_start:
            quoted = True
        at_cell_start = not quoted and char in (delimiter, "\n", "\r")
        index += 1
    return quoted


def _lines_from(lines: list[str], start: int) -> Iterator[str]:
    return iter(lines) if start == 0 else (lines[i] for i in range(start, len(lines)))


def split_delimited(
    lines: list[str],
    delimiter: str,
    header: list[Any] | None = None,
    header_line: int = 0,
    from_line: int = 1,
) -> TextRecords:
    """Parse delimited lines, from line `from_line` on, into records each knowing the lines it covers.

    Without `header` (not yet found) a record may span any lines. With it, a record that starts
    after `header_line` and spans lines (or ends inside an open quote) must have the header's field
    count (`fits_header`); otherwise the line it starts on is damaged: that line alone becomes a
    row (its text split at the delimiter) and reading resumes on the next line.
    """
    found = TextRecords()
    rows, starts, ends = found.rows, found.starts, found.ends
    count = len(lines)
    start = from_line - 1  # index of the first line the next reader reads
    while start < count:
        reader = csv.reader(_lines_from(lines, start), delimiter=delimiter)
        line_before = start
        damaged: int | None = None
        reach: int | None = None  # the last line the damaged record took in, when known
        try:
            for record in reader:
                first = line_before + 1
                line_before = last = start + reader.line_num
                if last > first or (last == count and _ends_inside_quote(lines[last - 1], delimiter)):
                    if header is not None and first > header_line and not fits_header(record, header):
                        damaged, reach = first, last
                        break
                    found.suspects.append(len(rows))
                rows.append(record)
                starts.append(first)
                ends.append(last)
        except csv.Error as exc:
            # The field-size limit (a quote that swallowed the rest of a big file) or a stray quote.
            damaged = line_before + 1
            if QUOTE not in lines[damaged - 1]:
                raise ValueError(f"malformed CSV at line {damaged}: {exc}") from exc
        if damaged is None:
            break
        found.suspects.append(len(found.rows))
        _damaged_line(found, lines, damaged, delimiter, header, reach)
        start = damaged
    # A trailing newline after the last record is not a row; blank lines inside are.
    while found.rows and not found.rows[-1] and len(found.rows) - 1 not in found.errors:
        found.rows.pop()
        found.starts.pop()
        found.ends.pop()
    found.suspects = [i for i in found.suspects if i < len(found.rows)]
    return found


def first_damaged(
    rows: list[list[Any]],
    starts: list[int],
    suspects: list[int],
    errors: dict[int, tuple[str, str]],
    header: list[Any],
    header_line: int,
) -> int | None:
    """The first suspect row below the header that is no real record: a quote that spans lines or
    is left open without the header's field count, or a line read as damaged before the header was
    known. Rows before it read the same whatever the header, so only the rest need reading again."""
    for index in suspects:
        if starts[index] > header_line and (index in errors or not fits_header(rows[index], header)):
            return index
    return None


def _damaged_line(
    found: TextRecords,
    lines: list[str],
    number: int,
    delimiter: str,
    header: list[Any] | None,
    reach: int | None,
) -> None:
    """Line `number` opens a quote that is not a real multi-line cell: it is read on its own."""
    text = lines[number - 1].rstrip("\r\n")
    cells: list[Any] = text.split(delimiter)
    index = found.add(cells, number, number)
    # A line that still splits into the header's fields is a whole record with a stray quote (a
    # typed `"华东科技`): it loads with the quote kept as text, since quarantining it would lose a
    # customer over a typo. One that does not split right is damage no reading can undo.
    if header is not None and fits_header(cells, header):
        found.stray_quotes.append(number)
        return
    swallowed = f"lines {number}–{reach}" if reach else "the rest of the file"
    fields = f"a record of the header's {filled_width(header)} fields" if header is not None else "a record"
    found.errors[index] = (
        UNBALANCED_QUOTE,
        f"line {number}: a quote opens a cell that would swallow {swallowed} and is not {fields}; "
        "the line is read on its own and kept as written",
    )
    found.texts[index] = text


def split_json_lines(lines: list[str]) -> tuple[list[dict[str, Any] | None], TextRecords]:
    """Parse JSON Lines into objects (None for a line that is not one), each knowing the lines it covers.

    A line that is not JSON but opens an object that closes on a later line (a pretty-printed
    record) is one record covering those lines; otherwise the line alone is `invalid_json`.
    """
    found = TextRecords()
    objects: list[dict[str, Any] | None] = []
    index = 0
    while index < len(lines):
        line = lines[index].rstrip("\r\n")
        number = index + 1
        index += 1
        if not line.strip():
            objects.append({})
            found.add([], number, number)
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            spread = _object_over_lines(lines, number - 1)
            if spread is not None:
                last, value = spread
                objects.append(value)
                found.add([], number, last)
                index = last
                continue
            at = found.add([], number, number)
            found.errors[at] = ("invalid_json", f"{exc.msg} at column {exc.colno}: {line}")
            objects.append(None)
            continue
        at = found.add([], number, number)
        if not isinstance(value, dict):
            found.errors[at] = ("invalid_json", f"a JSON {type(value).__name__}, not an object: {line}")
            objects.append(None)
            continue
        objects.append(value)
    return objects, found


def _object_over_lines(lines: list[str], first: int) -> tuple[int, dict[str, Any]] | None:
    """(last line number, object) when the lines from index `first` on hold one JSON object."""
    if not lines[first].lstrip().startswith("{"):
        return None
    for index in range(first + 1, min(len(lines), first + JSON_OBJECT_MAX_LINES)):
        line = lines[index]
        # A line starting a new top-level object, or a whole object by itself, is the next record:
        # the line that started this one was broken, not printed over lines.
        if line.startswith("{") or _is_json_object(line):
            return None
        if line.lstrip().startswith("}"):
            try:
                value = json.loads("".join(lines[first : index + 1]))
            except json.JSONDecodeError:
                continue
            return (index + 1, value) if isinstance(value, dict) else None
    return None


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def unaccounted_lines(
    starts: list[int], ends: list[int], last_filled: int, header_line: int
) -> tuple[list[int], list[int]]:
    """(lines after the header no record covers, lines more than one covers); blank lines after the
    last filled line (`last_filled`) need none. Both empty is the accounting invariant of a text file."""
    spans = (
        pl.DataFrame({"first": starts, "last": ends}, schema={"first": pl.Int64, "last": pl.Int64})
        .filter(pl.col("last") > header_line)
        .with_columns(pl.col("first").clip(lower_bound=header_line + 1))
        .sort("first", "last")
        # The furthest line the records before reached: a record starting at or before it overlaps.
        .with_columns(reached=pl.col("last").cum_max().shift(1, fill_value=header_line))
    )
    gaps = pl.int_ranges(pl.col("reached") + 1, pl.col("first"))
    overlaps = pl.int_ranges(pl.col("first"), pl.min_horizontal("last", "reached") + 1)
    found = spans.select(gaps.alias("gaps"), overlaps.alias("overlaps"))
    reached = int(spans["last"].max()) if spans.height else header_line  # type: ignore[arg-type]
    missing = found["gaps"].explode().drop_nulls().to_list() + list(range(reached + 1, last_filled + 1))
    twice = found["overlaps"].explode().drop_nulls().unique().sort().to_list()
    return sorted(missing), twice


def line_ranges(numbers: list[int]) -> str:
    """Line numbers as ranges: `4, 7–9`."""
    parts: list[str] = []
    for number in numbers:
        if parts and number == int(parts[-1].split("–")[-1]) + 1:
            parts[-1] = f"{parts[-1].split('–')[0]}–{number}"
        else:
            parts.append(str(number))
    return ", ".join(parts)


def line_label(numbers: list[int]) -> str:
    """`line 4` or `lines 4, 7–9`."""
    return f"line {numbers[0]}" if len(numbers) == 1 else f"lines {line_ranges(numbers)}"
