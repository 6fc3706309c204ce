"""Declarative contracts: canonical fields, source header aliases, pipeline settings."""

from crm_etl.schemas.config import (
    SCHEMAS_DIR,
    CanonicalSchema,
    Config,
    ConfigError,
    PipelineSettings,
    RunSettings,
    SourceSpec,
    load_config,
)

__all__ = [
    "SCHEMAS_DIR",
    "CanonicalSchema",
    "Config",
    "ConfigError",
    "PipelineSettings",
    "RunSettings",
    "SourceSpec",
    "load_config",
]
