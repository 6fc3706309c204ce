"""Export the tables and views of a published DuckDB file as Parquet, CSV or XLSX files for BI tools.

With owners, only their customers and what hangs off them (a rep's handout); every export leaves an
audit line in the file (flows/export_audit.py) and a README of its files beside them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
from duckdb.func import PythonUDFType
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from crm_etl.cleaners.file_names import is_plain_file_name, name_hash, safe_file_name, slug
from crm_etl.cleaners.masking import mask_text
from crm_etl.cleaners.spreadsheet import (
    XLSX_MAX_CELL,
    looks_like_formula,
    neutralise_formulas,
    truncate_cell,
    truncate_cells,
)
from crm_etl.cleaners.worklists import UNASSIGNED
from crm_etl.flows.export_audit import ExportAudit, record_export
from crm_etl.flows.export_docs import README, TableDoc, readme_text, table_docs, write_parquet
from crm_etl.flows.lock import RunLock

FORMATS = ("parquet", "csv", "xlsx")
# Excel's limits: rows per sheet (the header takes one); a cell's characters are XLSX_MAX_CELL.
# CSV has no cell limit and Parquet's (2 GiB a value) is beyond any DuckDB text: both keep every value whole.
XLSX_MAX_ROWS = 1_048_575
# Characters Excel refuses in a sheet name (which also has at most 31 and cannot start or end with ').
_SHEET_NAME_UNSAFE = re.compile(r"[\\*?:/\[\]]")


class ExportError(RuntimeError):
    """The export could not be written (unknown table, a limit of the format, a write error)."""


class UnknownTableError(ExportError):
    """A table or view asked for is not in the file (or cannot be scoped to an owner)."""


# What a rep's handout holds: their customers and the rows that hang off them, by customer_id.
# Nothing else is scoped (customer_sources and quarantine carry raw cells of other reps' rows).
OWNER_TABLES: dict[str, str] = {
    "customers": "{owned}",
    "contacts": "customer_id IN (SELECT customer_id FROM customers WHERE {owned})",
    "interactions": "customer_id IN (SELECT customer_id FROM customers WHERE {owned})",
    "orders": "customer_id IN (SELECT customer_id FROM customers WHERE {owned})",
}
# The worklist (补录清单) in an owner export, always xlsx (flows/handouts.py).
WORKLIST = "worklist"
WORKLIST_DOC = TableDoc(
    "worklist",
    "补录清单: the rep's customers with a value missing or to correct; fill in the yellow cells and "
    "put the file back into the inbox",
)
MASKABLE = ("VARCHAR", "VARCHAR[]")


@dataclass(frozen=True)
class ExportedFile:
    """One file written, and how many of its cells were cut to the format's limit (XLSX only)."""

    path: Path
    cells_truncated: int = 0


def export_file_name(name: str, fmt: str) -> str:
    """`customers.parquet` for a plain table name; any other name slugged with a hash (cleaners/file_names.py)."""
    return f"{name}.{fmt}" if is_plain_file_name(name, fmt) else safe_file_name(name, fmt)


def sheet_name(name: str) -> str:
    """A table's name as an Excel sheet name: no `\\ * ? : / [ ]`, no `'` at the ends, at most 31 characters."""
    return _SHEET_NAME_UNSAFE.sub("_", name)[:31].strip("'") or "_"


def exportable(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables, then the views, of the main schema, by name."""
    rows = con.execute(
        """SELECT table_name, table_type FROM information_schema.tables
           WHERE table_schema = 'main' AND table_catalog = current_database()
           ORDER BY table_type = 'VIEW', table_name"""
    ).fetchall()
    return [name for name, _ in rows]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Scope:
    """Which rows an export takes (all, or those of some owners' customers) and which columns it masks."""

    owners: tuple[str, ...] | None = None
    masked_columns: tuple[str, ...] = ()

    def where(self, name: str) -> str:
        if self.owners is None:
            return ""
        named = [o for o in self.owners if o != UNASSIGNED]
        owned = [f"owner IN ({', '.join(map(_literal, named))})"] if named else []
        if UNASSIGNED in self.owners:  # the customers nobody owns yet, as the worklists name them
            owned.append("coalesce(owner, '') = ''")
        return " WHERE " + OWNER_TABLES[name].format(owned="(" + " OR ".join(owned) + ")")

    def worklist_owners(self) -> list[str | None] | None:
        """The owners as the worklists name them (None: the customers with no owner)."""
        if self.owners is None:
            return None
        return [None if o == UNASSIGNED else o for o in self.owners]

    def masked(self, column: str, kind: str) -> str:
        """A masked column's expression: the phones and e-mails in its text (or in each list item) masked."""
        ident = _ident(column)
        if kind == "VARCHAR":
            return f"mask_personal({ident})"
        return f"list_transform({ident}, lambda v: mask_personal(v))"

    def column(self, column: str, kind: str) -> str:
        """A column's SELECT expression: as stored, or masked when configured."""
        ident = _ident(column)
        return f"{self.masked(column, kind)} AS {ident}" if column in self.masked_columns else ident


def _mask_values(values: pa.Array) -> pa.Array:
    """mask_text over a column's distinct values (a DuckDB vectorised function)."""
    series = pl.Series("v", values, dtype=pl.String)
    distinct = series.drop_nulls().unique().to_list()
    masked = series.replace_strict({v: mask_text(v) for v in distinct}, default=None, return_dtype=pl.String)
    return masked.to_arrow()


def _select(con: duckdb.DuckDBPyConnection, name: str, scope: Scope) -> str:
    """SELECT of a table's rows in scope, every column as stored but the masked ones."""
    kinds = {str(c): str(k) for c, k, *_ in con.execute(f"DESCRIBE {_ident(name)}").fetchall()}
    columns = ", ".join(scope.column(c, k) for c, k in kinds.items())
    return f"SELECT {columns} FROM {_ident(name)}{scope.where(name)}"


def _text_select(
    con: duckdb.DuckDBPyConnection, name: str, for_xlsx: bool, scope: Scope | None = None
) -> str:
    """SELECT of a table with nested and JSON values as JSON text (and, for XLSX, UTC timestamps)."""
    scope = scope or Scope()
    columns = []
    for column, kind, *_ in con.execute(f"DESCRIBE {_ident(name)}").fetchall():
        kind = str(kind)
        ident = _ident(column)
        if column in scope.masked_columns:
            masked = scope.masked(column, kind)
            columns.append(f"{masked if kind == 'VARCHAR' else f'to_json({masked})::VARCHAR'} AS {ident}")
        elif kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION")):
            columns.append(f"to_json({ident})::VARCHAR AS {ident}")
        elif kind == "JSON":
            columns.append(f"{ident}::VARCHAR AS {ident}")
        elif for_xlsx and kind in ("TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE"):
            columns.append(f"timezone('UTC', {ident}) AS {ident}")
        else:
            columns.append(ident)
    return f"SELECT {', '.join(columns)} FROM {_ident(name)}{scope.where(name)}"


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path next to `path` that replaces it only once written completely."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _write_csv(con: duckdb.DuckDBPyConnection, name: str, path: Path, scope: Scope) -> int:
    frame = _frame(con, _text_select(con, name, for_xlsx=False, scope=scope))
    frame = frame.with_columns(
        neutralise_formulas(frame[c]) for c in frame.columns if frame.schema[c] == pl.String
    )
    # The byte-order mark makes Excel open the UTF-8 file with its Chinese text intact.
    frame.write_csv(path, include_bom=True)
    return frame.height


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and looks_like_formula(value):
        # Stored as text, shown as typed, never evaluated.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _write_xlsx(con: duckdb.DuckDBPyConnection, name: str, path: Path, scope: Scope) -> tuple[int, int]:
    """Write one sheet; returns its rows and how many cells were cut to Excel's limit (marked, never refused)."""
    frame = _frame(con, _text_select(con, name, for_xlsx=True, scope=scope))
    if frame.height > XLSX_MAX_ROWS:
        raise ExportError(
            f"{name}: {frame.height} rows do not fit in one Excel sheet; export it as parquet or csv"
        )
    truncated = 0
    for column in frame.columns:
        if frame.schema[column] == pl.String:
            fitted, cut = truncate_cells(frame[column], XLSX_MAX_CELL)
            if cut:
                frame, truncated = frame.with_columns(fitted), truncated + cut
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name(name))
    header = []
    for column in frame.columns:
        cell = _xlsx_cell(sheet, truncate_cell(column, XLSX_MAX_CELL))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in frame.iter_rows():
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(path)
    return frame.height, truncated


def _latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute(
        "SELECT run_id FROM runs WHERE status = 'published' ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    return None if found is None else str(found[0])


def _chosen(con: duckdb.DuckDBPyConnection, db: Path, names: Sequence[str] | None, scope: Scope) -> list[str]:
    """The tables and views asked for (default: all, or an owner's tables), each checked against the file."""
    available = exportable(con)
    if scope.owners is None:
        chosen = list(names) if names else available
    else:
        # A worklist goes back into the inbox: a masked cell would be read back as a value, so a
        # masked handout leaves it out (and refuses it when asked).
        default = [*OWNER_TABLES] if scope.masked_columns else [*OWNER_TABLES, WORKLIST]
        chosen = list(names) if names else default
        if scope.masked_columns and WORKLIST in chosen:
            raise ExportError(
                "a worklist is never masked (it is filled in and read back); "
                "schemas/report.yaml owner_exports.masked_columns is set, so export it without masking"
            )
        unscoped = [n for n in chosen if n not in OWNER_TABLES and n != WORKLIST and n in available]
        if unscoped:
            raise UnknownTableError(
                f"{', '.join(unscoped)} cannot be exported for one owner (an owner export holds: "
                f"{', '.join([*OWNER_TABLES, WORKLIST])})"
            )
    unknown = [n for n in chosen if n not in available and not (scope.owners is not None and n == WORKLIST)]
    if unknown:
        raise UnknownTableError(
            f"no table or view {', '.join(unknown)} in {db} (there are: {', '.join(available)})"
        )
    if scope.owners is not None:
        known = {r[0] or UNASSIGNED for r in con.execute("SELECT DISTINCT owner FROM customers").fetchall()}
        strangers = [o for o in scope.owners if o not in known]
        if strangers:
            raise UnknownOwnerError(f"no customer of owner {', '.join(strangers)} in {db}")
    if scope.masked_columns:
        kinds = {
            (t, c): k
            for t, c, k in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = current_database()"
            ).fetchall()
        }
        for column in scope.masked_columns:
            types = {k for (t, c), k in kinds.items() if c == column and t in chosen}
            if types - set(MASKABLE):
                raise ExportError(
                    f"schemas/report.yaml owner_exports.masked_columns: {column} is {', '.join(sorted(types))}, "
                    "not text: only text columns can be masked"
                )
    return chosen


class UnknownOwnerError(UnknownTableError):
    """An owner asked for has no customer in the file."""


def export_database(
    db: Path,
    out: Path,
    fmt: str,
    names: Sequence[str] | None = None,
    owners: Sequence[str] | None = None,
    masked_columns: Sequence[str] | None = None,
) -> list[ExportedFile]:
    """Write each table/view (default: all) of `db` into `out` as NAME.FORMAT, a README.md beside them; return the files.

    `owners`: only their customers, contacts, interactions, orders and worklist, with
    `masked_columns` (default: schemas/report.yaml owner_exports) masked. The export holds the
    database's RunLock (a run cannot replace the file under it) and appends its audit line to
    `export_log`, the only moment the file is open for writing.

    An XLSX cell over Excel's 32,767 characters is cut with a `…[truncated N chars]` marker and
    counted; the database keeps the full value.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    from crm_etl.schemas.contracts import load_contracts

    contracts = load_contracts() if owners else None
    if owners and masked_columns is None and contracts is not None:
        masked_columns = contracts.report.owner_exports.masked_columns
    scope = Scope(
        tuple(dict.fromkeys(owners)) if owners else None, tuple(masked_columns or ()) if owners else ()
    )
    with RunLock(db, f"crm-etl export to {out}"):
        written, rows, run_id = _export(db, out, fmt, names, scope, contracts)
        record_export(db, ExportAudit(scope.owners, fmt, out, rows, scope.masked_columns, run_id))
    return written


def _export(
    db: Path, out: Path, fmt: str, names: Sequence[str] | None, scope: Scope, contracts: Any
) -> tuple[list[ExportedFile], dict[str, int], str | None]:
    written: list[ExportedFile] = []
    rows: dict[str, int] = {}
    readme: list[tuple[str, int, TableDoc | None]] = []
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        chosen = _chosen(con, db, names, scope)
        if scope.masked_columns:
            con.create_function(
                "mask_personal", _mask_values, ["VARCHAR"], "VARCHAR", type=PythonUDFType.ARROW
            )
        docs = table_docs(con, [n for n in chosen if n != WORKLIST])
        run_id = _latest_run(con)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"cannot create {out}: {exc.strerror or exc}") from exc
        for name in chosen:
            if name == WORKLIST:
                files = _write_owner_worklists(con, out, run_id, scope, contracts)
                rows[name] = sum(f.rows for f in files)
                written += [ExportedFile(f.path, f.cells_truncated) for f in files]
                readme += [(f.path.name, f.rows, WORKLIST_DOC) for f in files]
                continue
            target = out / export_file_name(name, fmt)
            truncated = 0
            try:
                with _atomic(target) as partial:
                    if fmt == "parquet":
                        count = write_parquet(con, _select(con, name, scope), partial, docs[name])
                    elif fmt == "csv":
                        count = _write_csv(con, name, partial, scope)
                    else:
                        count, truncated = _write_xlsx(con, name, partial, scope)
            except OSError as exc:
                raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
            rows[name] = count
            written.append(ExportedFile(target, truncated))
            readme.append((target.name, count, docs[name]))
        notes = []
        if scope.owners is not None:
            notes.append(f"Customers of {', '.join(scope.owners)} only (负责人), and what hangs off them.")
            if scope.masked_columns:
                notes.append(
                    f"Masked: {', '.join(scope.masked_columns)} (schemas/report.yaml owner_exports)."
                )
        if run_id:
            notes.append(f"Data of run `{run_id}`.")
        try:
            (out / README).write_text(readme_text(readme, "crm-etl export", notes), encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"cannot write {out / README}: {exc.strerror or exc}") from exc
    return written, rows, run_id


def _write_owner_worklists(
    con: duckdb.DuckDBPyConnection, out: Path, run_id: str | None, scope: Scope, contracts: Any
) -> list[Any]:
    """The owners' worklists (补录清单), as a run writes them, into the export folder."""
    from crm_etl.flows.handouts import worklist_words, write_worklists

    words = worklist_words(contracts)
    return write_worklists(con, out, run_id or "", words=words, owners=scope.worklist_owners())


# The per-owner folders a run writes into its report folder.
OWNERS = "owners"


def owner_folder_name(owner: str) -> str:
    """`张伟-1a2b3c4d`: the owner's slug and the hash of the full name (cleaners/file_names.py)."""
    return f"{slug(owner, 100)}-{name_hash(owner)}"


def write_owner_folders(db: Path, folder: Path) -> dict[str, list[ExportedFile]]:
    """`<folder>/<owner>/`: each owner's handout as xlsx (`export_database` with that owner), per owner.

    Customers with no owner have no rep to send them to and get no folder.
    """
    with duckdb.connect(str(db), read_only=True) as con:
        owners = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT owner FROM customers WHERE owner IS NOT NULL ORDER BY owner"
            ).fetchall()
        ]
    return {
        owner: export_database(db, folder / owner_folder_name(owner), "xlsx", owners=[owner])
        for owner in owners
    }
