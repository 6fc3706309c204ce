import shutil

import pytest

from crm_etl.schemas import SCHEMAS_DIR, ConfigError
from crm_etl.schemas.segments import load_segments


@pytest.fixture
def segments_file(tmp_path):
    target = tmp_path / "segments.yaml"
    shutil.copy(SCHEMAS_DIR / "segments.yaml", target)
    return target


def test_bundled_segments_load():
    segments = load_segments()
    a, b = segments.rfm.tiers
    assert (a.tier, a.max_recency_days, a.min_frequency_per_year, a.min_monetary_per_year) == (
        "A",
        30,
        4,
        100_000,
    )
    assert (b.tier, b.max_recency_days, b.min_frequency_per_year, b.min_monetary_per_year) == (
        "B",
        30,
        2,
        50_000,
    )
    assert segments.rfm.default.tier == "C"
    assert segments.churn_risk.inactive_more_than_days == 180
    assert (segments.follow_up.overdue_after_days, segments.follow_up.first_contact_due_days) == (30, 7)
    assert {"price", "need"} <= set(segments.keywords)
    assert all(w == w.lower() for kw in segments.keywords.values() for w in kw.words)


def test_the_seed_contradiction_is_noted_next_to_the_a_threshold():
    text = (SCHEMAS_DIR / "segments.yaml").read_text(encoding="utf-8")
    note = text.index('"R ≥ 30 days"')
    assert note < text.index("max_recency_days: 30") < text.index("tier: B")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("window_months: 12", "window_months: 0", r"rfm\.window_months"),
        (
            "      max_recency_days: 30\n      min_frequency_per_year: 4",
            "      max_recency_days: -1\n      min_frequency_per_year: 4",
            r"rfm\.tiers\.0\.max_recency_days",
        ),
        ("    - tier: B", "    - tier: A", r"rfm: .*tier names used more than once: A"),
        (
            "{label: 小型, min_employees: 20}",
            "{label: 小型, min_employees: 0}",
            r"employee_bands: .*must increase",
        ),
        (
            "inactive_more_than_days: 180",
            "inactive_more_thn_days: 180",
            r".*churn_risk\.inactive_more_thn_days: Extra inputs",
        ),
        ("  price:\n", "  Price:\n", r"keywords: .*'Price' is not a name"),
        (
            'need_mentions > 0"',
            'need_mentions > 0; DROP TABLE customers"',
            r"lifecycle\.intent_when: .*one SQL expression",
        ),
        ("words: [价格,", "words: ['  ', 价格,", r"keywords\.price\.words: .*blank word"),
    ],
    ids=[
        "window",
        "negative-threshold",
        "tier-twice",
        "bands-order",
        "unknown-key",
        "keyword-name",
        "two-statements",
        "blank-word",
    ],
)
def test_segment_errors_name_the_file_and_key(segments_file, old, new, message):
    text = segments_file.read_text(encoding="utf-8")
    assert old in text
    segments_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"segments\.yaml: " + message):
        load_segments(segments_file)
