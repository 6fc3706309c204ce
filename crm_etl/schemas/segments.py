"""Load and validate schemas/segments.yaml: RFM tiers, churn risk, lifecycle, follow-up, keywords."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crm_etl.schemas.config import SCHEMAS_DIR, ConfigError, _read_yaml, _validation_message

SEGMENTS_FILE = SCHEMAS_DIR / "segments.yaml"
IDENTIFIER = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmployeeBand(_Strict):
    """A band of employee counts starting at `min_employees`."""

    label: str = Field(min_length=1)
    min_employees: int = Field(ge=0)


class Tier(_Strict):
    """An RFM tier and the thresholds a customer must all meet to be in it (None: not checked)."""

    tier: str = Field(min_length=1, max_length=8)
    label: str = Field(min_length=1)
    max_recency_days: int | None = Field(default=None, ge=0)
    min_frequency_per_year: float | None = Field(default=None, ge=0)
    min_monetary_per_year: float | None = Field(default=None, ge=0)


class DefaultTier(_Strict):
    """The tier of every customer no listed tier takes."""

    tier: str = Field(min_length=1, max_length=8)
    label: str = Field(min_length=1)


class Rfm(_Strict):
    """RFM measurement window and tiers, tried in order."""

    window_months: int = Field(ge=1, le=120)
    tiers: list[Tier] = Field(min_length=1)
    default: DefaultTier

    @model_validator(mode="after")
    def _tiers_distinct(self) -> Rfm:
        names = [t.tier for t in self.tiers] + [self.default.tier]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"tier names used more than once: {', '.join(repeated)}")
        return self


class ChurnRisk(_Strict):
    inactive_more_than_days: int = Field(ge=1)


class Lifecycle(_Strict):
    repeat_after_months: int = Field(ge=0)
    intent_when: str = Field(min_length=1)

    @field_validator("intent_when")
    @classmethod
    def _one_expression(cls, value: str) -> str:
        if ";" in value:
            raise ValueError("must be one SQL expression (no ';')")
        return value


class FollowUp(_Strict):
    overdue_after_days: int = Field(ge=1)
    first_contact_due_days: int = Field(ge=0)


class KeywordSet(_Strict):
    """Words that signal something in interaction texts, and phrases that must not count."""

    words: list[str] = Field(min_length=1)
    exclude: list[str] = []

    @field_validator("words", "exclude")
    @classmethod
    def _no_blank_words(cls, value: list[str]) -> list[str]:
        words = [str(w).strip().lower() for w in value]
        if any(not w for w in words):
            raise ValueError("blank word")
        return list(dict.fromkeys(words))


class Products(_Strict):
    extra: list[str] = []
    min_name_length: int = Field(default=2, ge=1)


class Segments(_Strict):
    """Everything schemas/segments.yaml sets."""

    new_customer_months: int = Field(ge=0)
    employee_bands: list[EmployeeBand] = Field(min_length=1)
    rfm: Rfm
    churn_risk: ChurnRisk
    lifecycle: Lifecycle
    follow_up: FollowUp
    keywords: dict[str, KeywordSet]
    products: Products = Products()
    path: Path | None = None

    @field_validator("employee_bands")
    @classmethod
    def _bands_ascending(cls, bands: list[EmployeeBand]) -> list[EmployeeBand]:
        minimums = [b.min_employees for b in bands]
        if minimums[0] != 0:
            raise ValueError("the first band must start at min_employees: 0")
        if any(b <= a for a, b in itertools.pairwise(minimums)):
            raise ValueError("min_employees must increase from band to band")
        return bands

    @field_validator("keywords")
    @classmethod
    def _keyword_names(cls, value: dict[str, KeywordSet]) -> dict[str, KeywordSet]:
        for name in value:
            if not re.fullmatch(IDENTIFIER, name):
                raise ValueError(f"{name!r} is not a name like price or need (a-z, 0-9, _)")
        return value


def load_segments(path: Path | None = None) -> Segments:
    """Load and validate the segment settings."""
    path = path or SEGMENTS_FILE
    data: Any = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return Segments.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise ConfigError(_validation_message(path, exc)) from exc
