"""Keep personal data out of logs: every record passes through a masking filter."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cleaners.masking import mask_text


class PersonalDataFilter(logging.Filter):
    """Mask phone numbers and email addresses in a log record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = PersonalDataFilter()


def install_masking() -> None:
    """Attach the masking filter to every handler of the root and Prefect loggers (idempotent)."""
    names = [
        n for n in logging.root.manager.loggerDict if n.split(".")[0] in {"prefect", "flows", "cleaners"}
    ]
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ["prefect", "flows", "cleaners", *names])]
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

    def __init__(self, own_level: int, library_level: int) -> None:
        super().__init__()
        self.own_level, self.library_level = own_level, library_level

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.pathname.startswith(_OWN_CODE)
        return record.levelno >= (self.own_level if own else self.library_level)


def configure_console_logs(own_level: int, library_level: int) -> None:
    """Console log lines: crm-etl's own from `own_level`, libraries' (Prefect, GX, httpx) from `library_level`.

    Call after Prefect is imported (it installs its console handler on import).
    """
    line_filter = OwnLinesFilter(own_level, library_level)
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not any(
                isinstance(f, OwnLinesFilter) for f in handler.filters
            ):
                handler.addFilter(line_filter)
