"""The steward review round trip: returned review files read from the inbox, decisions stored, the queue handed out.

A run reads every returned review file (recognised by its sheet and columns, not its name) instead
of treating it as customer data, stores its answers in `match_decisions` and hands the latest
decision of every pair to the dedupe engine; after publishing it writes the pairs still uncertain
to `reports/<run_id>/review.xlsx`. Pure selection and wording: cleaners/dedupe/review.py,
cleaners/match_review.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import polars as pl
from prefect import get_run_logger

from crm_etl.cleaners.customers import ResolvedCustomers, record_identity
from crm_etl.cleaners.dedupe.review import STORED_SCHEMA, latest_decisions
from crm_etl.cleaners.masking import mask_email, mask_phone
from crm_etl.cleaners.match_review import (
    ANSWER,
    IDENTITY_CELLS,
    INSTRUCTIONS_SHEET,
    LEFT_KEY,
    LEFT_SYSTEM,
    MARKER_HEADERS,
    NO,
    PAIR_ID,
    RECORD_COLUMNS,
    REVIEW_SHEET,
    RIGHT_KEY,
    RIGHT_SYSTEM,
    YES,
    check_returned_rows,
    match_review_rows,
)
from crm_etl.flows.extract import _sha256
from crm_etl.flows.handouts import _Sheet
from crm_etl.flows.inbox import discover_inputs
from crm_etl.flows.load import StagedDatabase, arrow_view
from crm_etl.schemas import Config

log = logging.getLogger(__name__)

REVIEW_FILE = "review.xlsx"
# The review file is found by its header row, written as row 2 under a title; a few rows of slack.
_HEADER_SCAN_ROWS = 5
_RETURNED_SCHEMA: dict[str, Any] = {
    **dict.fromkeys(IDENTITY_CELLS.values(), pl.String),
    "answer": pl.String,
    "reviewer_row": pl.Int64,
    "raw": pl.String,
}
_ANSWERED_SCHEMA: dict[str, Any] = {
    "pair_id": pl.String,
    "left_source_system": pl.String,
    "left_source_key": pl.String,
    "right_source_system": pl.String,
    "right_source_key": pl.String,
    "decision": pl.String,
    "answer": pl.String,
    "reviewer_file": pl.String,
    "reviewer_sheet": pl.String,
    "reviewer_row": pl.Int64,
    "reviewer_sha256": pl.String,
    "decided_at": pl.Datetime(time_zone="UTC"),
}
MATCH_REVIEW_COLUMNS = [
    "run_id",
    "pair_id",
    "status",
    "queue_rank",
    "match_probability",
    "uncertainty",
    "decided_by",
    "same_customer",
    "evidence",
    "levels",
    "decision",
    "decision_source",
    *[f"{side}_{c}" for side in ("left", "right") for c in ("source_system", "source_key")],
    *[f"{side}_{c}" for side in ("left", "right") for c in ("source_file", "source_sheet", "source_row")],
    "left_customer_id",
    "right_customer_id",
]


@dataclass
class ReturnedReviews:
    """The review files found in the inbox: their answered rows and what could not be used."""

    answered: pl.DataFrame
    # Rows that cannot become a decision, with reject_reason / reject_detail and their cells (raw).
    rejected: pl.DataFrame
    files: list[dict[str, Any]] = field(
        default_factory=list
    )  # file, sha256, size, rows, answered, blank, invalid (unreadable rows, quarantined)

    @property
    def paths(self) -> set[str]:
        return {f["file"] for f in self.files}


def _header_row(sheet: Any) -> tuple[int, dict[str, int]] | None:
    for number, row in enumerate(sheet.iter_rows(max_row=_HEADER_SCAN_ROWS, values_only=True), start=1):
        columns = {str(v).strip(): i for i, v in enumerate(row) if v is not None}
        if all(h in columns for h in MARKER_HEADERS):
            return number, columns
    return None


def is_review_file(path: Path) -> bool:
    """Whether `path` is a review file crm-etl wrote (sheet 配对审核 with its pair and answer columns)."""
    if path.suffix.lower() not in {".xlsx", ".xlsm"} or path.name.startswith("~$"):
        return False
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook openpyxl can open: the data readers will say why
        return False
    try:
        return REVIEW_SHEET in book.sheetnames and _header_row(book[REVIEW_SHEET]) is not None
    finally:
        book.close()


def read_review_file(path: Path, source_file: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """One returned review file: its answered rows (是/否), the rows that cannot be read (quarantine
    rows: review_answer_invalid, review_row_damaged, with their cells) and its counts."""
    sha256 = _sha256(path)
    stat = path.stat()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows: list[dict[str, Any]] = []
    try:
        sheet = book[REVIEW_SHEET]
        found = _header_row(sheet)
        assert found is not None  # only called on files is_review_file recognised
        header_row, columns = found
        for number, values in enumerate(
            sheet.iter_rows(min_row=header_row + 1, values_only=True), header_row + 1
        ):
            cells = {
                name: values[i] for name, i in columns.items() if i < len(values) and values[i] is not None
            }
            if not cells:
                continue  # an empty row of the sheet
            text = {column: _text(cells.get(header)) for header, column in IDENTITY_CELLS.items()}
            rows.append(
                text
                | {
                    "answer": _text(cells.get(ANSWER)),
                    "reviewer_row": number,
                    "raw": json.dumps(cells, ensure_ascii=False, default=str),
                }
            )
    finally:
        book.close()
    checked = check_returned_rows(pl.DataFrame(rows, schema=_RETURNED_SCHEMA))
    located = checked.with_columns(
        pl.lit(source_file).alias("reviewer_file"),
        pl.lit(REVIEW_SHEET).alias("reviewer_sheet"),
        pl.lit(sha256).alias("reviewer_sha256"),
        pl.lit(dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)).alias("decided_at"),
    )
    answered = located.filter(pl.col("decision").is_not_null()).select(list(_ANSWERED_SCHEMA))
    rejected = located.filter(pl.col("reject_reason").is_not_null())
    for row in rejected.iter_rows(named=True):
        log.warning("%s row %d: %s; not read", source_file, row["reviewer_row"], row["reject_detail"])
    counts = {
        "file": source_file,
        "sha256": sha256,
        "size_bytes": stat.st_size,
        "rows": checked.height,
        "answered": answered.height,
        "blank": checked.filter(pl.col("decision").is_null() & pl.col("reject_reason").is_null()).height,
        "invalid": rejected.height,
    }
    return answered.cast(_ANSWERED_SCHEMA), rejected, counts  # type: ignore[arg-type]


def _text(value: Any) -> str | None:
    return None if value is None or not str(value).strip() else str(value).strip()


def review_files(inbox: Path) -> list[Path]:
    """The returned review files in the inbox (where the data readers find their files)."""
    return [p for p in discover_inputs(inbox) if is_review_file(p)]


def read_reviews(inbox: Path) -> ReturnedReviews:
    """Read the answers of every returned review file in the inbox."""
    frames, rejected, files = [], [], []
    for path in review_files(inbox):
        answered, unread, counts = read_review_file(path, path.relative_to(inbox).as_posix())
        frames.append(answered)
        rejected.append(unread)
        files.append(counts)
        get_run_logger().info(
            "review file %s: %d answered, %d blank, %d invalid",
            counts["file"],
            counts["answered"],
            counts["blank"],
            counts["invalid"],
        )
    answered = pl.concat(frames) if frames else pl.DataFrame(schema=_ANSWERED_SCHEMA)
    unread = pl.concat(rejected) if rejected else pl.DataFrame()
    return ReturnedReviews(answered, unread, files)


def _as_constraints(decisions: pl.DataFrame) -> pl.DataFrame:
    """match_decisions rows as the engine's identity decisions (STORED_SCHEMA), with their reason."""
    return decisions.select(
        record_identity(pl.col("left_source_system"), pl.col("left_source_key")).alias("left_identity"),
        record_identity(pl.col("right_source_system"), pl.col("right_source_key")).alias("right_identity"),
        "decision",
        pl.format("steward: {} row {}", "reviewer_file", "reviewer_row").alias("reason"),
        pl.col("decided_at").dt.convert_time_zone("UTC"),
    ).cast(STORED_SCHEMA)  # type: ignore[arg-type]


def steward_decisions(staged: StagedDatabase, reviews: ReturnedReviews) -> pl.DataFrame:
    """The latest decision per pair: stored ones (every earlier run) and the answers read now."""
    stored = staged.query(
        "SELECT * EXCLUDE (run_id) FROM match_decisions ORDER BY decided_at, run_id, reviewer_file, reviewer_row"
    )
    history = pl.concat([_as_constraints(stored), _as_constraints(reviews.answered)])
    return latest_decisions(history)


def stage_review(
    staged: StagedDatabase, run_id: str, resolved: ResolvedCustomers, config: Config, reviews: ReturnedReviews
) -> dict[str, Any]:
    """Store the answers read, this run's review queue and the review files' accounting (in the run's transaction)."""
    if not reviews.answered.is_empty():
        staged.insert("match_decisions", reviews.answered.with_columns(pl.lit(run_id).alias("run_id")))
    rows = match_review_rows(resolved.linkage.pairs, resolved.records, config.dedupe, run_id)
    staged.insert("match_review", rows.select(MATCH_REVIEW_COLUMNS))
    if reviews.files:
        staged.insert(
            "run_files",
            pl.DataFrame(
                [
                    {
                        "run_id": run_id,
                        "source_file": f["file"],
                        "source_sheet": REVIEW_SHEET,
                        "sha256": f["sha256"],
                        "size_bytes": f["size_bytes"],
                        "status": "review",
                        "source_spec": "review",
                        "record_type": "review",
                        "rows_read": f["answered"],
                        "error": f"{f['invalid']} rows could not be read (quarantine)"
                        if f["invalid"]
                        else None,
                    }
                    for f in reviews.files
                ]
            ),
        )
    quarantined = _quarantine_rows(reviews.rejected, run_id)
    by_reason: dict[str, int] = {}
    if not quarantined.is_empty():
        staged.insert("quarantine", quarantined)
        by_reason = dict(quarantined.group_by("reason").len().iter_rows())
    _account_rows(staged, pl.concat([_lineage_of(reviews.answered), _lineage_of(reviews.rejected)]))
    decided = rows.filter(pl.col("status") == "decided")
    return {
        "files": [f["file"] for f in reviews.files],
        "decisions_read": reviews.answered.height,
        "answers_blank": sum(f["blank"] for f in reviews.files),
        "answers_invalid": sum(f["invalid"] for f in reviews.files),
        "decisions_applied": decided.height,
        "must_link_applied": decided.filter(pl.col("decision") == "must_link").height,
        "cannot_link_applied": decided.filter(pl.col("decision") == "cannot_link").height,
        "pairs_queued": rows.height - decided.height,
        "quarantined_by_reason": by_reason,
    }


def counted_with(counts: dict[str, Any], quarantined_by_reason: dict[str, int]) -> dict[str, Any]:
    """The stage's counts with the review rows this run quarantined added."""
    by_reason = dict(counts["quarantined_by_reason"])
    for reason, n in quarantined_by_reason.items():
        by_reason[reason] = by_reason.get(reason, 0) + n
    ranked = dict(sorted(by_reason.items(), key=lambda item: (-item[1], item[0])))
    added = sum(quarantined_by_reason.values())
    return counts | {"quarantined": counts["quarantined"] + added, "quarantined_by_reason": ranked}


def _lineage_of(rows: pl.DataFrame) -> pl.DataFrame:
    """Where returned review rows sit, as the accounting names input rows."""
    if rows.is_empty():
        return pl.DataFrame(
            schema={"source_file": pl.String, "source_sheet": pl.String, "source_row": pl.Int64}
        )
    return rows.select(
        pl.col("reviewer_file").alias("source_file"),
        pl.col("reviewer_sheet").alias("source_sheet"),
        pl.col("reviewer_row").cast(pl.Int64).alias("source_row"),
    )


def _quarantine_rows(rejected: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Quarantine rows of the returned review rows that cannot become a decision, with their cells."""
    if rejected.is_empty():
        return rejected
    return rejected.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit("review").alias("record_type"),
        pl.lit("review").alias("source_system"),
        *_lineage_of(rejected).get_columns(),
        pl.col("reject_reason").alias("reason"),
        pl.col("reject_detail").alias("detail"),
        "raw",
    )


def _account_rows(staged: StagedDatabase, lineage: pl.DataFrame) -> None:
    """Add returned review rows to the rows this run read (`_rows_read`): each must be placed, in
    match_decisions (answered) or quarantine (unreadable)."""
    if lineage.is_empty():
        return
    read = staged.query("SELECT source_file, source_sheet, source_row FROM _rows_read")
    staged.connection.register("_rows_read", arrow_view(pl.concat([read, lineage.cast(read.schema)])))


_IDENTITY_COLUMNS = ("left_source_system", "left_source_key", "right_source_system", "right_source_key")
_PROBABILITY = "匹配概率"
_WHY = "为何待审"
_EVIDENCE = "逐项比对"
_MERGED = "目前已合并"


def _lineage(prefix: str) -> pl.Expr:
    sheet = pl.col(f"{prefix}_source_sheet")
    where = pl.when(sheet != "").then(pl.lit(" · ") + sheet).otherwise(pl.lit(""))
    return (
        pl.col(f"{prefix}_source_file")
        + where
        + pl.lit(" · 第")
        + pl.col(f"{prefix}_source_row").cast(pl.String)
        + pl.lit("行")
    )


def _why(upper: float, lower: float) -> pl.Expr:
    band = f"模型概率介于 {lower:g} 与 {upper:g} 之间，未合并"
    return (
        pl.when(pl.col("decided_by") == "band")
        .then(pl.lit(band))
        .otherwise(pl.lit("模型认为相同，但规则「") + pl.col("decided_by") + pl.lit("」要求更多佐证，未合并"))
    )


INSTRUCTIONS = [
    "配对审核：下列每一行是两条客户记录（A 与 B），系统无法确定它们是否为同一客户。",
    "请在「是否同一客户」列选择：是 = 同一客户（以后总是合并），否 = 不同客户（以后永不合并）；拿不准可留空。",
    "其他单元格只读。「逐项比对」按完整号码比较：手机、邮箱、座机为保护隐私只显示部分号码。",
    "填好后把文件放回收件箱（文件名可改）。下次运行读取答案，记入 match_decisions，本次及以后每次运行都遵守；",
    "已回答的配对不会再出现在审核表中。同一配对回答多次时，以最后保存的文件为准。",
    "隐藏列（配对编号、来源系统、记录键）用于读回答案，请勿修改或删除。",
]


def write_review_file(con: duckdb.DuckDBPyConnection, path: Path, run_id: str, config: Config) -> Path | None:
    """reports/<run_id>/review.xlsx: the queued pairs side by side, only the 是/否 column editable."""
    queued = pl.from_arrow(
        con.sql("SELECT * FROM match_review WHERE status = 'queued' ORDER BY queue_rank").arrow().read_all()
    )
    assert isinstance(queued, pl.DataFrame)
    if queued.is_empty():
        return None
    lineage = ["source_file", "source_sheet", "source_row"]
    details = _record_details(con)
    rows = (
        queued.join(details.rename(lambda c: f"left_{c}"), on=[f"left_{c}" for c in lineage], how="left")
        .join(details.rename(lambda c: f"right_{c}"), on=[f"right_{c}" for c in lineage], how="left")
        .with_columns(
            _lineage("left").alias("left_lineage"),
            _lineage("right").alias("right_lineage"),
            _why(config.dedupe.review.upper, config.dedupe.review.lower).alias("why"),
        )
        .sort("queue_rank")
    )
    visible = ["序号", ANSWER, _PROBABILITY, _MERGED, _WHY, _EVIDENCE]
    record_headers = [f"{side}{label}" for label in RECORD_COLUMNS.values() for side in ("A", "B")]
    hidden = [PAIR_ID, LEFT_SYSTEM, LEFT_KEY, RIGHT_SYSTEM, RIGHT_KEY]
    headers = visible + record_headers + hidden
    sheet = _Sheet(
        path,
        REVIEW_SHEET,
        f"配对审核 · 运行 {run_id} · 共 {rows.height} 对 · 请只在「{ANSWER}」列选择 {YES} 或 {NO}，填好后放回收件箱（说明见第二页）",
        headers,
    )
    for record in rows.iter_rows(named=True):
        values: list[Any] = [
            record["queue_rank"],
            None,
            round(record["match_probability"], 3),
            YES if record["same_customer"] else NO,
            record["why"],
            record["evidence"],
        ]
        for column in RECORD_COLUMNS:
            values += [_shown(column, record[f"{side}_{column}"]) for side in ("left", "right")]
        values += [record[c] for c in ("pair_id", *_IDENTITY_COLUMNS)]
        sheet.write_row(values, to_fill={1}, formats={2: "0.000"})
    sheet.choices(1, [YES, NO])
    sheet.ws.set_column(1, 1, 14)
    sheet.ws.set_column(4, 5, 40)
    first_hidden = len(headers) - len(hidden)
    sheet.ws.set_column(first_hidden, len(headers) - 1, None, None, {"hidden": True})
    notes = sheet.book.add_worksheet(INSTRUCTIONS_SHEET)
    notes.set_column(0, 0, 110)
    for number, line in enumerate(INSTRUCTIONS):
        notes.write_string(number, 0, line)
    sheet.close(protect=True)
    return path


def _shown(column: str, value: Any) -> Any:
    """Phones and e-mails masked as the report masks them (the evidence compares the full values)."""
    if column in {"mobile", "phone"}:
        return mask_phone(value)
    if column == "email":
        return mask_email(value)
    return value


def _record_details(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The shown fields of the records on either side of a queued pair (the others are never joined)."""
    frame = pl.from_arrow(
        con.sql(
            """WITH queued AS (
                   SELECT left_source_file AS f, left_source_sheet AS s, left_source_row AS r
                   FROM match_review WHERE status = 'queued'
                   UNION SELECT right_source_file, right_source_sheet, right_source_row
                   FROM match_review WHERE status = 'queued'
               )
               SELECT source_file, source_sheet, source_row,
                      record->>'customer_name' AS customer_name, record->>'contact_name' AS contact_name,
                      record->>'mobile' AS mobile, record->>'email' AS email, record->>'phone' AS phone,
                      record->>'city' AS city, record->>'industry' AS industry
               FROM customer_sources
               SEMI JOIN queued ON source_file = f AND source_sheet = s AND source_row = r"""
        )
        .arrow()
        .read_all()
    )
    assert isinstance(frame, pl.DataFrame)
    return frame


def review_lines(review: dict[str, Any]) -> list[str]:
    """The run summary's lines about the steward review (empty when there was nothing to say)."""
    lines = []
    if review.get("files"):
        lines.append(
            f"review files read: {', '.join(review['files'])}: {review['decisions_read']} decisions read"
            f" ({review['answers_blank']} left blank, {review['answers_invalid']} unreadable, in quarantine)"
        )
    if review.get("decisions_applied"):
        lines.append(
            f"steward decisions applied: {review['decisions_applied']} pairs"
            f" ({review['must_link_applied']} joined, {review['cannot_link_applied']} kept apart)"
        )
    if review.get("review_file"):
        lines.append(f"pairs to review: {review['pairs_queued']} in {review['review_file']}")
    return lines
