"""Records that are a person at a company (a contacts export): what they say about their customer.

A data steward reads a contacts export as a list of people, each at a company the CRM already
knows (its accounts export) or, failing that, one it knows only through its people. So:

- a contact record **attaches** to the customer of its company (schemas/dedupe.yaml must_link:
  the account ID it carries, the identical registered name, the identical distinctive company
  name) and creates a customer only when no such company exists;
- it **speaks for its person, not for the company**: an account record's own value of a company
  field (name, industry, owner, type, first contact, channel, landline, address …) is never
  overridden by a contact's (whose owner is the person's owner, whose created date is the day
  the person was entered); a contact's value fills a company field only where no account record
  of the customer has one;
- the company's **golden contact** stays the account record's own primary contact; a contact
  record's person becomes it only when no account record of the customer names a person. Every
  person still is a row of `contacts` (cleaners/contacts.py reads the records unmasked);
- its `match_reason` says how it attached, or that it created the customer.
"""

from __future__ import annotations

import polars as pl

from crm_etl.cleaners.dedupe.survivorship import GOLDEN_FIELDS

# The person a record names: golden as a whole, from one kind of record, so a golden mobile is never
# one person's beside another person's name.
PERSON_FIELDS = ["contact_name", "contact_key", "contact_honorific", "contact_title", "mobile", "email"]
COMPANY_FIELDS = [f for f in GOLDEN_FIELDS if f not in PERSON_FIELDS]

BY_ACCOUNT_ID = "contact attached to its company by account ID"
BY_REGISTERED_NAME = "contact attached to its company by registered name"
BY_COMPANY_NAME = "contact attached to its company by company name"
BY_OTHER_EVIDENCE = "contact attached to its company: "
CREATED = "no such company: customer created from a contacts export"
# Accounts in several places share the name (北京/上海云帆网络科技): which one the person works at is
# a steward's call, so no guess.
CREATED_AMBIGUOUS = "company name fits several companies: customer created from a contacts export"

_IS_CONTACT = pl.col("record_role") == "contact"


def company_view(records: pl.DataFrame) -> pl.DataFrame:
    """The records as golden survivorship should see them: contact records lose the values that their
    customer's account records have (company fields one by one, the person as a whole)."""
    account = ~_IS_CONTACT
    account_has = {f: (account & pl.col(f).is_not_null()).any().over("customer_id") for f in COMPANY_FIELDS}
    account_person = (
        (account & pl.any_horizontal(pl.col(f).is_not_null() for f in ["contact_name", "mobile", "email"]))
        .any()
        .over("customer_id")
    )
    return records.with_columns(
        *(
            pl.when(_IS_CONTACT & has).then(None).otherwise(pl.col(f)).alias(f)
            for f, has in account_has.items()
        ),
        *(
            pl.when(_IS_CONTACT & account_person).then(None).otherwise(pl.col(f)).alias(f)
            for f in PERSON_FIELDS
        ),
        pl.when(_IS_CONTACT & account_person)
        .then(pl.lit([], pl.List(pl.String)))
        .otherwise(pl.col("other_phones"))
        .alias("other_phones"),
    )


def _shares(records: pl.DataFrame, column: str, same_place: bool = False) -> pl.Expr:
    """Whether a record's `column` value is that of an account record of its customer (registered in
    no other place, with `same_place`)."""
    place = "registered_place"
    # Distinct account values, and contact records only: 100,000 copies of one account record
    # joined to themselves would be 10^10 rows.
    accounts = (
        records.filter(~_IS_CONTACT & pl.col(column).is_not_null())
        .select("customer_id", column, pl.col(place).alias("_place"))
        .unique()
    )
    matched = records.filter(_IS_CONTACT).join(accounts, on=["customer_id", column])
    if same_place:
        matched = matched.filter(
            pl.col(place).is_null() | pl.col("_place").is_null() | (pl.col(place) == pl.col("_place"))
        )
    return pl.col("record_idx").is_in(matched.get_column("record_idx").implode())


def describe_attachments(records: pl.DataFrame) -> pl.DataFrame:
    """`match_reason` of contact records: how each attached to its company, or that it created one.

    `records`: loaded customer records with customer_id, record_role, match_reason and the linkage
    features ATTACH_FEATURES (cleaners/customer_matching.py).
    """
    has_account = (~_IS_CONTACT).any().over("customer_id")
    reason = (
        pl.when(~has_account & (pl.col("name_accounts") >= 2))
        .then(pl.lit(CREATED_AMBIGUOUS))
        .when(~has_account)
        .then(pl.lit(CREATED))
        .when(_shares(records, "account_key"))
        .then(pl.lit(BY_ACCOUNT_ID))
        .when(_shares(records, "legal_name"))
        .then(pl.lit(BY_REGISTERED_NAME))
        .when(_shares(records, "attach_name", same_place=True))
        .then(pl.lit(BY_COMPANY_NAME))
        .otherwise(pl.lit(BY_OTHER_EVIDENCE) + pl.col("match_reason"))
    )
    return records.with_columns(
        pl.when(_IS_CONTACT).then(reason).otherwise(pl.col("match_reason")).alias("match_reason")
    )
