"""Keep personal data out of logs: every record passes through a masking filter."""

from __future__ import annotations

import logging

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
