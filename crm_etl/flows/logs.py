"""Keep personal data out of logs: every record passes through a masking filter."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from crm_etl.cleaners.masking import mask_text


class PersonalDataFilter(logging.Filter):
    """Mask phone numbers and email addresses in a log record's message and in its traceback.

    An exception's message often names a cell or a file (`王五13612345678.csv: binary content`);
    the traceback is formatted here, masked, and left as the text every formatter then prints.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not getattr(record, "_traceback_masked", False):
            record.exc_text = mask_text(_TRACEBACKS.formatException(record.exc_info))
            record._traceback_masked = True
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


_FILTER = PersonalDataFilter()


def install_masking() -> None:
    """Attach the masking filter to every handler of the root and Prefect loggers (idempotent)."""
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in {"prefect", "crm_etl"}]
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ["prefect", "crm_etl", *names])]
    for logger in loggers:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


# The packages whose log lines are crm-etl's own; Prefect's run loggers carry them too.
_OWN_CODE = tuple(
    str(Path(__file__).resolve().parent.parent / name) + os.sep for name in ("flows", "cleaners", "schemas")
)


class OwnLinesFilter(logging.Filter):
    """Pass crm-etl's own lines from `own_level` up and libraries' lines from `library_level` up.

    A record is crm-etl's when the call that logged it sits in flows/, cleaners/ or schemas/
    (a `get_run_logger()` line is logged by Prefect's logger but from our code).
    """

    def __init__(self, own_level: int, library_level: int, run_failures: bool = True) -> None:
        super().__init__()
        self.own_level, self.library_level = own_level, library_level
        self.run_failures = run_failures

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.pathname.startswith(_OWN_CODE)
        if not own and not self.run_failures and record.name.startswith(_RUN_LOGGERS):
            return False
        return record.levelno >= (self.own_level if own else self.library_level)


# Prefect's flow- and task-run loggers repeat, with a traceback, a failure the CLI reports itself in
# one line (and `main` writes the traceback to a file); shown with -v only.
_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def configure_console_logs(own_level: int, library_level: int, run_failures: bool = True) -> None:
    """Console log lines: crm-etl's own from `own_level`, libraries' (Prefect, GX, httpx) from `library_level`.

    Without `run_failures`, Prefect's own flow- and task-run lines stay off the console.
    Call after Prefect is imported (it installs its console handler on import).
    """
    line_filter = OwnLinesFilter(own_level, library_level, run_failures)
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not any(
                isinstance(f, OwnLinesFilter) for f in handler.filters
            ):
                handler.addFilter(line_filter)
