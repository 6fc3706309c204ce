"""flows/inputs.py: moving processed files after the publish, with real files."""

from __future__ import annotations

import hashlib

import polars as pl

from crm_etl.flows.extract import ExtractResult, FileOutcome
from crm_etl.flows.inputs import move_processed


def test_a_file_that_cannot_be_moved_is_reported_and_stays_in_the_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    files = {"a.csv": "客户名称\n甲\n", "sub/b.csv": "客户名称\n乙\n"}
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    digests = {n: hashlib.sha256((inbox / n).read_bytes()).hexdigest() for n in files}
    # A file where the folder for sub/b.csv must be created: moving it fails, moving a.csv does not.
    (inbox / "processed" / "R1").mkdir(parents=True)
    (inbox / "processed" / "R1" / "sub").write_text("in the way", encoding="utf-8")
    extracted = ExtractResult({}, [FileOutcome(n, digests[n], 10, "read") for n in files])
    versions = pl.DataFrame(
        {"source_file": list(files), "sha256": [digests[n] for n in files], "origin": ["read", "read"]}
    )
    moved, failed = move_processed(inbox, "R1", extracted, versions)
    assert moved == ["a.csv"] and (inbox / "processed" / "R1" / "a.csv").is_file()
    assert failed == ["sub/b.csv: File exists (it stays in the inbox)"]
    assert (inbox / "sub" / "b.csv").read_text(encoding="utf-8") == files["sub/b.csv"]
