"""What an export says about itself: the tables' and columns' comments, in Parquet metadata and a README."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

README = "README.md"
# Parquet key-value metadata keys (the footer's, which DuckDB's parquet_kv_metadata() and pyarrow read);
# each column's comment is also its Arrow field's metadata under COMMENT.
TABLE_COMMENT = "comment"
COMMENT = "comment"
_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class TableDoc:
    """A table's or view's comment and its columns (name, type, comment) in order."""

    name: str
    comment: str | None
    columns: list[tuple[str, str, str | None]] = field(default_factory=list)


def table_docs(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> dict[str, TableDoc]:
    """The comments schemas/tables.sql and schemas/views.sql put on each table or view and its columns."""
    wanted = list(names)
    comments = dict(
        con.execute(
            """SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main' AND database_name = current_database()
               UNION ALL
               SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal
                 AND database_name = current_database()"""
        ).fetchall()
    )
    columns: dict[str, list[tuple[str, str, str | None]]] = {n: [] for n in wanted}
    for table, column, kind, comment in con.execute(
        """SELECT table_name, column_name, data_type, comment FROM duckdb_columns()
           WHERE schema_name = 'main' AND database_name = current_database() AND list_contains(?, table_name)
           ORDER BY table_name, column_index""",
        [wanted],
    ).fetchall():
        columns[table].append((column, kind, comment))
    return {n: TableDoc(n, comments.get(n), columns[n]) for n in wanted}


def write_parquet(con: duckdb.DuckDBPyConnection, sql: str, path: Path, doc: TableDoc) -> int:
    """Stream a query's rows into a zstd Parquet file whose metadata carries the table's and columns' comments.

    Returns the rows written. JSON columns stay JSON (Arrow's json extension), as DuckDB's own COPY keeps them.
    """
    kinds = {name: kind for name, kind, _ in doc.columns}
    notes = {name: comment for name, _, comment in doc.columns if comment}
    reader = con.sql(sql).to_arrow_reader(_BATCH_ROWS)
    fields = [
        pa.field(
            f.name,
            pa.json_(f.type) if kinds.get(f.name) == "JSON" and pa.types.is_string(f.type) else f.type,
            f.nullable,
            {COMMENT: notes[f.name]} if f.name in notes else None,
        )
        for f in reader.schema
    ]
    metadata = {TABLE_COMMENT: doc.comment} if doc.comment else {}
    schema = pa.schema(fields, metadata=metadata)
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in reader:
            columns = [
                pa.ExtensionArray.from_storage(f.type, column)
                if isinstance(f.type, pa.ExtensionType)
                else column
                for f, column in zip(fields, batch.columns, strict=True)
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
            rows += batch.num_rows
    return rows


def _cell(text: str | None) -> str:
    """Text in a Markdown table cell: one line, `|` escaped."""
    return " ".join((text or "").split()).replace("|", "\\|")


def readme_text(
    files: Sequence[tuple[str, int, TableDoc | None]], heading: str, notes: Sequence[str] = ()
) -> str:
    """A README of the exported files: per file its rows, its table's comment and each column with its comment."""
    lines = [f"# {heading}", ""]
    if notes:
        lines += [*notes, ""]
    lines += ["| file | rows | table |", "|---|---:|---|"]
    for name, rows, doc in files:
        lines.append(f"| [{_cell(name)}]({name}) | {rows:,} | {_cell(doc.comment if doc else '')} |")
    for name, _, doc in files:
        if doc is None or not doc.columns:
            continue
        lines += [
            "",
            f"## {name}",
            "",
            _cell(doc.comment) or "",
            "",
            "| column | type | comment |",
            "|---|---|---|",
        ]
        lines += [f"| {_cell(c)} | {_cell(k)} | {_cell(m)} |" for c, k, m in doc.columns]
    lines += ["", f"Written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `crm-etl export`.", ""]
    return "\n".join(lines)
