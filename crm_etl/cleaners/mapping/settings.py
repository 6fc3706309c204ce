"""Settings of the column-mapping engine, validated when `schemas/mapping.yaml` loads."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RecordTypeName = Literal["customers", "orders", "interactions"]


def _compiled(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
    return patterns


class Thresholds(BaseModel):
    """Confidences (0-1) at which a column is mapped, and how content evidence counts."""

    model_config = ConfigDict(extra="forbid")
    # A column is mapped when its best field scores at least this much ...
    accept: float = Field(default=0.78, ge=0, le=1)
    # ... and beats the runner-up field by this margin (else: abstain, unless content decides).
    margin: float = Field(default=0.05, ge=0, le=1)
    # rapidfuzz ratio (0-1) below which two header keys are not similar at all.
    fuzzy_min: float = Field(default=0.8, ge=0, le=1)
    # Share of the sampled non-empty values of one kind for content to map an unknown header.
    content_share: float = Field(default=0.8, ge=0, le=1)
    # Fewer non-empty sampled values than this and content says nothing.
    content_min_values: int = Field(default=3, ge=1)
    # A name match is refused when this share of values is of another strong kind and few fit.
    contradiction_share: float = Field(default=0.6, ge=0, le=1)
    sample_rows: int = Field(default=1000, ge=10)


class SheetThresholds(BaseModel):
    """How sure the engine must be of a sheet's kind (customers, orders, follow-ups)."""

    model_config = ConfigDict(extra="forbid")
    # Weighted evidence a header row needs to be taken as a header at all.
    min_score: float = Field(default=1.2, ge=0)
    # The best kind must beat the runner-up kind by this share of its score, else the sheet is ambiguous.
    margin: float = Field(default=0.2, ge=0, le=1)


class MappingRules(BaseModel):
    """How headers that no alias lists are read: generic words, conventions, hints, composites."""

    model_config = ConfigDict(extra="forbid")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    sheets: SheetThresholds = Field(default_factory=SheetThresholds)
    # Words that carry no field meaning on their own (时间, 名称, Name, Date ...): stripped from the end.
    generic_words: list[str]
    # Words that say whose field it is (客户, 公司, 联系人, Account, Contact ...): stripped from the front.
    entity_prefixes: list[str]
    # Regexes over a header's words (lower case, single spaces) per record type and field.
    conventions: dict[RecordTypeName, dict[str, list[str]]] = Field(default_factory=dict)
    # Regexes of headers that are known to carry no canonical field (序号, 修改时间, Last Modified By ...).
    ignore: list[str] = Field(default_factory=list)
    # Parts of a composite field: field -> part -> regexes over the header words.
    composites: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    # Which strong content kinds fit each field (the content check and the content fallback).
    content_fields: dict[RecordTypeName, dict[str, list[str]]] = Field(default_factory=dict)
    # Sheet kinds beyond the record type: evidence (regexes over header words) that a customers sheet
    # is a contacts export (persons with the company they work for).
    contacts_evidence: list[str] = Field(default_factory=list)
    # In a contacts export, headers of the column that holds the person's account ID (-> account_ref).
    contacts_account_ref: list[str] = Field(default_factory=list)
    # Per record type, groups of fields of which a sheet must map at least one, else the file is failed:
    # orders and follow-ups that name no customer cannot be linked to anyone.
    link_fields: dict[RecordTypeName, list[list[str]]] = Field(default_factory=dict)

    @field_validator("ignore", "contacts_evidence", "contacts_account_ref")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        return _compiled(value)

    @field_validator("conventions")
    @classmethod
    def _valid_conventions(
        cls, value: dict[RecordTypeName, dict[str, list[str]]]
    ) -> dict[RecordTypeName, dict[str, list[str]]]:
        for fields in value.values():
            for patterns in fields.values():
                _compiled(patterns)
        return value

    @field_validator("composites")
    @classmethod
    def _valid_composites(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        for field, parts in value.items():
            if field not in COMPOSITE_PARTS:
                raise ValueError(f"{field!r} is not a composite field (one of {', '.join(COMPOSITE_PARTS)})")
            for part, patterns in parts.items():
                if part not in COMPOSITE_PARTS[field]:
                    raise ValueError(
                        f"{field}.{part}: not a part of {field} (one of {', '.join(COMPOSITE_PARTS[field])})"
                    )
                _compiled(patterns)
        return value


# The composite fields the engine knows how to build, and the order their parts join in.
COMPOSITE_PARTS: dict[str, tuple[str, ...]] = {
    "contact_name": ("family", "given"),
    "address": ("province", "city", "district", "street"),
}
