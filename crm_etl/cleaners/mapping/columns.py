"""Decide the canonical field of each column: by name (alias, generic words, conventions, fuzzy), then content.

Every decision has a method and a confidence and names the runner-up, so a
preview can show why. When two fields are close the engine abstains rather than
guesses: a wrong mapping is worse than none, because an unmapped column is
reported and its cells are kept, while a wrong one fills a field with nonsense.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from crm_etl.cleaners.mapping.content import EMPTY_PROFILE, STRONG_KINDS, ContentProfile
from crm_etl.cleaners.mapping.headers import HeaderHints, ParsedHeader, has_cjk
from crm_etl.cleaners.mapping.vocabulary import TYPO_MIN_CHARS, Vocabulary

# Confidence of each way a header can name a field (the best one per field counts).
CLARIFIED = 1.0  # a bracketed clarification that is an alias: 电话(手机)
EXACT_OWN = 0.99  # an alias of the source spec being scored
EXACT_OTHER = 0.97  # an alias of another source spec of the same record type
CONVENTION = 0.95  # a naming convention of CRM exports: "X Owner", "Billing City"
ALTERNATIVE = 0.92  # one of `手机/微信`
CORE_EXACT = 0.92  # an alias once entity prefixes and generic words are stripped: 联系人邮箱 -> 邮箱
CORE_SHARED = 0.88  # both stripped to the same core: Create Date ~ Created Time
CONTAINS = 0.82  # an alias is the head (end) of the header, or the header a shorter form of an alias
FUZZY = 0.95  # times rapidfuzz's ratio: a typo or a small variant ...
FUZZY_CAP = 0.88  # ... never as sure as a rule
TYPO = 0.84  # a Chinese header one character (substituted, missing or extra) off an alias


@dataclass(frozen=True)
class Candidate:
    """One field a header may name, how, and how surely."""

    field: str
    score: float
    method: str
    specs: frozenset[str] = frozenset()  # for exact aliases: the specs that list it


@dataclass
class ColumnDecision:
    """The mapping of one source column: field (or None), method, confidence, runner-up and hints."""

    index: int
    header: str
    field: str | None
    method: str
    confidence: float
    runner_up: str | None = None
    runner_up_score: float | None = None
    hints: HeaderHints = dataclass_field(default_factory=HeaderHints)
    # For a part of a composite field (First Name + Last Name): which part.
    part: str | None = None
    # For an unmapped column: the nearest field, to suggest.
    suggestion: str | None = None
    note: str | None = None


def _containment(key: str, words: str, vocab: Vocabulary) -> list[Candidate]:
    """Aliases that are the head (end) of the header, or headers that are a shorter form of an alias."""
    found: list[Candidate] = []
    cjk = has_cjk(key)
    tokens = words.split()
    core = vocab.core(key, words)
    if cjk:
        core_specific = len(core) >= 2 and not vocab.is_generic(core)
        ends_in_alias = any(key[i:] in vocab.cjk_alias_pieces for i in range(1, len(key) - 1))
        if not ends_in_alias and not (core_specific and core in vocab.cjk_alias_pieces):
            return found
        for specific in vocab.cjk_aliases:
            alias = specific.alias
            if alias.key == key:
                continue
            if len(alias.key) >= 2 and len(key) > len(alias.key) and key.endswith(alias.key):
                found.append(Candidate(alias.field, CONTAINS + 0.08 * len(alias.key) / len(key), "contains"))
            elif (
                core_specific
                and len(alias.key) > len(core)
                and core in alias.key
                and specific.core.endswith(core)
            ):
                found.append(
                    Candidate(alias.field, CONTAINS - 0.02 + 0.06 * len(core) / len(alias.key), "shorter")
                )
        return found
    if not any(tuple(tokens[i:]) in vocab.latin_alias_words for i in range(1, len(tokens))):
        return found
    for specific in vocab.latin_aliases:
        alias, n = specific.alias, len(specific.tokens)
        if (
            alias.key != key
            and 0 < n < len(tokens)
            and tokens[-n:] == specific.tokens
            and len(alias.key) >= 3
        ):
            found.append(Candidate(alias.field, CONTAINS + 0.08 * n / len(tokens), "contains"))
    return found


def _typos(key: str, core: str, vocab: Vocabulary) -> list[Candidate]:
    """Chinese headers one character off an alias (客护名称, 手几号): ratio is too harsh on four characters."""
    found: list[Candidate] = []
    keys = vocab.typo_keys
    for text in dict.fromkeys(t for t in (key, core) if len(t) >= TYPO_MIN_CHARS):
        for alias_key, distance, _ in process.extract(
            text, keys, scorer=Levenshtein.distance, score_cutoff=1, limit=None
        ):
            if distance == 1 and not vocab.is_generic(alias_key):
                found.append(Candidate(vocab.aliases_by_key[alias_key], TYPO, "typo"))
    return found


def name_candidates(
    parsed: ParsedHeader, vocab: Vocabulary, with_floor: float | None = None
) -> list[Candidate]:
    """Fields a header may name by its text alone, best first, one candidate per field.

    `with_floor` lowers the fuzzy floor, to find the nearest field of a header that maps to none.
    """
    key, words = parsed.key, parsed.words
    if not key:
        return []
    found: list[Candidate] = []
    for note in parsed.note_keys:
        for target in vocab.exact.get(note, {}):
            found.append(Candidate(target, CLARIFIED, "alias+hint"))
    for target, specs in vocab.exact.get(key, {}).items():
        found.append(Candidate(target, EXACT_OTHER, "alias", frozenset(specs)))
    joined = vocab.any_convention
    if joined is None or joined.search(words) or joined.search(key):
        for pattern, target in vocab.conventions:
            if pattern.search(words) or pattern.search(key):
                found.append(Candidate(target, CONVENTION, "convention"))
    for position, alternative in enumerate(parsed.alternatives):
        for target in vocab.exact.get(alternative, {}):
            found.append(Candidate(target, ALTERNATIVE - 0.02 * min(position, 1), "alternative"))
    core = vocab.core(key, words)
    if core != key and not vocab.is_generic(core):
        for target in vocab.exact.get(core, {}):
            found.append(Candidate(target, CORE_EXACT, "alias-core"))
    if not vocab.is_generic(core):
        for target in vocab.cores.get(core, set()):
            found.append(Candidate(target, CORE_SHARED, "core"))
    if not vocab.is_generic(core):
        found += _containment(key, words, vocab)
    choices = vocab.choices
    floor = vocab.rules.thresholds.fuzzy_min if with_floor is None else with_floor
    scorer = fuzz.partial_ratio if with_floor else fuzz.ratio
    for text in dict.fromkeys(t for t in (key, core) if len(t) >= 2 and not vocab.is_generic(t)):
        for alias_key, ratio, _ in process.extract(text, vocab.choice_keys, scorer=scorer, limit=8):
            # Equal keys were matched above; a fuzzy match never outranks a rule.
            if floor <= ratio / 100 < 1 and not vocab.is_generic(alias_key):
                found.append(Candidate(choices[alias_key], min(FUZZY_CAP, FUZZY * ratio / 100), "fuzzy"))
    if has_cjk(key):
        found += _typos(key, core, vocab)
    best: dict[str, Candidate] = {}
    for candidate in found:
        if candidate.field not in best or candidate.score > best[candidate.field].score:
            best[candidate.field] = candidate
    return sorted(best.values(), key=lambda c: -c.score)


def for_spec(candidates: Sequence[Candidate], spec: str) -> list[Candidate]:
    """Candidates as one source spec sees them: its own aliases count a little more."""
    scored = [
        replace(c, score=EXACT_OWN) if c.method == "alias" and spec in c.specs else c for c in candidates
    ]
    return sorted(scored, key=lambda c: -c.score)


def is_ignored(parsed: ParsedHeader, vocab: Vocabulary) -> bool:
    """Whether a header is one known to carry no canonical field (序号, 修改时间, Last Modified By)."""
    return any(p.search(parsed.words) or p.search(parsed.key) for p in vocab.ignore)


def composite_part(parsed: ParsedHeader, vocab: Vocabulary) -> tuple[str, str] | None:
    """(field, part) when a header names a part of a composite field (姓, First Name, 省份, 区县)."""
    for pattern, target, part in vocab.composites:
        if pattern.search(parsed.words) or pattern.search(parsed.key):
            return target, part
    return None


def content_fit(target: str, profile: ContentProfile, vocab: Vocabulary) -> float | None:
    """Share of a column's values that fit a field's kinds; None when the field has no strong kind."""
    kinds = vocab.rules.content_fields.get(vocab.record_type, {}).get(target)
    if not kinds or profile.values < vocab.rules.thresholds.content_min_values:
        return None
    return sum(profile.share(k) for k in kinds)


def contradicts(target: str, profile: ContentProfile, vocab: Vocabulary) -> str | None:
    """The strong kind the values are when they contradict a field (a phone column of dates), else None."""
    kinds = vocab.rules.content_fields.get(vocab.record_type, {}).get(target)
    fit = content_fit(target, profile, vocab)
    if fit is None or kinds is None or not any(k in STRONG_KINDS for k in kinds):
        return None
    dominant = profile.dominant(vocab.rules.thresholds.contradiction_share)
    if dominant is not None and dominant not in kinds and fit < 0.3:
        return dominant
    return None


def field_by_content(profile: ContentProfile, vocab: Vocabulary) -> tuple[str, float] | None:
    """The field a column's values alone say (all e-mails -> email), with the share that says it."""
    thresholds = vocab.rules.thresholds
    if profile.values < thresholds.content_min_values:
        return None
    fields = vocab.rules.content_fields.get(vocab.record_type, {})
    best: tuple[str, float] | None = None
    for target, kinds in fields.items():
        if target not in vocab.fields or not kinds:
            continue
        share = profile.share(kinds[0])
        if share >= thresholds.content_share and (best is None or share > best[1]):
            best = (target, share)
    return best


def decide_column(
    index: int,
    parsed: ParsedHeader,
    candidates: Sequence[Candidate],
    vocab: Vocabulary,
    profile: ContentProfile = EMPTY_PROFILE,
) -> ColumnDecision:
    """The field of one column from its name candidates and its content, before fields are shared out."""
    thresholds = vocab.rules.thresholds
    decision = ColumnDecision(index, parsed.text, None, "none", 0.0, hints=parsed.hints)
    strong = [c for c in candidates if c.score >= EXACT_OTHER]
    if not strong and is_ignored(parsed, vocab):
        decision.method, decision.confidence = "ignored", 1.0
        return decision
    usable: list[Candidate] = []
    for candidate in candidates:
        kind = contradicts(candidate.field, profile, vocab)
        if kind is not None:
            if decision.note is None:
                decision.note = f"{candidate.field} refused: the values are {kind}s"
                decision.suggestion = candidate.field
            continue
        usable.append(candidate)
    if decision.note is not None and (not usable or usable[0].score < thresholds.accept):
        decision.method = "refused"
        return decision
    if usable:
        best = usable[0]
        second = usable[1] if len(usable) > 1 else None
        if second is not None:
            decision.runner_up, decision.runner_up_score = second.field, round(second.score, 3)
        if best.score >= thresholds.accept:
            close = second is not None and best.score - second.score < thresholds.margin
            if close and best.score < EXACT_OTHER:
                assert second is not None
                fits = (content_fit(best.field, profile, vocab), content_fit(second.field, profile, vocab))
                if fits[0] is not None and fits[1] is not None and abs(fits[0] - fits[1]) >= 0.3:
                    winner = best if fits[0] > fits[1] else second
                    loser = second if winner is best else best
                    decision.field, decision.method = winner.field, f"{winner.method}+content"
                    decision.confidence = round(winner.score, 3)
                    decision.runner_up, decision.runner_up_score = loser.field, round(loser.score, 3)
                    return decision
                decision.method, decision.suggestion = "ambiguous", best.field
                decision.confidence = round(best.score, 3)
                return decision
            decision.field, decision.method, decision.confidence = (
                best.field,
                best.method,
                round(best.score, 3),
            )
            return decision
        decision.suggestion = best.field
        decision.confidence = round(best.score, 3)
    return decision


def apply_content_fallback(
    decision: ColumnDecision, profile: ContentProfile, vocab: Vocabulary, taken: set[str]
) -> None:
    """Map a column no header rule mapped by what its values are, into a field no other column holds."""
    if decision.field is not None or decision.method in {"ignored", "refused"}:
        return
    found = field_by_content(profile, vocab)
    if found is None or found[0] in taken:
        return
    target, share = found
    decision.runner_up, decision.runner_up_score = decision.suggestion, decision.confidence or None
    decision.field, decision.method = target, "content"
    decision.confidence = round(0.6 + 0.2 * share, 3)
    decision.suggestion = None
    taken.add(target)
