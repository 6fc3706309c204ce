"""Clean raw record frames (customers, orders, interactions) field by field, keeping every reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crm_etl.cleaners.amounts import parse_amounts, parse_counts
from crm_etl.cleaners.codes import map_customer_type, map_industry
from crm_etl.cleaners.company import company_display_name, company_match_key
from crm_etl.cleaners.dates import parse_dates
from crm_etl.cleaners.emails import normalise_emails
from crm_etl.cleaners.garbage_vocabulary import GarbageVocabulary
from crm_etl.cleaners.lead_sources import LeadSourceVocabulary, normalise_lead_source
from crm_etl.cleaners.lossy_numbers import clean_source_ids
from crm_etl.cleaners.mapping.headers import normalise_header
from crm_etl.cleaners.persons import clean_person_names
from crm_etl.cleaners.phones import normalise_phones
from crm_etl.cleaners.rows import garbage_reason, placeholder_phone_issues, row_evidence
from crm_etl.cleaners.text import clean_text

LINEAGE = ["source_system", "source_spec", "source_file", "source_sheet", "source_row"]
# Per-sheet settings extraction reads off the file (date system, date order, amount unit, the sheet's
# kind): no cells.
READ_SETTINGS = ["excel_1904", "day_first", "amount_scale", "sheet_kind"]


@dataclass(frozen=True)
class CleaningTables:
    """The lookup tables and settings cleaning needs, loaded from schemas/ by the caller."""

    industry_synonyms: Mapping[str, str]
    industry_names: Mapping[str, str]
    customer_types: Any
    channels: Mapping[str, str]
    lead_sources: LeadSourceVocabulary
    garbage_rows: GarbageVocabulary
    as_of: dt.date
    phone_region: str = "CN"
    first_contact_min_date: dt.date = dt.date(1980, 1, 1)
    tz: str = "Asia/Shanghai"
    extra: dict[str, Any] = field(default_factory=dict)


def _issues(frame: pl.DataFrame, reason_columns: Mapping[str, str]) -> pl.Series:
    """Collect non-null reasons into one `field:reason` list per row."""
    parts = [
        pl.when(pl.col(col).is_not_null()).then(pl.lit(f"{name}:") + pl.col(col)).otherwise(None)
        for name, col in reason_columns.items()
    ]
    if not parts:
        return pl.Series("issues", [[] for _ in range(frame.height)], dtype=pl.List(pl.String))
    return frame.select(pl.concat_list(parts).list.drop_nulls().alias("issues")).to_series()


def parse_dates_by_source(
    frame: pl.DataFrame, column: str, tables: CleaningTables, min_date: dt.date | None
) -> pl.DataFrame:
    """Parse a date column sheet by sheet, so day-first inference sees one source column at a time."""
    indexed = frame.select(
        pl.int_range(pl.len()).alias("_i"),
        "source_file",
        "source_sheet",
        "excel_1904",
        "day_first",
        pl.col(column).alias("_v"),
    )
    parts = []
    for (_, _), group in indexed.group_by(["source_file", "source_sheet"], maintain_order=True):
        day_first = group["day_first"][0]
        parsed = parse_dates(
            group["_v"],
            day_first=day_first,
            excel_1904=bool(group["excel_1904"][0]),
            tz=tables.tz,
            min_date=min_date,
            max_date=tables.as_of,
        )
        parts.append(pl.concat([group.select("_i"), parsed], how="horizontal"))
    if not parts:
        return pl.DataFrame(schema={"date": pl.Date, "date_reason": pl.String})
    return pl.concat(parts).sort("_i").drop("_i")


def _combine_phones(mobile_cells: pl.DataFrame, phone_cells: pl.DataFrame) -> pl.DataFrame:
    """One mobile and one landline per record from the mobile and phone columns, the rest kept."""
    m = mobile_cells.rename(lambda c: f"m_{c}")
    p = phone_cells.rename(lambda c: f"p_{c}")
    both = pl.concat([m, p], how="horizontal")
    mobile = pl.coalesce("m_mobile", "p_mobile")
    landline = pl.coalesce("p_landline", "m_landline")
    leftovers = pl.concat_list(
        [
            pl.when(pl.col("m_mobile").is_not_null() & (pl.col("p_mobile") != pl.col("m_mobile")))
            .then(pl.col("p_mobile"))
            .otherwise(None),
            pl.when(pl.col("p_landline").is_not_null() & (pl.col("m_landline") != pl.col("p_landline")))
            .then(pl.col("m_landline"))
            .otherwise(None),
        ]
    ).list.drop_nulls()
    others = pl.concat_list([pl.col("m_other_phones"), pl.col("p_other_phones"), leftovers])
    return both.select(
        mobile.alias("mobile"),
        landline.alias("phone"),
        others.list.unique(maintain_order=True).alias("other_phones"),
        pl.col("m_phone_reason").alias("mobile_reason"),
        pl.col("p_phone_reason").alias("phone_reason"),
    )


def _value_columns(raw: pl.DataFrame) -> list[str]:
    """The columns holding the record's fields (its record type's canonical fields), not lineage or
    what extraction adds: what garbage-row detection weighs."""
    return [c for c in raw.columns if c not in {*LINEAGE, *READ_SETTINGS, *_EXTRACTION_COLUMNS}]


_EXTRACTION_COLUMNS = ("extra", "raw", "extract_reason", "extract_detail")


def clean_customers(raw: pl.DataFrame, tables: CleaningTables) -> pl.DataFrame:
    """Clean raw customer records; adds `issues` (doubts kept) and `reject_reason` (row not loadable)."""
    value_columns = _value_columns(raw)
    evidence = row_evidence(raw, value_columns, tables.garbage_rows)
    garbage = garbage_reason(raw, value_columns, tables.garbage_rows, evidence)
    person = clean_person_names(raw["contact_name"])
    phones = _combine_phones(
        normalise_phones(raw["mobile"], tables.phone_region),
        normalise_phones(raw["phone"], tables.phone_region),
    )
    emails = normalise_emails(raw["email"])
    lead_source = normalise_lead_source(raw["source_channel"], tables.lead_sources)
    industry_text = clean_text(raw["industry"])
    industry = map_industry(raw["industry"], tables.industry_synonyms)
    ctype = map_customer_type(raw["customer_type"], tables.customer_types)
    dates = parse_dates_by_source(raw, "first_contact_date", tables, tables.first_contact_min_date)
    text = {
        c: clean_text(raw[c])
        for c in [
            "contact_title",
            "owner",
            "city",
            "address",
            "core_need",
            "remark",
            "employee_count",
        ]
    }
    # An ID a spreadsheet lost digits of is nulled: it would key, merge or link the wrong customer.
    ids = {c: clean_source_ids(raw[c]) for c in ("legacy_id", "account_ref")}
    industry_names = pl.DataFrame(
        {"industry_code": list(tables.industry_names), "industry_name": list(tables.industry_names.values())},
        schema={"industry_code": pl.String, "industry_name": pl.String},
    )
    frame = pl.DataFrame(
        {
            **{c: raw[c] for c in LINEAGE},
            "legacy_id": ids["legacy_id"]["id"],
            # A contacts export's row is a person at a company (cleaners/contact_records.py), any
            # other customer row speaks for the company itself.
            "record_role": raw.select(
                pl.when(pl.col("sheet_kind") == "contacts")
                .then(pl.lit("contact"))
                .otherwise(pl.lit("account"))
            ).to_series(),
            "account_ref": ids["account_ref"]["id"],
            "customer_name": company_display_name(raw["customer_name"]),
            "company_key": company_match_key(raw["customer_name"]),
            "contact_name": person["name"],
            "contact_honorific": person["honorific"],
            "contact_key": person["name_pinyin_key"],
            "contact_title": text["contact_title"],
            "mobile": phones["mobile"],
            "phone": phones["phone"],
            "other_phones": phones["other_phones"],
            "email": emails["email"],
            "email_suggestion": emails["email_suggestion"],
            "industry_text": industry_text,
            "industry_code": industry["industry_code"],
            "customer_type_text": clean_text(raw["customer_type"]),
            "customer_type": ctype["customer_type"],
            "customer_stage": ctype["customer_stage"],
            "first_contact_date": dates["date"],
            "source_channel": lead_source["source_channel"],
            "source_channel_text": lead_source["source_channel_text"],
            "owner": text["owner"],
            "city": text["city"],
            "address": text["address"],
            "employees": text["employee_count"],
            "employee_count": parse_counts(text["employee_count"]),
            "core_need": text["core_need"],
            "remark": text["remark"],
            "extra": raw["extra"],
            "raw": raw["raw"],
        }
    )
    frame = frame.join(industry_names, on="industry_code", how="left", maintain_order="left")
    frame = frame.with_columns(pl.coalesce("industry_name", "industry_text").alias("industry")).drop(
        "industry_name"
    )
    reasons = pl.DataFrame(
        {
            "legacy_id": ids["legacy_id"]["id_reason"],
            "account_ref": ids["account_ref"]["id_reason"],
            "contact_name": person["person_reason"],
            "mobile": phones["mobile_reason"],
            "phone": phones["phone_reason"],
            "email": emails["email_reason"],
            "industry": industry["industry_reason"],
            "customer_type": ctype["customer_type_reason"],
            "first_contact_date": dates["date_reason"],
            "source_channel": lead_source["source_channel_reason"],
        }
    )
    # A placeholder number (13800138000) on a row a company identifies is a doubt, not a rejection.
    placeholder_phones = placeholder_phone_issues(raw, value_columns, tables.garbage_rows, evidence)
    del evidence
    frame = frame.with_columns(
        pl.concat_list(_issues(reasons, {c: c for c in reasons.columns}), placeholder_phones).alias("issues")
    )
    identifying = (
        pl.col("customer_name").is_not_null()
        | pl.col("mobile").is_not_null()
        | pl.col("phone").is_not_null()
        | pl.col("email").is_not_null()
    )
    reject = (
        pl.when(raw["extract_reason"].is_not_null())
        .then(pl.lit(raw["extract_reason"]))
        .when(pl.lit(garbage).is_not_null())
        .then(pl.lit(garbage))
        .when(~identifying)
        .then(pl.lit("no_identifying_fields"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return frame.with_columns(reject.alias("reject_reason"), raw["extract_detail"].alias("reject_detail"))


def map_channels(values: pl.Series, channels: Mapping[str, str]) -> pl.Series:
    """Interaction channel to its canonical name; unknown spellings keep their cleaned text."""
    cleaned = clean_text(values)
    keys = cleaned.map_elements(normalise_header, return_dtype=pl.String)
    mapped = keys.replace_strict(dict(channels), default=None, return_dtype=pl.String)
    return pl.select(pl.coalesce(mapped, cleaned)).to_series().alias(values.name)


def _reference_columns(raw: pl.DataFrame) -> dict[str, pl.Series]:
    return {
        "customer_ref": clean_source_ids(raw["customer_ref"])["id"],
        "customer_name": company_display_name(raw["customer_name"]),
        "company_key": company_match_key(raw["customer_name"]),
    }


def _lost_reference(raw: pl.DataFrame, references: Mapping[str, pl.Series]) -> pl.Series:
    """Rows whose customer ID lost digits as a spreadsheet number and that name no company to link by."""
    lost = clean_source_ids(raw["customer_ref"])["id_reason"].is_not_null()
    return lost & references["customer_name"].is_null()


def _lost_reference_detail(raw: pl.DataFrame) -> pl.Expr:
    return (
        pl.lit("customer_ref: ")
        + pl.lit(raw["customer_ref"])
        + pl.lit(" lost digits as a spreadsheet number")
    )


def clean_orders(raw: pl.DataFrame, tables: CleaningTables) -> pl.DataFrame:
    """Clean raw order records; rows without a usable date or amount get a `reject_reason`."""
    value_columns = _value_columns(raw)
    garbage = garbage_reason(raw, value_columns, tables.garbage_rows)
    dates = parse_dates_by_source(raw, "order_date", tables, None)
    # A unit in the amount header (金额(万元)) scales plain numbers; a cell's own unit wins (cleaners/amounts.py).
    amounts = parse_amounts(raw["amount_cny"], scale=raw["amount_scale"])
    references = _reference_columns(raw)
    lost_reference = _lost_reference(raw, references)
    frame = pl.DataFrame(
        {
            **{c: raw[c] for c in LINEAGE},
            "order_id": clean_source_ids(raw["order_id"])["id"],
            **references,
            "order_date": dates["date"],
            "amount_cny": amounts["amount"],
            "product": clean_text(raw["product"]),
            "quantity": parse_counts(raw["quantity"]),
            "owner": clean_text(raw["owner"]),
            "raw": raw["raw"],
        }
    )
    reject = (
        pl.when(raw["extract_reason"].is_not_null())
        .then(pl.lit(raw["extract_reason"]))
        .when(pl.lit(garbage).is_not_null())
        .then(pl.lit(garbage))
        .when(dates["date"].is_null())
        .then(pl.lit("order_date_invalid"))
        .when(amounts["amount"].is_null())
        .then(pl.lit("order_amount_invalid"))
        .when(pl.lit(lost_reference))
        .then(pl.lit("id_lossy_number"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    detail = pl.coalesce(
        pl.lit(raw["extract_detail"]),
        pl.when(dates["date"].is_null()).then(pl.lit("order_date: ") + pl.lit(dates["date_reason"])),
        pl.when(amounts["amount"].is_null()).then(pl.lit("amount: ") + pl.lit(raw["amount_cny"])),
        pl.when(pl.lit(lost_reference)).then(_lost_reference_detail(raw)),
    )
    return frame.with_columns(reject.alias("reject_reason"), detail.alias("reject_detail"))


def clean_interactions(raw: pl.DataFrame, tables: CleaningTables) -> pl.DataFrame:
    """Clean raw follow-up records; a missing date is kept as a doubt, not a rejection."""
    value_columns = _value_columns(raw)
    garbage = garbage_reason(raw, value_columns, tables.garbage_rows)
    dates = parse_dates_by_source(raw, "date", tables, None)
    references = _reference_columns(raw)
    lost_reference = _lost_reference(raw, references)
    frame = pl.DataFrame(
        {
            **{c: raw[c] for c in LINEAGE},
            "interaction_id": clean_source_ids(raw["interaction_id"])["id"],
            **references,
            "date": dates["date"],
            "channel": map_channels(raw["channel"], tables.channels),
            "participants": clean_text(raw["participants"]),
            "content": clean_text(raw["content"]),
            "feedback": clean_text(raw["feedback"]),
            "todo": clean_text(raw["todo"]),
            "owner": clean_text(raw["owner"]),
            "raw": raw["raw"],
        }
    )
    issues = _issues(pl.DataFrame({"date": dates["date_reason"]}), {"date": "date"})
    reject = (
        pl.when(raw["extract_reason"].is_not_null())
        .then(pl.lit(raw["extract_reason"]))
        .when(pl.lit(garbage).is_not_null())
        .then(pl.lit(garbage))
        .when(pl.lit(lost_reference))
        .then(pl.lit("id_lossy_number"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    detail = pl.coalesce(
        pl.lit(raw["extract_detail"]), pl.when(pl.lit(lost_reference)).then(_lost_reference_detail(raw))
    )
    return frame.with_columns(issues, reject.alias("reject_reason"), detail.alias("reject_detail"))
