"""Settings of the dedupe engine, validated when `schemas/dedupe.yaml` (or a bench config) loads.

`LinkageSettings` is what the generic engine reads (blocking, comparisons, model, rules); `DedupeSettings`
is the one object a run uses, as Splink has one `Settings`: the linkage job of `schemas/dedupe.yaml`
plus its review band, and the survivorship and source trust of `schemas/pipeline.yaml`.
"""

from __future__ import annotations

import re
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _parsed_sql(value: str) -> str:
    try:
        pl.sql_expr(value)
    except Exception as exc:  # polars raises several error types for bad SQL
        raise ValueError(f"not a valid SQL expression: {exc}") from exc
    return value


class BlockingRule(BaseModel):
    """Records that share the values of all these columns become candidate pairs.

    A list-typed column contributes one key per element (e.g. deletion variants of a name).
    A key shared by more than `max_block_size` records is too common to pair all with all (a
    switchboard, a placeholder, one record exported a thousand times): it is sub-blocked, its
    identical records paired as a star and, with a `window`, each record with the next `window`
    in `sort_by` order (cleaners/dedupe/blocking.py).
    """

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(min_length=1)
    max_block_size: int = Field(default=100, ge=2)
    # `all`: every pair inside a block. `star`: each record with the block's first record only, which
    # connects a block of n records in n - 1 pairs: for keys that are identity, not similarity (a
    # registered name a contacts export repeats for hundreds of people), where all pairs would be
    # quadratic and dropping the block would lose the identity.
    # Plain (not list) columns only: a list column's keys always pair every record of a block.
    pairs: Literal["all", "star"] = "all"
    # Sorted neighbourhood inside an oversized block: each record paired with the next `window`
    # records in `sort_by` order (plain columns, nulls last); 0 = identical records only.
    window: int = Field(default=0, ge=0, le=50)
    sort_by: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _window_has_an_order(self) -> BlockingRule:
        if self.window and not self.sort_by:
            raise ValueError(f"blocking {self.name}: window {self.window} needs sort_by columns to order by")
        if self.sort_by and not self.window:
            raise ValueError(f"blocking {self.name}: sort_by without a window pairs nothing")
        return self

    @property
    def name(self) -> str:
        return "+".join(self.columns)


class Comparison(BaseModel):
    """How one field of two records is compared, in levels from 'different' to 'exact'.

    metric `exact`: equal or not. `jaro_winkler` / `ratio`: similarity in [0, 1], `thresholds`
    descending (≥ t). `levenshtein`: edit distance, `thresholds` ascending (≤ t). Equal values are
    always the top level; a null on either side is no evidence at all.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    column: str
    metric: Literal["exact", "jaro_winkler", "ratio", "levenshtein"]
    thresholds: list[float] = Field(default_factory=list)
    term_frequency: bool = False
    label: str | None = None
    # SQL over the pair (`l_<column>`, `r_<column>`): where it is false the field says nothing, e.g.
    # legacy IDs are only comparable within one source system.
    only_when: str | None = None
    # What share of true duplicate pairs fall in each level (0 = different … last = exact), before
    # seeing the data. EM starts here and is pulled towards it by `model.prior_strength` pseudo-pairs,
    # so a small inbox cannot talk the model into nonsense while a large one decides for itself.
    m_prior: list[float] | None = None
    # Chance agreement before seeing the data, same shape; needed for fields where strangers often
    # agree (industry, city), else a tiny inbox would take any agreement for strong evidence.
    u_prior: list[float] | None = None
    # False: computed for the rules to read (`<name>_level`, `<name>_sim`) but no evidence in the
    # model, e.g. the trade-name part of a company name, which the company comparison already weighs.
    in_model: bool = True

    @field_validator("only_when")
    @classmethod
    def _condition_parses(cls, value: str | None) -> str | None:
        return None if value is None else _parsed_sql(value)

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> Comparison:
        if self.metric == "exact" and self.thresholds:
            raise ValueError(f"comparison {self.name!r}: metric exact takes no thresholds")
        if self.m_prior is not None and (
            len(self.m_prior) != self.levels or min(self.m_prior) <= 0 or abs(sum(self.m_prior) - 1) > 1e-6
        ):
            raise ValueError(
                f"comparison {self.name!r}: m_prior needs {self.levels} positive shares summing to 1"
            )
        if self.u_prior is not None and (
            len(self.u_prior) != self.levels or min(self.u_prior) <= 0 or abs(sum(self.u_prior) - 1) > 1e-6
        ):
            raise ValueError(
                f"comparison {self.name!r}: u_prior needs {self.levels} positive shares summing to 1"
            )
        wanted = sorted(self.thresholds, reverse=self.metric != "levenshtein")
        if self.thresholds != wanted:
            order = "ascending" if self.metric == "levenshtein" else "descending"
            raise ValueError(f"comparison {self.name!r}: thresholds must be {order}")
        return self

    @property
    def levels(self) -> int:
        """Number of levels: 0 = different, 1..len(thresholds) = similar, last = exact."""
        return len(self.thresholds) + 2

    def u_start(self) -> list[float]:
        """`u_prior`, else: strangers almost never agree."""
        if self.u_prior is not None:
            return list(self.u_prior)
        return [1 - 0.001 * (self.levels - 1)] + [0.001] * (self.levels - 1)

    def m_start(self) -> list[float]:
        """`m_prior`, else: duplicates mostly agree exactly, rarely differ outright."""
        if self.m_prior is not None:
            return list(self.m_prior)
        if self.levels == 2:
            return [0.1, 0.9]
        return [0.05, *[0.35 / (self.levels - 2)] * (self.levels - 2), 0.6]


class PairRule(BaseModel):
    """A deterministic rule over a candidate pair, written in SQL over `l_<column>` / `r_<column>`
    and the comparison results `<name>_sim` and `<name>_level`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    when: str

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str) -> str:
        return _parsed_sql(value)


class ModelSettings(BaseModel):
    """Fellegi–Sunter estimation and decision thresholds."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("match_share_rule", "conflict_when")
    @classmethod
    def _rule_parses(cls, value: str | None) -> str | None:
        return None if value is None else _parsed_sql(value)

    u_sample_pairs: int = Field(default=200_000, ge=1_000)
    em_iterations: int = Field(default=30, ge=1)
    em_tolerance: float = Field(default=1e-5, gt=0)
    # Pseudo-pairs behind the m priors and the expected share of duplicates among candidate pairs.
    prior_strength: float = Field(default=100.0, ge=0)
    # The share of duplicates among candidate pairs, from a deterministic rule that only sure
    # duplicates meet (Splink's estimate_probability_two_random_records_match), held fixed in EM:
    # left free, EM may call every similar-looking pair a duplicate.
    match_share_rule: str | None = None
    match_share_recall: float = Field(default=0.7, gt=0, le=1)
    # Random pairs of a tiny inbox are often the same company; pseudo non-match pairs that agree on
    # nothing keep u honest there and vanish against the 200,000 pairs of a real migration.
    u_prior_strength: float = Field(default=100.0, ge=0)
    # Value frequencies are counted as if this many more records, all with other values, existed:
    # in a two-row inbox every value is "common", which says nothing about a real population.
    tf_minimum_population: int = Field(default=1000, ge=0)
    match_share_prior: float = Field(default=0.3, gt=0, lt=1)
    seed: int = 42
    match_probability: float = Field(default=0.9, gt=0, lt=1)
    conflict_probability: float = Field(default=0.001, gt=0, lt=1)
    # SQL over a pair: only pairs this unlikely AND meeting it are conflicts (a cannot-link rule always
    # is one). Two contacts of one company share nothing but the company, and are no conflict.
    conflict_when: str | None = None
    max_split_rounds: int = Field(default=50, ge=0)


class LinkageSettings(BaseModel):
    """Blocking rules, comparisons, the model and the deterministic rules of one linkage job."""

    model_config = ConfigDict(extra="forbid")

    blocking: list[BlockingRule] = Field(min_length=1)
    comparisons: list[Comparison] = Field(min_length=1)
    model: ModelSettings = Field(default_factory=ModelSettings)
    must_link: list[PairRule] = Field(default_factory=list)
    cannot_link: list[PairRule] = Field(default_factory=list)
    # Pairs the model may score high but that never merge on their own: e.g. similar names with
    # nothing else to back them. Unlike cannot_link they do not split a cluster another path built.
    insufficient: list[PairRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> LinkageSettings:
        names = [c.name for c in self.comparisons]
        if len(names) != len(set(names)):
            raise ValueError("comparison names must be unique")
        return self

    @property
    def model_comparisons(self) -> list[Comparison]:
        """The comparisons that are evidence in the model (not those computed for rules only)."""
        return [c for c in self.comparisons if c.in_model]

    @property
    def rule_columns(self) -> list[str]:
        """Record columns the deterministic rules read (as `l_<column>` / `r_<column>`)."""
        sql = [rule.when for rule in [*self.must_link, *self.cannot_link, *self.insufficient]]
        sql += [c.only_when for c in self.comparisons if c.only_when]
        found = (m for text in sql for m in SIDE_COLUMN.findall(text))
        return list(dict.fromkeys(found))

    @property
    def columns(self) -> list[str]:
        """Every record column the job reads."""
        wanted = [c for rule in self.blocking for c in [*rule.columns, *rule.sort_by]]
        wanted += [c.column for c in self.comparisons]
        return list(dict.fromkeys([*wanted, *self.rule_columns]))


SIDE_COLUMN = re.compile(r"\b[lr]_(\w+)")


# `trust`: the most trusted source system first; `recency`: the latest first-contact date first;
# `frequency`: the value (or its `agree_on` variant) most records carry first; `earliest`: the
# smallest value first; `quality`: the highest `quality` score first; `no_typo`: a record whose
# `spelling` is one edit from a spelling more records carry goes last; `verbatim`: a record whose
# source wrote the value as it is shown (not converted by cleaning) first.
SurvivorshipRule = Literal[
    "trust", "recency", "frequency", "earliest", "quality", "no_typo", "verbatim", "preferred"
]
SURVIVORSHIP_RULES: tuple[SurvivorshipRule, ...] = ("trust", "recency", "frequency")
# The record column each rule reads, beside the field itself and the engine's own columns.
_RULE_COLUMNS: dict[str, str] = {
    "quality": "quality", "no_typo": "spelling", "verbatim": "verbatim", "preferred": "preferred"
}  # fmt: skip


class FieldSurvivorship(BaseModel):
    """How one field picks its golden value: ranking rules in order, and the record columns they read.

    Ties after the last rule go to the first record in file order. With `same_record_as` the field
    has no rules of its own: it is taken from the record that won that other field (a code and its
    label must come from one record).
    """

    model_config = ConfigDict(extra="forbid")
    rules: list[SurvivorshipRule] = Field(default_factory=list)
    # Records whose values in this column are equal agree (`frequency`); default: the field itself.
    agree_on: str | None = None
    # `no_typo`: the column compared by edit distance (a normalised key of the value).
    spelling: str | None = None
    # `quality`: a numeric column, higher is better; `quality_label` names the winner's level.
    quality: str | None = None
    quality_label: str | None = None
    # `verbatim`: a boolean column, true where the source cell reads as the cleaned value.
    verbatim: str | None = None
    # `preferred`: a boolean column, true for the spelling to prefer among equals; `preferred_label`
    # says why in `field_sources`.
    preferred: str | None = None
    preferred_label: str = "preferred spelling"
    same_record_as: str | None = None

    @model_validator(mode="after")
    def _rules_have_their_columns(self) -> FieldSurvivorship:
        if bool(self.rules) == bool(self.same_record_as):
            raise ValueError("give either rules or same_record_as")
        if len(set(self.rules)) != len(self.rules):
            raise ValueError(f"a rule is listed twice: {self.rules}")
        for rule, option in _RULE_COLUMNS.items():
            if rule in self.rules and getattr(self, option) is None:
                raise ValueError(f"rule {rule!r} needs the record column {option!r}")
        return self

    @property
    def columns(self) -> list[str]:
        """Record columns the rules read, besides the field and the engine's lineage columns."""
        options = [
            self.agree_on,
            self.spelling,
            self.quality,
            self.quality_label,
            self.verbatim,
            self.preferred,
        ]
        return [c for c in options if c is not None]


# first_contact_date is when a customer was first met, whichever record says so.
BUILT_IN_FIELDS: dict[str, FieldSurvivorship] = {"first_contact_date": FieldSurvivorship(rules=["earliest"])}


class Survivorship(BaseModel):
    """How the golden record picks each field among duplicates (pipeline.yaml `survivorship`).

    A field in `fields` is a list of rules (`owner: [recency, trust]`) or a `FieldSurvivorship`;
    any other field ranks by `default`, except those in BUILT_IN_FIELDS.
    """

    model_config = ConfigDict(extra="forbid")
    default: list[SurvivorshipRule] = Field(default=list(SURVIVORSHIP_RULES), min_length=1)
    fields: dict[str, FieldSurvivorship] = Field(default_factory=dict)

    @field_validator("fields", mode="before")
    @classmethod
    def _rule_lists(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: {"rules": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _same_record_as_a_ranked_field(self) -> Survivorship:
        for name, spec in self.fields.items():
            lead = spec.same_record_as
            if lead is not None and (lead == name or self.for_field(lead).same_record_as is not None):
                raise ValueError(f"fields.{name}: same_record_as {lead!r} must be a field with rules")
        return self

    def for_field(self, name: str) -> FieldSurvivorship:
        """The configured rules of a field, else its built-in ones, else the default."""
        return self.fields.get(name) or BUILT_IN_FIELDS.get(name) or FieldSurvivorship(rules=self.default)


class ReviewSettings(BaseModel):
    """Which scored pairs a data steward is asked about (dedupe.yaml `review`)."""

    model_config = ConfigDict(extra="forbid")

    # Pairs with lower <= match_probability < upper are queued.
    lower: float = Field(default=0.5, gt=0, lt=1)
    upper: float = Field(default=0.9, gt=0, lt=1)
    # Also queue pairs the model scores at or above `upper` that an `insufficient` rule held apart.
    held_by_insufficient: bool = True
    # At most this many pairs per run, most uncertain first.
    max_pairs: int = Field(default=500, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ReviewSettings:
        if self.lower >= self.upper:
            raise ValueError(f"review: lower ({self.lower}) must be below upper ({self.upper})")
        return self


class DedupeSettings(LinkageSettings):
    """Everything a run's dedupe stage reads: the linkage job, its review band, survivorship and source trust."""

    review: ReviewSettings = Field(default_factory=ReviewSettings)
    survivorship: Survivorship = Field(default_factory=Survivorship)
    # Source systems, most trusted first (pipeline.yaml `source_trust`).
    source_trust: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _review_meets_merging(self) -> DedupeSettings:
        # Pairs between review.upper and the merge threshold would be neither merged nor asked about.
        if self.review.upper < self.model.match_probability:
            raise ValueError(
                f"review.upper ({self.review.upper}) is below model.match_probability "
                f"({self.model.match_probability}): pairs in between would be neither merged nor reviewed"
            )
        return self
