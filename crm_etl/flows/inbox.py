"""What an inbox holds: the files a run reads, the entries it refuses and why, and their lineage names.

The inbox is a boundary. Only regular files inside it are read; links are never followed and
special files never opened. A file's name in lineage is its path relative to the inbox.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from crm_etl.flows.readers import SUPPORTED_SUFFIXES

IGNORED_DIRS = {"processed", "archive", "rejected"}
# Python reads a file name that is not valid UTF-8 with its bytes as lone surrogates (PEP 383).
_HAS_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Refused:
    """An inbox entry that is not read: its lineage name, `failed` or `skipped`, and why."""

    source_file: str
    status: str
    reason: str


def is_hidden(name: str) -> bool:
    """A dot file (.DS_Store, ._ledger.xlsx, .~lock…#) is hidden; `..csv` or `.xlsx` is an export saved without a name."""
    return name.startswith(".") and name.lstrip(".").lower() not in {
        s.lstrip(".") for s in SUPPORTED_SUFFIXES
    }


def walk_inbox(inbox: Path) -> tuple[list[Path], list[Refused]]:
    """The inbox's regular files, and an outcome for every entry that is not read and why.

    The inbox is a boundary: a symbolic link is never followed (it could lead anywhere on the
    machine) and a FIFO, device or socket is never opened (reading one can block or read a
    device); both are failed inputs the summary lists. Hidden files and folders are skipped with
    a line each; processed/ (and archive/, rejected/) folders hold files already dealt with.
    """
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a directory")
    files: list[Path] = []
    refused: list[Refused] = []
    pending = [inbox]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            refused.append(_refused(inbox, folder, "failed", f"folder cannot be listed ({exc.strerror})"))
            continue
        for path in entries:
            name = path.name
            if path.is_symlink():
                refused.append(
                    _refused(
                        inbox,
                        path,
                        "failed",
                        "a symbolic link: not followed (only files inside the inbox are read)",
                    )
                )
            elif path.is_dir():
                if is_hidden(name):
                    refused.append(_refused(inbox, path, "skipped", "hidden folder: not read"))
                elif name.lower() not in IGNORED_DIRS:
                    pending.append(path)
            elif path.is_file():
                if is_hidden(name):
                    refused.append(_refused(inbox, path, "skipped", "hidden file: not read"))
                else:
                    files.append(path)
            else:
                refused.append(
                    _refused(
                        inbox, path, "failed", "not a regular file (a FIFO, device or socket): not opened"
                    )
                )
    return sorted(files), sorted(refused, key=lambda o: o.source_file)


def source_name(inbox: Path, path: Path) -> str:
    """A file's name in lineage: its path relative to the inbox, always valid UTF-8 text.

    A name that is not valid UTF-8 (written by an old Windows tool or a GBK archive) keeps every
    byte: each undecodable byte is written as `\\xNN`, so the name stays unique, is stored by DuckDB,
    and `inbox_file` finds the file again. Valid names are unchanged.
    """
    name = path.relative_to(inbox).as_posix()
    if not _HAS_SURROGATE.search(name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def inbox_file(inbox: Path, source_file: str) -> Path:
    """The file a lineage name stands for (the inverse of `source_name`)."""
    literal = inbox / source_file
    if literal.exists() or "\\x" not in source_file:
        return literal
    raw = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), source_file.encode("utf-8"))
    return inbox / os.fsdecode(raw)


def _refused(inbox: Path, path: Path, status: str, why: str) -> Refused:
    return Refused(source_name(inbox, path), status, why)


def discover_inputs(inbox: Path) -> list[Path]:
    """Every regular file under the inbox (recursively), except hidden files, links and processed/ folders."""
    return walk_inbox(inbox)[0]
