"""The audit line of every export (`export_log`): who exported what, when, for which owner, how many rows."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crm_etl.schemas import SCHEMAS_DIR

log = logging.getLogger(__name__)

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


def pending_path(db: Path) -> Path:
    """Audit lines not yet in the file: `<db>.export-log.jsonl` beside it."""
    return db.with_name(db.name + ".export-log.jsonl")


def record_export(db: Path, audit: ExportAudit) -> bool:
    """Store the audit line in `db`, opened for writing only for that (the caller holds its RunLock).

    The line is first appended to `pending_path(db)`, so no export goes unaudited: when another
    program holds the file open (DuckDB lets one process write, and a BI tool reading it blocks
    that), the line waits there, is folded in by the next export that can write, and this
    returns False. Lines carry an id: one stored twice (a crash between insert and unlink) is kept once.
    """
    line = {
        "export_id": uuid.uuid4().hex,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "exported_by": os_user(),
        "host": socket.gethostname(),
        "owners": list(audit.owners) if audit.owners is not None else None,
        "format": audit.fmt,
        "out_dir": str(audit.out_dir.resolve()),
        "tables": list(audit.rows),
        "table_rows": json.dumps(dict(audit.rows), ensure_ascii=False),
        "masked_columns": list(audit.masked_columns),
        "run_id": audit.run_id,
    }
    pending = pending_path(db)
    try:
        with pending.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise AuditError(f"{pending}: cannot keep the export's audit line: {exc.strerror or exc}") from exc
    lines = [json.loads(text) for text in pending.read_text(encoding="utf-8").splitlines() if text.strip()]
    columns = list(line)
    try:
        with duckdb.connect(str(db)) as con:
            con.execute(_ddl())
            con.executemany(
                f"""INSERT INTO {AUDIT_TABLE} ({", ".join(columns)})
                    SELECT {", ".join("?" for _ in columns)}
                    WHERE NOT EXISTS (SELECT 1 FROM {AUDIT_TABLE} WHERE export_id = ?)""",
                [[*(row.get(c) for c in columns), row["export_id"]] for row in lines],
            )
    except duckdb.Error as exc:
        log.warning("%s: cannot be written now (%s); the audit line waits in %s", db, exc, pending.name)
        return False
    pending.unlink()
    return True
