"""Which version of each input file a run builds on."""

from __future__ import annotations

import polars as pl
import pytest

from crm_etl.cleaners.input_versions import READ_SCHEMA, STORED_SCHEMA, choose_input_versions

RUN = "R2"


def _read(*files: tuple[str, str, bool, bool]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"source_file": f, "sha256": h, "size_bytes": 10, "usable": u, "complete": c}
            for f, h, u, c in files
        ],
        schema=READ_SCHEMA,
    )


def _stored(*files: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"source_file": f, "sha256": h, "size_bytes": 9, "run_id": r} for f, h, r in files],
        schema=STORED_SCHEMA,
    )


@pytest.mark.parametrize(
    ("read", "stored", "expected"),
    [
        ([("a", "h1", True, True)], [], [("a", "read", "h1", RUN)]),
        ([], [("a", "h1", "R1")], [("a", "kept", "h1", "R1")]),
        ([("a", "h1", True, True)], [("a", "h1", "R1")], [("a", "read", "h1", "R1")]),
        ([("a", "h2", True, True)], [("a", "h1", "R1")], [("a", "read", "h2", RUN)]),
        ([("a", "h2", True, False)], [("a", "h1", "R1")], [("a", "kept", "h1", "R1")]),
        ([("a", "h2", True, False)], [], [("a", "read", "h2", RUN)]),
        ([("a", "h2", False, False)], [("a", "h1", "R1")], [("a", "kept", "h1", "R1")]),
        ([("a", "h2", False, False)], [], []),
        (
            [("b", "h3", True, True)],
            [("a", "h1", "R1")],
            [("a", "kept", "h1", "R1"), ("b", "read", "h3", RUN)],
        ),
    ],
    ids=[
        "new-file",
        "left-the-inbox",
        "unchanged-keeps-first-run",
        "corrected-supersedes",
        "partial-read-never-replaces",
        "partial-read-of-a-new-file-loads",
        "unreadable-keeps-stored",
        "unreadable-new-file-is-nothing",
        "other-files-untouched",
    ],
)
def test_choose_input_versions(read, stored, expected):
    chosen = choose_input_versions(_read(*read), _stored(*stored), RUN)
    assert [
        (r["source_file"], r["origin"], r["sha256"], r["run_id"]) for r in chosen.iter_rows(named=True)
    ] == expected
