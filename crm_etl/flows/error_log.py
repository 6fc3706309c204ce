"""The traceback of an error crm-etl did not expect, written to a file instead of the console."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from pathlib import Path

from crm_etl.cleaners.masking import masked_for_display


def masked_traceback(exc: BaseException) -> str:
    """The traceback of `exc` as text, phones and e-mails masked like every log line."""
    return masked_for_display("".join(traceback.format_exception(exc)))


def write_error_log(exc: BaseException, folder: Path | None, args: list[str]) -> Path | None:
    """Write the masked traceback of `exc` to a new file and return its path (None: nowhere writable).

    Into `folder/crm-etl-errors/` when that can be written, else the system's temporary folder.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = masked_traceback(exc)
    header = f"crm-etl {' '.join(masked_for_display(a) for a in args)}\n{stamp} pid {os.getpid()}\n\n"
    candidates = [folder / "crm-etl-errors"] if folder is not None else []
    candidates.append(Path(tempfile.gettempdir()) / "crm-etl-errors")
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            path = candidate / f"{stamp}-{os.getpid()}.log"
            path.write_text(header + text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None
