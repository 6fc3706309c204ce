"""The words the engine knows: every source spec's aliases per record type, indexed for matching."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from crm_etl.cleaners.mapping.headers import has_cjk, header_words, normalise_header
from crm_etl.cleaners.mapping.settings import MappingRules, RecordTypeName

# Chinese headers this long or longer are matched for one-character typos (客护名称).
TYPO_MIN_CHARS = 3


@dataclass(frozen=True)
class Alias:
    """One alias of a source spec: its key, words, and the field it names."""

    key: str
    words: str
    field: str
    spec: str


@dataclass(frozen=True)
class SpecificAlias:
    """An alias that is more than a generic word, with what containment matching reads of it."""

    alias: Alias
    core: str
    tokens: list[str]


@dataclass
class Vocabulary:
    """Aliases of one record type, with the generic words and prefixes the engine strips."""

    record_type: RecordTypeName
    fields: tuple[str, ...]
    aliases: list[Alias]
    rules: MappingRules
    exact: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # key -> field -> specs
    cores: dict[str, set[str]] = field(default_factory=dict)  # core key -> fields
    aliases_by_key: dict[str, str] = field(
        default_factory=dict
    )  # key -> field (the first spec's, if several)
    conventions: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    # All conventions as one pattern: a header it does not find in needs no look at each (None
    # when they cannot be joined: capturing groups or inline flags).
    any_convention: re.Pattern[str] | None = None
    ignore: list[re.Pattern[str]] = field(default_factory=list)
    composites: list[tuple[re.Pattern[str], str, str]] = field(default_factory=list)
    contacts_evidence: list[re.Pattern[str]] = field(default_factory=list)
    contacts_account_ref: list[re.Pattern[str]] = field(default_factory=list)
    # Worked out once, not per header matched. The aliases that are no generic word (Chinese,
    # other); every piece of a Chinese alias key and the word sequences of the other aliases (a
    # header none of whose tails is among them contains no alias, and no piece of it one).
    cjk_aliases: list[SpecificAlias] = field(default_factory=list)
    latin_aliases: list[SpecificAlias] = field(default_factory=list)
    cjk_alias_pieces: frozenset[str] = frozenset()
    latin_alias_words: frozenset[tuple[str, ...]] = frozenset()
    # The alias key -> field choices of fuzzy matching (the last spec's), the keys typos are sought in.
    choices: dict[str, str] = field(default_factory=dict)
    choice_keys: list[str] = field(default_factory=list)
    typo_keys: list[str] = field(default_factory=list)
    _generic_cjk: tuple[str, ...] = ()
    _generic_words: frozenset[str] = frozenset()
    _prefix_cjk: tuple[str, ...] = ()
    _prefix_words: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        generic = [normalise_header(w) for w in self.rules.generic_words]
        prefixes = [normalise_header(w) for w in self.rules.entity_prefixes]
        self._generic_cjk = tuple(sorted((w for w in generic if has_cjk(w)), key=len, reverse=True))
        self._generic_words = frozenset(header_words(w) for w in self.rules.generic_words if not has_cjk(w))
        self._prefix_cjk = tuple(sorted((w for w in prefixes if has_cjk(w)), key=len, reverse=True))
        self._prefix_words = frozenset(header_words(w) for w in self.rules.entity_prefixes if not has_cjk(w))
        for alias in self.aliases:
            self.aliases_by_key.setdefault(alias.key, alias.field)
            self.exact.setdefault(alias.key, {}).setdefault(alias.field, set()).add(alias.spec)
            core = self.core(alias.key, alias.words)
            if core and core != alias.key and not self.is_generic(core):
                self.cores.setdefault(core, set()).add(alias.field)
        for a in self.aliases:
            if not self.is_generic(a.key):
                cjk = has_cjk(a.key)
                specific = SpecificAlias(a, self.core(a.key, a.words), a.words.split())
                (self.cjk_aliases if cjk else self.latin_aliases).append(specific)
        self.cjk_alias_pieces = frozenset(
            s.alias.key[i:j]
            for s in self.cjk_aliases
            for i in range(len(s.alias.key))
            for j in range(i + 1, len(s.alias.key) + 1)
        )
        self.latin_alias_words = frozenset(tuple(s.tokens) for s in self.latin_aliases)
        self.choices = {a.key: a.field for a in self.aliases}
        self.choice_keys = list(self.choices)
        self.typo_keys = [a.key for a in self.aliases if has_cjk(a.key) and len(a.key) >= TYPO_MIN_CHARS]
        for target, patterns in self.rules.conventions.get(self.record_type, {}).items():
            if target in self.fields:
                self.conventions += [(re.compile(p), target) for p in patterns]
        self.any_convention = _joined([p for p, _ in self.conventions])
        self.ignore = [re.compile(p) for p in self.rules.ignore]
        self.contacts_evidence = [re.compile(p) for p in self.rules.contacts_evidence]
        self.contacts_account_ref = [re.compile(p) for p in self.rules.contacts_account_ref]
        for target, parts in self.rules.composites.items():
            if target in self.fields:
                for part, patterns in parts.items():
                    self.composites += [(re.compile(p), target, part) for p in patterns]

    def core(self, key: str, words: str) -> str:
        """The key without entity prefixes in front and generic words at the end (never empty if key is not)."""
        if not has_cjk(key):
            tokens = words.split()
            while len(tokens) > 1 and tokens[0] in self._prefix_words:
                tokens = tokens[1:]
            while len(tokens) > 1 and tokens[-1] in self._generic_words:
                tokens = tokens[:-1]
            return "".join(tokens)
        core = key
        changed = True
        while changed:
            changed = False
            for prefix in self._prefix_cjk:
                if core.startswith(prefix) and len(core) > len(prefix):
                    core, changed = core[len(prefix) :], True
                    break
        changed = True
        while changed:
            changed = False
            for word in self._generic_cjk:
                if core.endswith(word) and len(core) > len(word):
                    core, changed = core[: -len(word)], True
                    break
        return core

    def is_generic(self, key: str) -> bool:
        """Whether a key is only a generic word or an entity prefix (名称, Date, 客户 ...)."""
        return (
            key in self._generic_cjk
            or key in self._prefix_cjk
            or key in self._generic_words
            or key in self._prefix_words
        )


def _joined(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that finds a match wherever one of `patterns` does, if they can be joined."""
    if not patterns or any(p.groups or p.flags != re.UNICODE for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:
        return None


def build_vocabularies(
    specs: Iterable[tuple[str, RecordTypeName, Mapping[str, Sequence[str]]]],
    fields: Mapping[RecordTypeName, Sequence[str]],
    rules: MappingRules,
) -> dict[RecordTypeName, Vocabulary]:
    """One vocabulary per record type from (spec name, record type, aliases) of every source spec."""
    aliases: dict[RecordTypeName, list[Alias]] = {t: [] for t in fields}
    for spec, record_type, spec_aliases in specs:
        for target, names in spec_aliases.items():
            for name in names:
                aliases[record_type].append(Alias(normalise_header(name), header_words(name), target, spec))
    return {t: Vocabulary(t, tuple(fields[t]), aliases[t], rules) for t in fields}
