"""Load and validate schemas/kpis.yaml: each of the report's figures, named once, as SQL over the file."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_etl.schemas.config import SCHEMAS_DIR, ConfigError, _load_model

KPIS_FILE = SCHEMAS_DIR / "kpis.yaml"
# The values a query may refer to as `$name`; the run supplies them (flows/kpis.py).
PARAMETERS = frozenset({"completeness_fields"})
_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


class Kpi(BaseModel):
    """One figure: its name in run_kpis, the report card's label key and the query that computes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    sql: str = Field(min_length=1)
    by: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    label: str | None = None

    @field_validator("sql")
    @classmethod
    def _known_parameters(cls, sql: str) -> str:
        unknown = sorted(set(_PARAMETER.findall(sql)) - PARAMETERS)
        if unknown:
            raise ValueError(
                f"uses ${', $'.join(unknown)}; a query may only use ${', $'.join(sorted(PARAMETERS))}"
            )
        return sql.strip().rstrip(";")

    @property
    def parameters(self) -> list[str]:
        """The parameters the query uses, in order of first use."""
        return list(dict.fromkeys(_PARAMETER.findall(self.sql)))


class KpiDefinitions(BaseModel):
    """Every figure of the report, in the order run_kpis stores them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kpis: list[Kpi] = Field(min_length=1)
    path: Path | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> KpiDefinitions:
        seen: set[str] = set()
        for index, kpi in enumerate(self.kpis):
            if kpi.name in seen:
                raise ValueError(f"kpis[{index}]: name {kpi.name!r} is defined twice")
            seen.add(kpi.name)
        return self

    def __getitem__(self, name: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.name == name:
                return kpi
        raise KeyError(name)


def load_kpis(path: Path | None = None) -> KpiDefinitions:
    """Load and validate the KPI definitions (ConfigError names the file and key)."""
    path = path or KPIS_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    definitions: KpiDefinitions = _load_model(KpiDefinitions, path, {"path": path})
    return definitions
