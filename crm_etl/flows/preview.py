"""`crm-etl map`: how every file of an inbox would be read, before any run (writes nothing to the database).

Like an import wizard's mapping step: per file and sheet the kind, encoding and
header row, every column with its field, method, confidence and three masked sample
values, the nearest field of each unmapped column, and how many rows cleaning would
quarantine and why. `write_overrides` saves the decisions as an editable file under
`schemas/mappings/` that later runs honour while the export keeps its header.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crm_etl.cleaners.file_names import safe_file_name
from crm_etl.cleaners.masking import mask_value
from crm_etl.cleaners.records import clean_customers, clean_interactions, clean_orders
from crm_etl.flows.extract import FileExtract, SheetOutcome, extract_file
from crm_etl.flows.inbox import discover_inputs
from crm_etl.flows.readers import raw_text
from crm_etl.flows.review import is_review_file
from crm_etl.flows.tasks import cleaning_tables
from crm_etl.schemas import Config

# Columns whose samples are masked as names / phones / e-mails, by the field they map to.
_MASK_AS = {
    "contact_name": "contact_name",
    "participants": "contact_name",
    "mobile": "mobile",
    "phone": "phone",
    "email": "email",
}


@dataclass
class SheetPreview:
    """One sheet as a run would read it."""

    outcome: SheetOutcome
    samples: dict[int, list[Any]] = field(default_factory=dict)  # column (1-based) -> masked samples
    quarantine: dict[str, int] = field(default_factory=dict)  # reason -> rows (before linking)


@dataclass
class FilePreview:
    """One file of the inbox: how it reads, sheet by sheet."""

    source_file: str
    status: str
    error: str | None
    sheets: list[SheetPreview]


def _samples(extract: FileExtract, sheet: SheetOutcome) -> dict[int, list[Any]]:
    """Up to three non-empty masked values per column, from the records' raw cells."""
    frames = [f for f in extract.records.values() if not f.is_empty()]
    samples: dict[int, list[Any]] = {}
    columns = {c["header"]: c for c in sheet.columns}
    for frame in frames:
        part = frame.filter(
            (frame["source_sheet"] == sheet.source_sheet) & frame["extract_reason"].is_null()
        ).head(200)
        for raw in part["raw"].to_list():
            cells = json.loads(raw) if raw else {}
            for header, value in cells.items():
                column = columns.get(header)
                if column is None or value in (None, ""):
                    continue
                bucket = samples.setdefault(column["column"], [])
                masked = mask_value(_MASK_AS.get(column["field"] or "", "text"), raw_text(value))
                if len(bucket) < 3 and masked not in bucket:
                    bucket.append(masked)
    return samples


def preview_inbox(inbox: Path, config: Config, as_of: dt.date | None = None) -> list[FilePreview]:
    """Read and map every file of an inbox as a run would, and clean it to count quarantine reasons."""
    tables = cleaning_tables(config, as_of or dt.date.today())
    cleaners = {"customers": clean_customers, "orders": clean_orders, "interactions": clean_interactions}
    previews: list[FilePreview] = []
    for path in discover_inputs(inbox):
        if is_review_file(path):  # a steward's answers (flows/review.py), not data to map
            continue
        source_file = path.relative_to(inbox).as_posix()
        extract = extract_file(path, source_file, config)
        reasons: dict[tuple[str, str], dict[str, int]] = {}
        for record_type, frame in extract.records.items():
            cleaned = cleaners[record_type](frame, tables)
            rejected = cleaned.filter(cleaned["reject_reason"].is_not_null())
            for (sheet, reason), group in rejected.group_by(["source_sheet", "reject_reason"]):
                reasons.setdefault((str(record_type), str(sheet)), {})[str(reason)] = group.height
        sheets = [
            SheetPreview(
                s,
                _samples(extract, s),
                reasons.get((s.record_type or "", s.source_sheet), {}),
            )
            for s in extract.outcome.sheets
        ]
        previews.append(FilePreview(source_file, extract.outcome.status, extract.outcome.error, sheets))
    return previews


def write_overrides(previews: list[FilePreview], directory: Path) -> list[Path]:
    """Save each mapped sheet's decisions as `directory/<file>.yaml`, one file per input file.

    The file pattern is the file's own path; widen it to a glob (`销售台账_*.xlsx`) to let
    every export of that layout use it. A sheet whose header changes no longer matches its
    fingerprint and is mapped afresh.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file in previews:
        entries = []
        for sheet in file.sheets:
            outcome = sheet.outcome
            if outcome.spec is None or not outcome.columns or outcome.header_fingerprint is None:
                continue
            entries.append(
                {
                    "file_pattern": file.source_file,
                    "sheet": outcome.source_sheet or "*",
                    "header_fingerprint": outcome.header_fingerprint,
                    "header_row": outcome.header_row or 1,
                    "spec": outcome.spec,
                    **({"kind": outcome.kind} if outcome.kind != outcome.record_type else {}),
                    "columns": {c["header"]: c["field"] for c in outcome.columns if c["header"]},
                }
            )
        if not entries:
            continue
        target = directory / safe_file_name(file.source_file, "yaml")
        header = (
            f"# Confirmed column mapping of {file.source_file}, written by `crm-etl map --write` on "
            f"{dt.date.today().isoformat()}.\n# Edit a field (null = the column holds none) or `spec` (the kind "
            "of export); runs honour this while the header row keeps its fingerprint.\n"
        )
        body = yaml.safe_dump({"sheets": entries}, allow_unicode=True, sort_keys=False)
        target.write_text(header + body, encoding="utf-8")
        written.append(target)
    return written
