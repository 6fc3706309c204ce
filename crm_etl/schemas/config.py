"""Load and validate the declarative configuration in `schemas/` (sources, fields, pipeline)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from crm_etl.cleaners.dedupe.settings import DedupeSettings, LinkageSettings, Survivorship
from crm_etl.cleaners.dedupe.survivorship import GOLDEN_FIELDS
from crm_etl.cleaners.garbage_vocabulary import GarbageVocabulary
from crm_etl.cleaners.lead_sources import LeadSourceVocabulary, lead_source_keys
from crm_etl.cleaners.mapping.headers import normalise_header
from crm_etl.cleaners.mapping.settings import MappingRules
from crm_etl.cleaners.mapping.vocabulary import Vocabulary, build_vocabularies

SCHEMAS_DIR = Path(__file__).resolve().parent
RecordType = Literal["customers", "orders", "interactions"]


class ConfigError(ValueError):
    """A configuration file in schemas/ is missing, unreadable or invalid."""


class FieldDef(BaseModel):
    """One canonical field of a record type."""

    model_config = ConfigDict(extra="forbid")
    label: str
    description: str


class CanonicalSchema(BaseModel):
    """Canonical fields per record type (schemas/customer.yaml)."""

    model_config = ConfigDict(extra="forbid")
    record_types: dict[RecordType, dict[str, FieldDef]]

    def fields(self, record_type: RecordType) -> list[str]:
        """Canonical field names of a record type, in declaration order."""
        return list(self.record_types[record_type])


class SourceSpec(BaseModel):
    """How to recognise one kind of export and map its headers to canonical fields."""

    model_config = ConfigDict(extra="forbid")
    name: str
    source_system: str
    record_type: RecordType
    description: str = ""
    key_field: str | None = None
    # Fewer matched fields than this and a header row is not taken to be this kind.
    min_matched_fields: int = Field(default=2, ge=1)
    # Day-first (True) or month-first (False) for slash dates; None = infer per column.
    day_first: bool | None = None
    # File types this kind of export usually comes as: a tie-breaker when headers fit two specs.
    file_suffixes: list[str] = Field(default_factory=list)
    aliases: dict[str, list[str]]
    path: Path | None = None

    @field_validator("aliases")
    @classmethod
    def _aliases_non_empty(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for field, names in value.items():
            if not names:
                raise ValueError(f"field {field!r} has no aliases")
        return value

    def header_lookup(self) -> dict[str, str]:
        """Normalised header text -> canonical field."""
        return {normalise_header(alias): field for field, names in self.aliases.items() for alias in names}


class PipelineSettings(BaseModel):
    """Run-wide settings (schemas/pipeline.yaml)."""

    model_config = ConfigDict(extra="forbid")
    source_trust: list[str]
    customer_id_pattern: str
    first_contact_min_date: dt.date
    completeness_fields: list[str]
    completeness_target: float = Field(ge=0, le=1)
    completeness_alarm: float = Field(ge=0, le=1)
    phone_region: str = "CN"
    # A file is failed when more than this share of its data rows are quarantined for one reason.
    failed_file_share: float = Field(default=0.5, gt=0, le=1)
    survivorship: Survivorship = Field(default_factory=Survivorship)

    @field_validator("customer_id_pattern")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        re.compile(value)
        return value


_SIZE = r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"
_UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def size_bytes(size: str) -> int:
    """A size as DuckDB writes it (`2GB` = 2·10⁹ bytes, `2GiB` = 2·2³⁰) in bytes."""
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(\w+)", size.strip()).groups()  # type: ignore[union-attr]
    return int(float(number) * _UNITS.get(unit, 2**40))


class ClusterSettings(BaseModel):
    """Where a run's work is done: this process, a local Dask cluster or a running one (flows/cluster.py)."""

    model_config = ConfigDict(extra="forbid")
    # Worker processes of a local Dask cluster; 0: everything in this process (the default).
    workers: int = Field(default=0, ge=0, le=512)
    # A running Dask scheduler ("tcp://10.0.0.5:8786"); wins over `workers`.
    dask_address: str | None = None
    # The folder the fanned-out tasks exchange Parquet files in: a path or an fsspec URL
    # (s3://bucket/prefix); None: <db>.work/ next to the database file.
    work_folder: str | None = None
    # Candidate pairs compared and scored by one task.
    pair_chunk_size: int = Field(default=1_000_000, ge=1_000)


class RunSettings(BaseModel):
    """How runs read the inbox and look after the database file (schemas/runs.yaml)."""

    model_config = ConfigDict(extra="forbid")
    settle_seconds: float = Field(ge=0)
    read_retries: int = Field(ge=0, le=50)
    read_retry_delay_seconds: float = Field(ge=0)
    snapshots_keep: int = Field(ge=0)
    # DuckDB's buffer memory for the run's working copy (a DuckDB size: "2GB", "800MB").
    duckdb_memory_limit: str = Field(default="2GB", pattern=_SIZE)
    # The most a workbook may unpack to (the sizes its zip directory declares), read before any sheet.
    max_workbook_unpacked: str = Field(default="2GB", pattern=_SIZE)
    # The DuckDB release whose storage format the published file is written in (flows/storage_version.py).
    duckdb_storage_version: str = Field(default="v1.4.0", pattern=r"^v\d+\.\d+\.\d+$")
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)

    @field_validator("duckdb_storage_version")
    @classmethod
    def _known_storage_version(cls, version: str) -> str:
        # The installed DuckDB knows which releases it can write for; a typo fails here, not mid-run.
        try:
            duckdb.connect(config={"storage_compatibility_version": version}).close()
        except duckdb.Error as exc:
            raise ValueError(str(exc).splitlines()[0].split(", valid options")[0]) from exc
        return version

    @property
    def max_workbook_unpacked_bytes(self) -> int:
        return size_bytes(self.max_workbook_unpacked)


class MappingOverride(BaseModel):
    """A confirmed mapping of one export's sheet (schemas/mappings/*.yaml, written by `crm-etl map --write`).

    It applies to files whose path (relative to the inbox) matches `file_pattern` (a glob) and
    whose header row has the same fingerprint, so a changed export is mapped afresh, not wrongly.
    """

    model_config = ConfigDict(extra="forbid")
    file_pattern: str = Field(min_length=1)
    sheet: str = "*"
    header_fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$")
    header_row: int = Field(ge=1)
    spec: str
    # The sheet's kind when it is not the spec's record type: `contacts` for persons at a company.
    kind: Literal["customers", "contacts", "orders", "interactions"] | None = None
    # Header text as written -> canonical field, or null for a column that holds none.
    columns: dict[str, str | None]
    path: Path | None = None


class Config(BaseModel):
    """Everything the pipeline reads from schemas/."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    directory: Path
    canonical: CanonicalSchema
    sources: list[SourceSpec]
    pipeline: PipelineSettings
    dedupe: DedupeSettings
    runs: RunSettings
    garbage_rows: GarbageVocabulary
    lead_sources: LeadSourceVocabulary
    mapping: MappingRules
    overrides: list[MappingOverride] = Field(default_factory=list)

    _vocabularies: dict[RecordType, Vocabulary] | None = PrivateAttr(default=None)

    def vocabularies(self) -> dict[RecordType, Vocabulary]:
        """The mapping engine's alias index per record type (built once per Config)."""
        if self._vocabularies is None:
            record_types: tuple[RecordType, ...] = ("customers", "orders", "interactions")
            self._vocabularies = build_vocabularies(
                ((s.name, s.record_type, s.aliases) for s in self.sources),
                {t: self.canonical.fields(t) for t in record_types},
                self.mapping,
            )
        return self._vocabularies


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def _validation_message(path: Path, exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
    )
    return f"{path}: {problems}"


def _load_model(model: type[BaseModel], path: Path, extra: dict[str, Any] | None = None) -> Any:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate({**data, **(extra or {})})
    except ValidationError as exc:
        raise ConfigError(_validation_message(path, exc)) from exc


def load_sources(directory: Path, canonical: CanonicalSchema) -> list[SourceSpec]:
    """Load every `*.yaml` source spec in a directory and check it against the canonical fields."""
    specs: list[SourceSpec] = []
    seen_names: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        spec: SourceSpec = _load_model(SourceSpec, path, {"path": path})
        known = set(canonical.fields(spec.record_type))
        for field in spec.aliases:
            if field not in known:
                raise ConfigError(
                    f"{path}: aliases.{field}: not a canonical {spec.record_type} field "
                    f"(known: {', '.join(sorted(known))})"
                )
        if spec.key_field is not None and spec.key_field not in known:
            raise ConfigError(f"{path}: key_field: {spec.key_field!r} is not a canonical field")
        owners: dict[str, str] = {}
        for field, names in spec.aliases.items():
            for alias in names:
                key = normalise_header(alias)
                if key in owners and owners[key] != field:
                    raise ConfigError(
                        f"{path}: alias {alias!r} is listed under both {owners[key]!r} and {field!r}"
                    )
                owners[key] = field
        if spec.name in seen_names:
            raise ConfigError(f"{path}: name {spec.name!r} is already used by {seen_names[spec.name]}")
        seen_names[spec.name] = path
        specs.append(spec)
    if not specs:
        raise ConfigError(f"{directory}: no source specs (*.yaml) found")
    return specs


def load_config(directory: Path | None = None) -> Config:
    """Load and validate the whole schemas/ directory."""
    root = directory or SCHEMAS_DIR
    canonical: CanonicalSchema = _load_model(CanonicalSchema, root / "customer.yaml")
    pipeline: PipelineSettings = _load_model(PipelineSettings, root / "pipeline.yaml")
    fields = set(canonical.fields("customers")) | {"contact"}
    for name in pipeline.completeness_fields:
        if name not in fields:
            raise ConfigError(
                f"{root / 'pipeline.yaml'}: completeness_fields: {name!r} is not a customer field"
            )

    for name, spec in pipeline.survivorship.fields.items():
        for field in (name, spec.same_record_as):
            if field is not None and field not in GOLDEN_FIELDS:
                raise ConfigError(
                    f"{root / 'pipeline.yaml'}: survivorship.fields: {field!r} is not a field chosen by"
                    f" survivorship (one of {', '.join(GOLDEN_FIELDS)})"
                )
    sources = load_sources(root / "sources", canonical)
    dedupe: DedupeSettings = _load_model(
        DedupeSettings,
        root / "dedupe.yaml",
        {"survivorship": pipeline.survivorship.model_dump(), "source_trust": pipeline.source_trust},
    )
    runs: RunSettings = _load_model(RunSettings, root / "runs.yaml")
    mapping = load_mapping_rules(root / "mapping.yaml", canonical)
    overrides = load_overrides(root / "mappings", canonical, sources)
    garbage_rows = load_garbage_rows(root / "garbage_rows.yaml", canonical)
    lead_sources = load_lead_sources(root / "lead_sources.yaml")
    return Config(
        directory=root,
        canonical=canonical,
        sources=sources,
        pipeline=pipeline,
        dedupe=dedupe,
        runs=runs,
        mapping=mapping,
        overrides=overrides,
        garbage_rows=garbage_rows,
        lead_sources=lead_sources,
    )


def load_mapping_rules(path: Path, canonical: CanonicalSchema) -> MappingRules:
    """The mapping engine's rules (schemas/mapping.yaml), every field they name checked."""
    rules: MappingRules = _load_model(MappingRules, path)
    for record_type, groups in rules.link_fields.items():
        known = set(canonical.fields(record_type))
        for name in (n for group in groups for n in group):
            if name not in known:
                raise ConfigError(
                    f"{path}: link_fields.{record_type}: {name!r} is not a canonical {record_type} field"
                )
    for section in ("conventions", "content_fields"):
        for record_type, fields in getattr(rules, section).items():
            known = set(canonical.fields(record_type))
            for name in fields:
                if name not in known:
                    raise ConfigError(
                        f"{path}: {section}.{record_type}.{name}: not a canonical {record_type} field"
                    )
    return rules


def load_overrides(
    directory: Path, canonical: CanonicalSchema, sources: list[SourceSpec]
) -> list[MappingOverride]:
    """Confirmed mappings of known exports (schemas/mappings/*.yaml); a missing folder means none."""
    if not directory.is_dir():
        return []
    by_name = {s.name: s for s in sources}
    overrides: list[MappingOverride] = []
    for path in sorted(directory.glob("*.yaml")):
        data = _read_yaml(path)
        entries = data.get("sheets") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f"{path}: expected a mapping with a list `sheets:`")
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigError(f"{path}: sheets.{position}: expected a mapping")
            try:
                override = MappingOverride.model_validate({**entry, "path": path})
            except ValidationError as exc:
                raise ConfigError(
                    _validation_message(path, exc).replace(": ", f": sheets.{position}.", 1)
                ) from exc
            spec = by_name.get(override.spec)
            if spec is None:
                raise ConfigError(
                    f"{path}: sheets.{position}.spec: {override.spec!r} is not a source spec "
                    f"(one of {', '.join(by_name)})"
                )
            known = set(canonical.fields(spec.record_type))
            for header, field in override.columns.items():
                if field is not None and field not in known:
                    raise ConfigError(
                        f"{path}: sheets.{position}.columns.{header}: {field!r} is not a canonical "
                        f"{spec.record_type} field"
                    )
            overrides.append(override)
    return overrides


def load_garbage_rows(
    path: Path | None = None, canonical: CanonicalSchema | None = None
) -> GarbageVocabulary:
    """Totals labels, footer patterns, test markers and placeholder contacts (schemas/garbage_rows.yaml)."""
    path = path or SCHEMAS_DIR / "garbage_rows.yaml"
    vocabulary: GarbageVocabulary = _load_model(GarbageVocabulary, path)
    if canonical is not None:
        known = {f for t in canonical.record_types for f in canonical.fields(t)}
        markers = vocabulary.test_records
        columns = {
            "name_columns": markers.name_columns,
            "company_column": (markers.company_column,),
            "phone_columns": markers.phone_columns,
            "email_columns": markers.email_columns,
        }
        for key, names in columns.items():
            for name in names:
                if name not in known:
                    raise ConfigError(f"{path}: test_records.{key}: {name!r} is not a canonical field")
    return vocabulary


def load_linkage_settings(path: Path) -> LinkageSettings:
    """Blocking, comparisons, model and rules of a linkage job (schemas/dedupe.yaml, bench configs)."""
    settings: LinkageSettings = _load_model(LinkageSettings, path)
    return settings


class TagRule(BaseModel):
    """One tag rule: `tag` for every customer where the SQL predicate `when` holds."""

    model_config = ConfigDict(extra="forbid")
    tag: str = Field(min_length=1)
    group: str
    when: str = Field(min_length=1)
    slot: str | None = None
    priority: int = 0
    line: int = 0


class TagRules(BaseModel):
    """Tag rules, their groups and the slot order of `tag_line` (schemas/tag_rules.yaml)."""

    model_config = ConfigDict(extra="forbid")
    groups: list[str] = Field(min_length=1)
    tag_line: list[str] = Field(min_length=1)
    rules: list[TagRule]
    path: Path | None = None


def load_tag_rules(path: Path | None = None) -> TagRules:
    """Load tag rules, recording each rule's line in the file for error messages."""
    path = path or SCHEMAS_DIR / "tag_rules.yaml"
    rules: TagRules = _load_model(TagRules, path, {"path": path})
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:  # pragma: no cover - _load_model already parsed it
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    rule_nodes = next(v for k, v in node.value if k.value == "rules").value  # type: ignore[union-attr]
    for rule, rule_node in zip(rules.rules, rule_nodes, strict=True):
        rule.line = rule_node.start_mark.line + 1
    seen: dict[str, TagRule] = {}
    for rule in rules.rules:
        where = f"{path}:{rule.line}: rule {rule.tag!r}"
        if rule.group not in rules.groups:
            raise ConfigError(f"{where} has group {rule.group!r}, not in groups")
        if ";" in rule.when:
            raise ConfigError(f"{where}: `when` must be one SQL expression (no ';')")
        if rule.slot is not None and rule.slot not in rules.tag_line:
            raise ConfigError(f"{where} has slot {rule.slot!r}, not in tag_line")
        first = seen.setdefault(rule.tag, rule)
        if (first.group, first.slot) != (rule.group, rule.slot):
            raise ConfigError(f"{where}: the same tag at line {first.line} has another group or slot")
    return rules


def load_channels(path: Path | None = None) -> dict[str, str]:
    """Interaction channel spellings (normalised) -> canonical channel."""
    path = path or SCHEMAS_DIR / "channels.yaml"
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("channels"), dict):
        raise ConfigError(f"{path}: expected a mapping `channels: {{canonical: [spellings]}}`")
    lookup: dict[str, str] = {}
    for canonical, spellings in data["channels"].items():
        for spelling in [canonical, *(spellings or [])]:
            key = normalise_header(spelling)
            if lookup.get(key, canonical) != canonical:
                raise ConfigError(
                    f"{path}: spelling {spelling!r} is listed under {lookup[key]!r} and {canonical!r}"
                )
            lookup[key] = str(canonical)
    return lookup


class LeadSourceChannel(BaseModel):
    """One lead-source channel: exact spellings and regex patterns (schemas/lead_sources.yaml)."""

    model_config = ConfigDict(extra="forbid")
    spellings: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)


class LeadSourcesFile(BaseModel):
    """schemas/lead_sources.yaml: canonical channel -> spellings and patterns, in priority order."""

    model_config = ConfigDict(extra="forbid")
    lead_sources: dict[str, LeadSourceChannel] = Field(min_length=1)
    unknown: str | None = None


def _regex_problem(pattern: str) -> str | None:
    """Why polars (Rust `regex`) cannot use a pattern as a channel test, or None."""
    try:
        matches_empty = pl.select(pl.lit("", dtype=pl.String).str.contains(pattern)).item()
    except pl.exceptions.PolarsError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines if line.startswith("error:")), lines[0] if lines else "")
        return f"is not a valid regular expression ({detail})"
    if matches_empty:
        return "matches the empty text, so it would match every value"
    return None


def load_lead_sources(path: Path | None = None) -> LeadSourceVocabulary:
    """Load and check lead_sources.yaml: one channel per spelling, every pattern a valid regex."""
    path = path or SCHEMAS_DIR / "lead_sources.yaml"
    data: LeadSourcesFile = _load_model(LeadSourcesFile, path)
    owned = [
        (name, spelling)
        for name, channel in data.lead_sources.items()
        for spelling in [name, *channel.spellings]
    ]
    keys = lead_source_keys(pl.Series([spelling for _, spelling in owned], dtype=pl.String)).to_list()
    spellings: dict[str, str] = {}
    first_spelling: dict[str, str] = {}
    for (name, spelling), key in zip(owned, keys, strict=True):
        where = f"{path}: lead_sources.{name}.spellings"
        if key is None:
            raise ConfigError(f"{where}: {spelling!r} has no letters or digits")
        if spellings.get(key, name) != name:
            raise ConfigError(
                f"{where}: {spelling!r} is also a spelling of {spellings[key]!r} "
                f"(as {first_spelling[key]!r}; both read {key!r})"
            )
        spellings[key] = name
        first_spelling.setdefault(key, spelling)
    for name, channel in data.lead_sources.items():
        for index, pattern in enumerate(channel.patterns):
            problem = _regex_problem(pattern)
            if problem is not None:
                raise ConfigError(f"{path}: lead_sources.{name}.patterns.{index}: {pattern!r} {problem}")
    if data.unknown is not None and data.unknown not in data.lead_sources:
        raise ConfigError(
            f"{path}: unknown: {data.unknown!r} is not a channel of lead_sources "
            f"(known: {', '.join(data.lead_sources)})"
        )
    return LeadSourceVocabulary(
        channels=tuple(data.lead_sources),
        spellings=spellings,
        patterns={name: tuple(channel.patterns) for name, channel in data.lead_sources.items()},
        unknown=data.unknown,
    )
