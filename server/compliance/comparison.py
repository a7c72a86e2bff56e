"""Version comparison: clause alignment, added/removed/modified/moved clauses, obligation and timeline changes.

Alignment is by content, not by number, so renumbered and moved articles are
recognised: first identical text (ignoring numbering and whitespace), then
the most similar remaining pairs above a threshold (token-set Jaccard as a
cheap filter, then a sequence ratio). The unit compared is the article or
section with its paragraphs and items; obligations of aligned units are then
paired and classified stricter or looser by modality, deadline length,
"at least" thresholds and added or removed exceptions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from server.compliance.domain import (
    ClauseChange,
    ClauseChangeType,
    ClauseLevel,
    Modality,
    Obligation,
    ObligationChange,
    ParsedDocument,
    StrictnessChange,
    TimelineChange,
    TimelineEvent,
    VersionComparison,
)
from server.compliance.obligations import extract_obligations, subject_head
from server.compliance.text import NUMBER_WORD, parse_number
from server.compliance.timeline import extract_timeline

ENGINE_VERSION = "1.0.0"
_WORD = re.compile(r"[a-z0-9]+")
_STRENGTH = {Modality.MAY: 0, Modality.SHALL: 1, Modality.MUST: 1, Modality.SHALL_NOT: 1}
_UPPER_BOUND = re.compile(
    rf"\b(?:within|no\s+later\s+than|not\s+later\s+than|at\s+most|not\s+(?:to\s+)?exceed(?:ing)?|up\s+to|maximum\s+of)\s+"
    rf"(\d+(?:\.\d+)?|{NUMBER_WORD})\s*(?:\(\d+\)\s*)?(business\s+days?|working\s+days?|days?|weeks?|months?|years?|%|per\s*cent)",
    re.IGNORECASE,
)
_LOWER_BOUND = re.compile(
    rf"\b(?:at\s+least|not\s+less\s+than|minimum\s+of|for\s+(?:a\s+period\s+of\s+)?)\s*"
    rf"(\d+(?:\.\d+)?|{NUMBER_WORD})\s*(?:\(\d+\)\s*)?(business\s+days?|working\s+days?|days?|weeks?|months?|years?|%|per\s*cent)",
    re.IGNORECASE,
)
_EXCEPTION = re.compile(
    r"\b(?:unless|except|provided\s+that|other\s+than|exempt(?:ed|ion)?|waive[ds]?)\b", re.IGNORECASE
)
_DAYS_PER_UNIT = {"day": 1.0, "business_day": 1.4, "week": 7.0, "month": 30.0, "year": 365.0, "percent": 1.0}


@dataclass(frozen=True, slots=True)
class _Unit:
    clause_id: str
    number: str
    parent: str
    heading: str
    text: str
    member_ids: tuple[str, ...]


def _units(document: ParsedDocument) -> list[_Unit]:
    """Articles and sections with the text of their descendants; top-level paragraphs stand alone."""
    units: list[_Unit] = []
    owner_of: dict[str, int] = {}
    for clause in document.clauses:
        parent_unit = owner_of.get(clause.parent_clause_id)
        if clause.level in (ClauseLevel.ARTICLE, ClauseLevel.SECTION) or (
            parent_unit is None and clause.level is not ClauseLevel.CHAPTER
        ):
            owner_of[clause.clause_id] = len(units)
            units.append(
                _Unit(
                    clause.clause_id,
                    clause.number,
                    clause.parent_clause_id,
                    clause.heading,
                    clause.text,
                    (clause.clause_id,),
                )
            )
        elif parent_unit is not None:
            owner_of[clause.clause_id] = parent_unit
            unit = units[parent_unit]
            units[parent_unit] = _Unit(
                unit.clause_id,
                unit.number,
                unit.parent,
                unit.heading,
                f"{unit.text}\n{clause.text}".strip(),
                (*unit.member_ids, clause.clause_id),
            )
    return [u for u in units if u.text or u.heading]


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def align_units(old: Sequence[_Unit], new: Sequence[_Unit], threshold: float = 0.45) -> list[tuple[int, int, float]]:
    """Pairs ``(old index, new index, similarity)``: identical text first, then greedy best similarity."""
    pairs: list[tuple[int, int, float]] = []
    old_norm = [_normal(f"{u.heading} {u.text}") for u in old]
    new_norm = [_normal(f"{u.heading} {u.text}") for u in new]
    by_text: dict[str, list[int]] = {}
    for j, text in enumerate(new_norm):
        by_text.setdefault(text, []).append(j)
    used_old: set[int] = set()
    used_new: set[int] = set()
    for i, text in enumerate(old_norm):
        candidates = [j for j in by_text.get(text, []) if j not in used_new]
        if candidates:
            pairs.append((i, candidates[0], 1.0))
            used_old.add(i)
            used_new.add(candidates[0])
    old_sets = [set(t.split()) for t in old_norm]
    new_sets = [set(t.split()) for t in new_norm]
    scored: list[tuple[float, int, int]] = []
    for i in range(len(old)):
        if i in used_old:
            continue
        for j in range(len(new)):
            if j in used_new:
                continue
            union = old_sets[i] | new_sets[j]
            jaccard = len(old_sets[i] & new_sets[j]) / len(union) if union else 0.0
            if jaccard < threshold * 0.6:
                continue
            scored.append((_similarity(old_norm[i], new_norm[j]), i, j))
    for score, i, j in sorted(scored, reverse=True):
        if score < threshold or i in used_old or j in used_new:
            continue
        pairs.append((i, j, score))
        used_old.add(i)
        used_new.add(j)
    return sorted(pairs, key=lambda p: p[1])


def _bound(text: str) -> tuple[str, float, str] | None:
    for kind, pattern in (("upper", _UPPER_BOUND), ("lower", _LOWER_BOUND)):
        match = pattern.search(text)
        if match:
            value = parse_number(match.group(1))
            if value is None:
                continue
            unit_raw = match.group(2).lower()
            unit = (
                "percent"
                if unit_raw in ("%",) or "cent" in unit_raw
                else (
                    "business_day"
                    if unit_raw.startswith(("business", "working"))
                    else next(u for u in ("day", "week", "month", "year") if u in unit_raw)
                )
            )
            return kind, value * _DAYS_PER_UNIT[unit], unit if unit == "percent" else "time"
    return None


def classify_change(old: Obligation, new: Obligation) -> tuple[StrictnessChange, str] | None:
    """How an obligation changed; ``None`` when it did not change in substance."""
    if _normal(old.source_text) == _normal(new.source_text):
        return None
    old_strength, new_strength = _STRENGTH[old.modality], _STRENGTH[new.modality]
    if new_strength > old_strength:
        return StrictnessChange.STRICTER, f"modality changed from {old.modality.value} to {new.modality.value}"
    if new_strength < old_strength:
        return StrictnessChange.LOOSER, f"modality changed from {old.modality.value} to {new.modality.value}"
    old_bound, new_bound = _bound(old.source_text), _bound(new.source_text)
    if old_bound and new_bound and old_bound[0] == new_bound[0] and old_bound[2] == new_bound[2]:
        kind = old_bound[0]
        if new_bound[1] != old_bound[1]:
            tighter = new_bound[1] < old_bound[1] if kind == "upper" else new_bound[1] > old_bound[1]
            what = "limit" if old_bound[2] == "percent" else "period"
            if old.modality is Modality.SHALL_NOT:
                tighter = not tighter
            return (
                StrictnessChange.STRICTER if tighter else StrictnessChange.LOOSER,
                f"{what} {'tightened' if tighter else 'relaxed'}",
            )
    old_exc = len(_EXCEPTION.findall(f"{old.action} {old.condition}"))
    new_exc = len(_EXCEPTION.findall(f"{new.action} {new.condition}"))
    if new_exc > old_exc:
        return StrictnessChange.LOOSER, "exception added"
    if new_exc < old_exc:
        return StrictnessChange.STRICTER, "exception removed"
    if not old.condition and new.condition:
        return StrictnessChange.LOOSER, "condition added"
    if old.condition and not new.condition:
        return StrictnessChange.STRICTER, "condition removed"
    return StrictnessChange.CHANGED, "wording changed"


def _pair_obligations(
    old: list[Obligation], new: list[Obligation]
) -> tuple[list[tuple[Obligation, Obligation]], list[Obligation], list[Obligation]]:
    pairs: list[tuple[Obligation, Obligation]] = []
    left = list(new)
    removed: list[Obligation] = []
    for o in old:
        best, best_score = None, 0.0
        for n in left:
            score = _similarity(_normal(o.action), _normal(n.action))
            if subject_head(o.subject) == subject_head(n.subject):
                score += 0.25
            if score > best_score:
                best, best_score = n, score
        if best is not None and best_score >= 0.45:
            pairs.append((o, best))
            left.remove(best)
        else:
            removed.append(o)
    return pairs, removed, left


def compare_versions(old: ParsedDocument, new: ParsedDocument) -> VersionComparison:
    """Compare two versions of a regulation.

    Args:
        old: The earlier version.
        new: The later version.

    Returns:
        Clause changes (unchanged clauses are left out), obligation changes and timeline changes.
    """
    old_units, new_units = _units(old), _units(new)
    pairs = align_units(old_units, new_units)
    changes: list[ClauseChange] = []
    matched_old = {i for i, _, _ in pairs}
    matched_new = {j for _, j, _ in pairs}
    old_obligations = list(extract_obligations(old))
    new_obligations = list(extract_obligations(new))
    old_by_unit = {u.clause_id: [o for o in old_obligations if o.clause_id in u.member_ids] for u in old_units}
    new_by_unit = {u.clause_id: [o for o in new_obligations if o.clause_id in u.member_ids] for u in new_units}
    obligation_changes: list[ObligationChange] = []
    for i, j, score in pairs:
        o, n = old_units[i], new_units[j]
        same_text = _normal(f"{o.heading} {o.text}") == _normal(f"{n.heading} {n.text}")
        if not same_text:
            changes.append(
                ClauseChange(ClauseChangeType.MODIFIED, o.clause_id, n.clause_id, o.text, n.text, round(score, 4))
            )
        elif o.number != n.number or _chapter(o) != _chapter(n) or _moved(i, j, pairs):
            changes.append(ClauseChange(ClauseChangeType.MOVED, o.clause_id, n.clause_id, o.text, n.text, 1.0))
        if not same_text:
            paired, removed, added = _pair_obligations(old_by_unit[o.clause_id], new_by_unit[n.clause_id])
            for before, after in paired:
                verdict = classify_change(before, after)
                if verdict is not None:
                    obligation_changes.append(ObligationChange(verdict[0], before, after, verdict[1]))
            obligation_changes += [
                ObligationChange(_removed_strictness(r), r, None, "obligation removed") for r in removed
            ]
            obligation_changes += [ObligationChange(_added_strictness(a), None, a, "obligation added") for a in added]
    for i, unit in enumerate(old_units):
        if i not in matched_old:
            changes.append(ClauseChange(ClauseChangeType.REMOVED, unit.clause_id, "", unit.text, "", 0.0))
            obligation_changes += [
                ObligationChange(_removed_strictness(r), r, None, "clause removed") for r in old_by_unit[unit.clause_id]
            ]
    for j, unit in enumerate(new_units):
        if j not in matched_new:
            changes.append(ClauseChange(ClauseChangeType.ADDED, "", unit.clause_id, "", unit.text, 0.0))
            obligation_changes += [
                ObligationChange(_added_strictness(a), None, a, "clause added") for a in new_by_unit[unit.clause_id]
            ]
    unit_map = {old_units[i].clause_id: new_units[j].clause_id for i, j, _ in pairs}
    return VersionComparison(
        clause_changes=tuple(changes),
        obligation_changes=tuple(obligation_changes),
        timeline_changes=tuple(_timeline_changes(old, new, old_units, new_units, unit_map)),
        engine_version=ENGINE_VERSION,
    )


def _chapter(unit: _Unit) -> str:
    return unit.parent


def _moved(i: int, j: int, pairs: list[tuple[int, int, float]]) -> bool:
    # Moved relative to its aligned neighbours: the previous aligned pair in new order came later in old order.
    previous = [p for p in pairs if p[1] < j]
    return bool(previous) and max(p[0] for p in previous) > i


def _removed_strictness(obligation: Obligation) -> StrictnessChange:
    # Dropping a duty or a prohibition loosens; dropping a permission tightens.
    return StrictnessChange.STRICTER if obligation.modality is Modality.MAY else StrictnessChange.LOOSER


def _added_strictness(obligation: Obligation) -> StrictnessChange:
    return StrictnessChange.STRICTER if obligation.modality is not Modality.MAY else StrictnessChange.LOOSER


def _timeline_changes(
    old: ParsedDocument, new: ParsedDocument, old_units: list[_Unit], new_units: list[_Unit], unit_map: dict[str, str]
) -> list[TimelineChange]:
    def unit_of(units: list[_Unit]) -> dict[str, str]:
        return {member: u.clause_id for u in units for member in u.member_ids}

    old_unit_of, new_unit_of = unit_of(old_units), unit_of(new_units)
    old_events = [e for e in extract_timeline(old) if e.date is not None or e.period is not None]
    new_events = [e for e in extract_timeline(new) if e.date is not None or e.period is not None]

    def key(event: TimelineEvent, mapped_unit: str) -> tuple[str, str]:
        return mapped_unit, event.event_type.value

    new_index: dict[tuple[str, str], list[TimelineEvent]] = {}
    for event in new_events:
        new_index.setdefault(key(event, new_unit_of.get(event.clause_id, event.clause_id)), []).append(event)
    changes: list[TimelineChange] = []
    for event in old_events:
        unit = unit_map.get(old_unit_of.get(event.clause_id, ""), "")
        candidates = new_index.get(key(event, unit), [])
        if not candidates:
            changes.append(TimelineChange(event, None, f"{event.event_type.value} event removed"))
            continue
        match = next((c for c in candidates if c.date == event.date and c.period == event.period), candidates[0])
        candidates.remove(match)
        if match.date != event.date or match.period != event.period:
            before = event.date.isoformat() if event.date else _period_text(event)
            after = match.date.isoformat() if match.date else _period_text(match)
            changes.append(TimelineChange(event, match, f"{event.event_type.value} moved from {before} to {after}"))
    for remaining in new_index.values():
        changes += [TimelineChange(None, e, f"{e.event_type.value} event added") for e in remaining]
    return changes


def _period_text(event: TimelineEvent) -> str:
    return f"{event.period.amount} {event.period.unit}(s)" if event.period else "no date"
