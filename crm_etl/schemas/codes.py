"""Load the code tables in schemas/ (industries.yaml, customer_types.yaml) as lookups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crm_etl.cleaners.codes import code_lookup_keys
from crm_etl.schemas.config import ConfigError

SCHEMAS_DIR = Path(__file__).resolve().parent
INDUSTRIES_FILE = SCHEMAS_DIR / "industries.yaml"
CUSTOMER_TYPES_FILE = SCHEMAS_DIR / "customer_types.yaml"

CustomerType = Literal["prospect", "customer", "churned"]
CustomerStage = Literal["lead", "intent", "deal", "churned"]
_STAGES_OF_TYPE: dict[str, set[str]] = {
    "prospect": {"lead", "intent"},
    "customer": {"deal"},
    "churned": {"churned"},
}


class IndustrySection(BaseModel):
    """One GB/T 4754 section (门类) and the words exports use for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[A-T]$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    broad_group: str = Field(min_length=1)
    synonyms: tuple[str, ...] = ()


class IndustryFile(BaseModel):
    """schemas/industries.yaml."""

    model_config = ConfigDict(extra="forbid")
    standard: str
    sections: list[IndustrySection]

    @field_validator("sections")
    @classmethod
    def _codes_unique(cls, sections: list[IndustrySection]) -> list[IndustrySection]:
        codes = [s.code for s in sections]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"section codes listed more than once: {', '.join(repeated)}")
        return sections


class CustomerTypeEntry(BaseModel):
    """A canonical customer type at one funnel stage, and the words exports use for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: CustomerType
    stage: CustomerStage
    synonyms: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _stage_fits_type(self) -> CustomerTypeEntry:
        if self.stage not in _STAGES_OF_TYPE[self.value]:
            raise ValueError(f"stage {self.stage!r} does not belong to type {self.value!r}")
        return self


class CustomerTypesFile(BaseModel):
    """schemas/customer_types.yaml."""

    model_config = ConfigDict(extra="forbid")
    types: list[CustomerTypeEntry]


class IndustryTable(Mapping[str, str]):
    """Synonym (in lookup form) → section code; also the sections' names and broad groups."""

    def __init__(self, sections: list[IndustrySection], synonyms: dict[str, str], path: Path):
        self.sections = tuple(sections)
        self.synonyms = synonyms
        self.path = path
        self.names = {s.code: s.name_zh for s in sections}
        self.names_en = {s.code: s.name_en for s in sections}
        self.broad_groups = {s.code: s.broad_group for s in sections}

    def __getitem__(self, key: str) -> str:
        return self.synonyms[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.synonyms)

    def __len__(self) -> int:
        return len(self.synonyms)


class CustomerTypeTable(Mapping[str, tuple[str, str]]):
    """Synonym (in lookup form) → (customer_type, customer_stage)."""

    def __init__(self, entries: list[CustomerTypeEntry], synonyms: dict[str, tuple[str, str]], path: Path):
        self.entries = tuple(entries)
        self.synonyms = synonyms
        self.path = path

    def __getitem__(self, key: str) -> tuple[str, str]:
        return self.synonyms[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.synonyms)

    def __len__(self) -> int:
        return len(self.synonyms)


def _load(model: type[BaseModel], path: Path) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc


def _synonym_lookup(path: Path, owned: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """Lookup form → value from (owner, synonym, value) triples; one owner per synonym."""
    keys = code_lookup_keys(pl.Series([synonym for _, synonym, _ in owned], dtype=pl.String))
    lookup: dict[str, Any] = {}
    owner_of: dict[str, tuple[str, str]] = {}
    for (owner, synonym, value), key in zip(owned, keys.to_list(), strict=True):
        if key is None:
            raise ConfigError(f"{path}: {owner}: synonym {synonym!r} has no letters or digits")
        if key in owner_of and owner_of[key][0] != owner:
            first_owner, first_synonym = owner_of[key]
            raise ConfigError(
                f"{path}: synonym {synonym!r} under {owner} is the same word as "
                f"{first_synonym!r} under {first_owner} (both read {key!r})"
            )
        owner_of.setdefault(key, (owner, synonym))
        lookup[key] = value
    return lookup


def load_industry_table(path: Path | None = None) -> IndustryTable:
    """Load and check industries.yaml; synonyms, names and English names all map to the code."""
    path = path or INDUSTRIES_FILE
    table: IndustryFile = _load(IndustryFile, path)
    owned = [
        (f"section {s.code}", word, s.code)
        for s in table.sections
        for word in (s.name_zh, s.name_en, *s.synonyms)
    ]
    return IndustryTable(table.sections, _synonym_lookup(path, owned), path)


def load_customer_types(path: Path | None = None) -> CustomerTypeTable:
    """Load and check customer_types.yaml; synonyms map to (customer_type, customer_stage)."""
    path = path or CUSTOMER_TYPES_FILE
    table: CustomerTypesFile = _load(CustomerTypesFile, path)
    owned = [
        (f"types.{i} ({e.value}/{e.stage})", word, (e.value, e.stage))
        for i, e in enumerate(table.types)
        for word in e.synonyms
    ]
    return CustomerTypeTable(table.types, _synonym_lookup(path, owned), path)
