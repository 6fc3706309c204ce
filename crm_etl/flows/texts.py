"""The report's texts in zh-CN and English (reports/templates/messages.yaml), checked on load."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from crm_etl.schemas import Config, ConfigError

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
MESSAGES = Path(__file__).resolve().parent.parent / "reports" / "templates" / "messages.yaml"


@cache
def messages() -> dict[str, dict[str, dict[str, str]]]:
    """The report's texts per section and key, in every language (reports/templates/messages.yaml)."""
    path = MESSAGES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    for section, entries in data.items():
        for key, texts in entries.items():
            missing = [lang for lang in LANGUAGES if not isinstance(texts, dict) or lang not in texts]
            if missing:
                raise ConfigError(f"{path}: {section}.{key}: no text for {', '.join(missing)}")
    return dict(data)


class Texts:
    """Look-ups of the report's texts in one language."""

    def __init__(self, lang: Language, config: Config) -> None:
        self.lang = lang
        self.data = messages()
        self.canonical = {f: d.label for f, d in config.canonical.record_types["customers"].items()}

    def __call__(self, key: str, **values: Any) -> str:
        entry = self.data["text"].get(key)
        text = entry[self.lang] if entry else key
        return text.format(**values) if values else text

    def field(self, name: str) -> str:
        entry = self.data["fields"].get(name)
        if entry:
            return entry[self.lang]
        return self.canonical.get(name, name) if self.lang == "zh-CN" else name

    def section(self, section: str, key: str) -> str:
        entry = self.data[section].get(key)
        return entry[self.lang] if entry else key
