"""Header spellings held out from schemas/: the engine must map them right, and rarely wrong.

`tests/data/heldout_headers.csv` is the development split (rules in schemas/mapping.yaml were
written while looking at its misses); `heldout_headers_test.csv`, when present, was written
independently and is never tuned on. Neither file's spellings may appear in schemas/.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from crm_etl.cleaners.mapping import decide_column, name_candidates, parse_header
from crm_etl.cleaners.mapping.columns import for_spec
from crm_etl.schemas import load_config

DATA = Path(__file__).resolve().parents[2] / "data"
SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
TEST_SPLIT = DATA / "heldout_headers_test.csv"
SPLITS = [p for p in (DATA / "heldout_headers.csv", TEST_SPLIT) if p.exists()]
# The spec a run would pick for a sheet of this origin (the other columns decide it).
CRM_ORIGINS = {"zoho", "salesforce", "hubspot"}
FORM_ORIGINS = {"webform", "tradeshow", "wecom"}


def _spec(record_type: str, origin: str) -> str:
    if record_type == "orders":
        return "legacy_crm_orders"
    if record_type == "interactions":
        return "legacy_crm_interactions" if origin in CRM_ORIGINS else "excel_followups"
    if origin in CRM_ORIGINS:
        return "legacy_crm_accounts"
    return "web_form" if origin in FORM_ORIGINS else "excel_ledger"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("path", SPLITS, ids=[p.stem for p in SPLITS])
def test_no_heldout_spelling_is_an_alias(path: Path) -> None:
    # Spellings that differ from an alias only by spaces or full-width forms are kept on purpose.
    config = load_config()
    aliases = {a.lower() for s in config.sources for names in s.aliases.values() for a in names}
    for row in _rows(path):
        assert row["header"].strip().lower() not in aliases, (
            f"{row['header']!r} is an alias of schemas/sources/"
        )


@pytest.mark.skipif(not TEST_SPLIT.exists(), reason="no test split")
def test_no_test_split_spelling_is_written_in_schemas() -> None:
    # The development split's single words (描述, 附件) are the domain's vocabulary and may stand
    # inside a rule's pattern; the test split, never tuned on, appears nowhere in schemas/.
    # A lone domain word (memo, 备注) is an atom rules are built from; any longer spelling is not.
    texts = [p.read_text(encoding="utf-8") for p in SCHEMAS.rglob("*") if p.suffix in {".yaml", ".sql"}]
    for row in _rows(TEST_SPLIT):
        header = row["header"]
        if (header.isascii() and header.isalpha() and len(header) <= 6) or (
            not header.isascii() and len(header) <= 2
        ):
            continue
        assert not any(header in text for text in texts), f"{header!r} is written in schemas/"


@pytest.mark.parametrize("path", SPLITS, ids=[p.stem for p in SPLITS])
def test_heldout_headers_map_right(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config()
    vocabularies = config.vocabularies()
    rows = _rows(path)
    assert len(rows) >= 200
    right = wrong = abstained = 0
    misses = []
    for row in rows:
        vocab = vocabularies[row["record_type"]]  # type: ignore[index]
        parsed = parse_header(row["header"])
        candidates = for_spec(name_candidates(parsed, vocab), _spec(row["record_type"], row["origin"]))
        decision = decide_column(0, parsed, candidates, vocab)
        expected = None if row["field"] == "none" else row["field"]
        if decision.field == expected:
            right += 1
        elif decision.field is None:
            abstained += 1
            misses.append(f"abstained {row['header']!r} (want {expected}, {decision.method})")
        else:
            wrong += 1
            misses.append(f"WRONG {row['header']!r} -> {decision.field} (want {expected}, {decision.method})")
    n = len(rows)
    with capsys.disabled():
        print(
            f"\n{path.name}: {n} headers, right {right} ({right / n:.1%}), wrong {wrong} ({wrong / n:.1%}), "
            f"abstained {abstained} ({abstained / n:.1%})"
        )
    # Targets (issue 11): 95% right, at most 1% wrong. The development split meets them; the test
    # split (never tuned on: its first measurement was 74.6% right / 3.0% wrong, 77.3% / 3.4% after
    # the Chinese one-character typo rule) misses them and is guarded at its level, so a change that
    # loses ground fails here; raising the floor needs a better engine, not rules read off this file.
    floor_right, ceiling_wrong = (0.95, 0.01) if path != TEST_SPLIT else (0.77, 0.035)
    assert right / n >= floor_right, "\n".join(misses)
    assert wrong / n <= ceiling_wrong, "\n".join(m for m in misses if m.startswith("WRONG"))
