"""Column mapping: which canonical field each source column holds, how sure, and why (pure functions)."""

from crm_etl.cleaners.mapping.columns import Candidate, ColumnDecision, decide_column, name_candidates
from crm_etl.cleaners.mapping.content import ContentProfile, profile_column
from crm_etl.cleaners.mapping.headers import HeaderHints, ParsedHeader, normalise_header, parse_header
from crm_etl.cleaners.mapping.settings import MappingRules
from crm_etl.cleaners.mapping.sheets import AmbiguousSheet, SheetMapping, SpecInfo, decide_columns, map_sheet
from crm_etl.cleaners.mapping.vocabulary import Vocabulary, build_vocabularies

__all__ = [
    "AmbiguousSheet",
    "Candidate",
    "ColumnDecision",
    "ContentProfile",
    "HeaderHints",
    "MappingRules",
    "ParsedHeader",
    "SheetMapping",
    "SpecInfo",
    "Vocabulary",
    "build_vocabularies",
    "decide_column",
    "decide_columns",
    "map_sheet",
    "name_candidates",
    "normalise_header",
    "parse_header",
    "profile_column",
]
