import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.kpis import follow_up_status, run_kpis, stratified_sample

AS_OF = dt.date(2024, 6, 30)


def _customers(rows):
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "owner": pl.String,
            "customer_type": pl.String,
            "first_contact_date": pl.Date,
            "mobile": pl.String,
            "phone": pl.String,
            "customer_name": pl.String,
            "completeness": pl.Float64,
            "missing_fields": pl.List(pl.String),
        },
        orient="row",
    )


INTERACTIONS = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C2", None],
        "date": [dt.date(2024, 6, 20), dt.date(2024, 3, 1), dt.date(2024, 5, 25), dt.date(2024, 6, 29)],
    }
)


@pytest.mark.parametrize(
    ("customer", "overdue"),
    [
        (("C1", "张伟", "prospect", dt.date(2024, 1, 1)), False),
        (("C2", "张伟", "prospect", dt.date(2024, 1, 1)), True),
        (("C3", "李娜", "prospect", dt.date(2024, 6, 10)), False),
        (("C4", "李娜", "prospect", dt.date(2024, 5, 31)), False),
        (("C5", "李娜", "prospect", dt.date(2024, 5, 30)), True),
        (("C6", None, "prospect", None), True),
    ],
    ids=[
        "recent-follow-up",
        "last-follow-up-36-days-ago",
        "new-customer-no-follow-up-yet",
        "first-contact-exactly-30-days-ago",
        "first-contact-31-days-ago",
        "never-touched",
    ],
)
def test_follow_up_overdue_after_30_days(customer, overdue):
    customers = _customers([(*customer, None, None, "x", 1.0, [])])
    status = follow_up_status(customers, INTERACTIONS, AS_OF, 30, ["prospect"])
    assert status["overdue"].to_list() == [overdue]


def test_only_active_customer_types_are_followed_up():
    customers = _customers(
        [
            ("C1", "a", "customer", dt.date(2020, 1, 1), None, None, "x", 1.0, []),
            ("C2", "a", "churned", dt.date(2020, 1, 1), None, None, "x", 1.0, []),
            ("C3", "a", None, dt.date(2020, 1, 1), None, None, "x", 1.0, []),
        ]
    )
    assert follow_up_status(customers, INTERACTIONS, AS_OF, 30, ["prospect"]).is_empty()


def test_run_kpis_headline_field_and_owner_figures():
    customers = _customers(
        [
            ("C1", "张伟", "prospect", dt.date(2024, 6, 1), "+8613800138000", None, "甲", 1.0, []),
            ("C2", "张伟", "prospect", None, None, None, "乙", 0.5, ["contact", "first_contact_date"]),
            ("C3", None, "customer", dt.date(2023, 1, 1), None, "+862162345678", "丙", 0.75, ["owner"]),
        ]
    )
    sources = pl.DataFrame(
        {
            "source_system": ["excel_ledger", "excel_ledger", "web_form", "legacy_crm", "worklist"],
            "issues": [
                ["mobile:phone_invalid_length"],
                [],
                ["first_contact_date:date_unparseable", "phone:phone_no_area_code"],
                [],
                [],
            ],
        }
    )
    quarantine = pl.DataFrame({"reason": ["blank_row", "blank_row", "unknown_customer"]})
    follow_ups = follow_up_status(customers, INTERACTIONS, AS_OF, 30, ["prospect"])
    kpis = run_kpis(customers, sources, quarantine, follow_ups, ["customer_name", "contact", "owner"])
    values = {(r["kpi"], r["dimension"]): r["value"] for r in kpis.iter_rows(named=True)}
    assert values[("customers", "")] == 3
    assert values[("completeness", "")] == pytest.approx(0.75)
    assert values[("duplicates_merged", "")] == 1  # the worklist row restates its customer
    assert values[("phones_invalid", "")] == 2
    assert values[("phones_missing", "")] == 1
    assert values[("dates_invalid", "")] == 1
    assert values[("dates_missing", "")] == 1
    assert values[("quarantined", "")] == 3
    assert values[("quarantined_by_reason", "blank_row")] == 2
    assert values[("overdue_followups", "")] == 1
    assert values[("needs_backfill", "")] == 2
    assert values[("field_completeness", "contact")] == pytest.approx(2 / 3)
    assert values[("field_completeness", "owner")] == pytest.approx(2 / 3)
    assert values[("owner_customers", "张伟")] == 2
    assert values[("owner_needs_backfill", "张伟")] == 1
    assert values[("owner_overdue", "张伟")] == 1
    assert values[("owner_customers", "")] == 1
    assert values[("owner_completeness", "")] == pytest.approx(0.75)


def test_run_kpis_of_an_empty_run():
    kpis = run_kpis(
        _customers([]),
        pl.DataFrame({"issues": []}, schema={"issues": pl.List(pl.String)}),
        pl.DataFrame({"reason": []}, schema={"reason": pl.String}),
        follow_up_status(_customers([]), INTERACTIONS, AS_OF, 30, ["prospect"]),
        ["customer_name"],
    )
    values = {(r["kpi"], r["dimension"]): r["value"] for r in kpis.iter_rows(named=True)}
    assert values[("customers", "")] == 0 and values[("completeness", "")] == 0


owners = st.lists(st.sampled_from(["张伟", "李娜", "王芳", None]), min_size=1, max_size=120)


@settings(max_examples=60, deadline=None)
@given(owners, st.sampled_from([0.1, 0.25, 0.5]), st.integers(0, 2**32 - 1))
def test_stratified_sample_takes_the_share_of_every_owner(owner_list, share, seed):
    frame = pl.DataFrame({"customer_id": [f"C{i:04d}" for i in range(len(owner_list))], "owner": owner_list})
    sample = stratified_sample(frame, "owner", share, seed, "customer_id")
    sizes = frame.group_by("owner").len()
    taken = dict(sample.group_by("owner").len().iter_rows())
    for owner, size in sizes.iter_rows():
        assert taken[owner] == max(1, math.ceil(size * share))
    assert sample.height >= share * frame.height
    again = stratified_sample(frame.reverse(), "owner", share, seed, "customer_id")
    assert sorted(again["customer_id"]) == sorted(sample["customer_id"])


def test_stratified_sample_depends_on_the_seed():
    frame = pl.DataFrame({"customer_id": [f"C{i:04d}" for i in range(200)], "owner": ["张伟"] * 200})
    draws = {
        tuple(sorted(stratified_sample(frame, "owner", 0.1, seed, "customer_id")["customer_id"]))
        for seed in range(5)
    }
    assert len(draws) > 1


def test_people_of_a_contacts_export_are_no_duplicates():
    customers = _customers(
        [
            ("C1", "张伟", "customer", dt.date(2024, 6, 1), "+8613800138000", None, "甲", 1.0, []),
            ("C2", "张伟", "prospect", dt.date(2024, 6, 1), "+8613800138001", None, "乙", 1.0, []),
        ]
    )
    # C1: an account twice (one duplicate) and a person at it; C2: known only through two people.
    sources = pl.DataFrame(
        {
            "source_system": ["legacy_crm", "excel_ledger", "legacy_crm", "legacy_crm", "legacy_crm"],
            "issues": [[], [], [], [], []],
            "customer_id": ["C1", "C1", "C1", "C2", "C2"],
            "record_role": ["account", "account", "contact", "contact", "contact"],
        },
        schema_overrides={"issues": pl.List(pl.String)},
    )
    follow_ups = follow_up_status(customers, INTERACTIONS, AS_OF, 30, ["prospect"])
    kpis = run_kpis(
        customers, sources, pl.DataFrame({"reason": []}, schema={"reason": pl.String}), follow_ups, ["owner"]
    )
    values = {(r["kpi"], r["dimension"]): r["value"] for r in kpis.iter_rows(named=True)}
    assert values[("duplicates_merged", "")] == 1
