"""The audit line of every export (`export_log`): who exported what, when, for which owner, how many rows."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from schemas import SCHEMAS_DIR

AUDIT_TABLE = "export_log"


class AuditError(RuntimeError):
    """The export's audit line could not be stored in the database file."""


@dataclass(frozen=True)
class ExportAudit:
    """One export as `export_log` stores it."""

    owners: Sequence[str] | None
    fmt: str
    out_dir: Path
    rows: Mapping[str, int]
    masked_columns: Sequence[str]
    run_id: str | None


def _ddl() -> str:
    """The statements of schemas/tables.sql about export_log (a file published before it lacks the table)."""
    text = (SCHEMAS_DIR / "tables.sql").read_text(encoding="utf-8")
    statements = [s.strip() for s in text.split(";")]
    return ";\n".join(s for s in statements if re.search(rf"\b{AUDIT_TABLE}\b", s)) + ";"


def os_user() -> str:
    """The operating-system user running the export (getpass: LOGNAME, USER, … then the password database)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container's user)
        return f"uid:{os.getuid()}"


def record_export(db: Path, audit: ExportAudit) -> None:
    """Append the audit line to `db`, opened for writing only for that (the caller holds its RunLock)."""
    line = [
        dt.datetime.now(dt.UTC),
        os_user(),
        socket.gethostname(),
        list(audit.owners) if audit.owners is not None else None,
        audit.fmt,
        str(audit.out_dir.resolve()),
        list(audit.rows),
        json.dumps(dict(audit.rows), ensure_ascii=False),
        list(audit.masked_columns),
        audit.run_id,
    ]
    try:
        with duckdb.connect(str(db)) as con:
            con.execute(_ddl())
            con.execute(f"INSERT INTO {AUDIT_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", line)
    except duckdb.Error as exc:
        raise AuditError(
            f"{db}: the export's files were written but its audit line could not be stored ({exc}); "
            "close other programs that hold the file open and export again"
        ) from exc
