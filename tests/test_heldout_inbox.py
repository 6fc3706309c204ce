"""The held-out header spellings and the sample inbox rewritten with them (tests/heldout_inbox.py)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
import yaml

from tests.heldout_inbox import (
    HELDOUT_CSV,
    SAMPLE_TABLES,
    SAMPLES,
    candidates,
    file_kind,
    load_heldout,
    table_key,
    write_heldout_inbox,
)
from tests.samples_truth import DATA_ROW_COUNTS

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "crm_etl" / "schemas"
Inbox = tuple[Path, dict[str, dict[str, str]]]
ORIGINS = {
    "ledger",
    "zoho",
    "salesforce",
    "hubspot",
    "wukong",
    "fxiaoke",
    "xiaoshouyi",
    "wecom",
    "webform",
    "tradeshow",
    "erp",
}


def schema_texts() -> dict[Path, str]:
    """Every text file under schemas/ but the mapping rules, as grep -F would search it.

    The development split's words may stand inside schemas/mapping.yaml's patterns (the rules
    were written against it); tests/cleaners/mapping/test_heldout_headers.py holds the test split
    to the strict rule.
    """
    texts = {}
    for path in sorted(SCHEMAS.rglob("*")):
        if (
            path.is_file()
            and "__pycache__" not in path.parts
            and path.name not in {"mapping.yaml", "garbage_rows.yaml"}
        ):
            texts[path] = path.read_text(encoding="utf-8")
    return texts


def schema_aliases() -> set[str]:
    """Every alias of schemas/sources/*.yaml, lower-cased."""
    aliases = set()
    for path in SCHEMAS.glob("sources/*.yaml"):
        for names in yaml.safe_load(path.read_text(encoding="utf-8"))["aliases"].values():
            aliases |= {str(name).strip().lower() for name in names}
    return aliases


def not_held_out(headers: set[str]) -> dict[str, str]:
    """Headers that schemas/ already knows, and where: a verbatim substring or an alias."""
    texts = schema_texts()
    aliases = schema_aliases()
    found = {}
    for header in sorted(headers):
        files = [path.relative_to(REPO).as_posix() for path, text in texts.items() if header in text]
        if files:
            found[header] = f"appears in {files}"
        elif header.strip().lower() in aliases:
            found[header] = "is an alias once lower-cased"
    return found


# --- the held-out file ---------------------------------------------------------------------


def test_heldout_rows_name_canonical_fields() -> None:
    record_types = yaml.safe_load((SCHEMAS / "customer.yaml").read_text(encoding="utf-8"))["record_types"]
    rows = load_heldout()
    assert len(rows) >= 260
    with HELDOUT_CSV.open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == ["record_type", "header", "field", "origin"]
    wrong = [
        row
        for row in rows
        if row.record_type not in record_types
        or (row.field != "none" and row.field not in record_types[row.record_type])
        or row.origin not in ORIGINS
        or row.header != row.header.strip()
        or not row.header
    ]
    assert wrong == []
    repeated = Counter((row.record_type, row.header.lower()) for row in rows)
    assert [key for key, n in repeated.items() if n > 1] == []
    share_none = sum(row.field == "none" for row in rows) / len(rows)
    assert 0.05 <= share_none <= 0.15


def test_heldout_headers_are_unknown_to_schemas() -> None:
    assert not_held_out({row.header for row in load_heldout()}) == {}


# --- the rewritten inbox -------------------------------------------------------------------


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Inbox:
    target = tmp_path_factory.mktemp("heldout") / "inbox"
    return target, write_heldout_inbox(target)


def tables() -> list[tuple[str, str]]:
    return list(SAMPLE_TABLES)


def sheet_rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def header_index(rows: list[tuple[object, ...]], headers: set[str]) -> int:
    """0-based index of the row holding exactly `headers` (the samples' header row)."""
    return next(i for i, row in enumerate(rows) if {v for v in row if v is not None} == headers)


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("gb18030"), newline="")))


def jsonl_records(path: Path) -> list[list[tuple[str, object]] | str]:
    """Each line's (key, value) pairs in order; a line that is not JSON as its text."""
    records: list[list[tuple[str, object]] | str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(list(json.loads(line).items()))
        except json.JSONDecodeError:
            records.append(line)
    return records


def headers_of(inbox: Path, file: str, sheet: str) -> list[str]:
    """The header cells of one table of `inbox`, in file order."""
    path = inbox / file
    kind = file_kind(file)
    if kind == "xlsx":
        original = sheet_rows(SAMPLES / file, sheet)
        at = header_index(original, set(SAMPLE_TABLES[(file, sheet)][1]))
        return [str(v) for v in sheet_rows(path, sheet)[at] if v is not None]
    if kind == "csv":
        return csv_rows(path)[0]
    keys: dict[str, None] = {}
    for record in jsonl_records(path):
        if not isinstance(record, str):
            keys |= dict.fromkeys(k for k, _ in record)
    return list(keys)


def test_sample_headers_are_all_described() -> None:
    for file, sheet in tables():
        assert set(headers_of(SAMPLES, file, sheet)) == set(SAMPLE_TABLES[(file, sheet)][1]), (file, sheet)


def test_every_header_with_a_heldout_spelling_is_rewritten(inbox: Inbox) -> None:
    target, maps = inbox
    rows = load_heldout()
    meaning = {(row.record_type, row.header): row.field for row in rows}
    assert set(maps) == {table_key(file, sheet) for file, sheet in tables()}
    for file, sheet in tables():
        record_type, fields = SAMPLE_TABLES[(file, sheet)]
        plan = maps[table_key(file, sheet)]
        old_headers = headers_of(SAMPLES, file, sheet)
        assert headers_of(target, file, sheet) == [plan.get(h, h) for h in old_headers]
        for old in old_headers:
            field = fields[old]
            if field is None or not candidates(rows, record_type, field, file_kind(file)):
                assert old not in plan
                continue
            assert old in plan, (file, sheet, old)
            new = plan[old]
            assert new != old
            assert meaning.get((record_type, new)) == field, (file, sheet, old, new)
        new_headers = list(plan.values())
        assert len(set(new_headers)) == len(new_headers)


def test_no_new_header_is_in_schemas(inbox: Inbox) -> None:
    _, maps = inbox
    assert not_held_out({new for plan in maps.values() for new in plan.values()}) == {}


def test_data_cells_are_unchanged(inbox: Inbox) -> None:
    target, maps = inbox
    for file, sheet in tables():
        plan = maps[table_key(file, sheet)]
        before, after = SAMPLES / file, target / file
        kind = file_kind(file)
        if kind == "xlsx":
            old, new = sheet_rows(before, sheet), sheet_rows(after, sheet)
            at = header_index(old, set(SAMPLE_TABLES[(file, sheet)][1]))
            assert new[at] == tuple(plan.get(v, v) if isinstance(v, str) else v for v in old[at])
            assert old[:at] + old[at + 1 :] == new[:at] + new[at + 1 :], (file, sheet)
            old_sheet, new_sheet = openpyxl.load_workbook(before)[sheet], openpyxl.load_workbook(after)[sheet]
            assert old_sheet.merged_cells.ranges == new_sheet.merged_cells.ranges
            assert [c.number_format for r in old_sheet for c in r] == [
                c.number_format for r in new_sheet for c in r
            ]
        elif kind == "csv":
            assert csv_rows(before)[1:] == csv_rows(after)[1:]
            first_line = before.read_bytes().index(b"\n") + 1
            assert (
                before.read_bytes()[first_line:] == after.read_bytes()[after.read_bytes().index(b"\n") + 1 :]
            )
        else:
            for old_record, new_record in zip(jsonl_records(before), jsonl_records(after), strict=True):
                if isinstance(old_record, str):
                    assert isinstance(new_record, str)
                    renamed = old_record
                    for old_key, new_key in plan.items():
                        renamed = renamed.replace(f'"{old_key}":', f'"{new_key}":')
                    assert new_record == renamed
                else:
                    assert new_record == [(plan.get(k, k), v) for k, v in old_record]


def test_sheets_files_and_row_counts_are_unchanged(inbox: Inbox) -> None:
    target, _ = inbox
    files = sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file())
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == files
    for file in files:
        if file_kind(file) == "xlsx":
            assert (
                openpyxl.load_workbook(target / file).sheetnames
                == openpyxl.load_workbook(SAMPLES / file).sheetnames
            )
    for file, sheet in tables():
        kind = file_kind(file)
        if kind == "xlsx":
            old, new = sheet_rows(SAMPLES / file, sheet), sheet_rows(target / file, sheet)
            count = len(new) - header_index(old, set(SAMPLE_TABLES[(file, sheet)][1])) - 1
            assert len(new) == len(old)
        elif kind == "csv":
            count = len(csv_rows(target / file)) - 1
            assert count == len(csv_rows(SAMPLES / file)) - 1
        else:
            count = len(jsonl_records(target / file))
            assert count == len(jsonl_records(SAMPLES / file))
        assert count == DATA_ROW_COUNTS[(file, sheet)], (file, sheet)
