"""Playbooks as versioned configuration: loading, validation and lookup.

A playbook file (``server/compliance/playbooks/<id>.toml``) lists checks of
four kinds: ``required`` clauses, ``prohibited`` terms, numeric ``limit``s and
``consistency`` rules. Concepts named by checks must exist in the lexicon;
anything unknown is an error naming the file and the check, so a typo never
silently disables a check.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from server.compliance.domain import ContractType, FindingType, Playbook, PlaybookCheck, Severity
from server.compliance.matching import Lexicon
from server.compliance.semantic import SEMANTIC_FILE, SemanticConfig, load_semantic_config

DEFAULT_PLAYBOOK_DIR = Path(__file__).resolve().parent / "playbooks"
LEXICON_FILE = "lexicon.toml"
CONSISTENCY_RULES = ("amount_words", "dates", "parties")
_KIND_FINDING = {
    "required": FindingType.MISSING_CLAUSE,
    "prohibited": FindingType.PROHIBITED_TERM,
    "limit": FindingType.LIMIT_EXCEEDED,
    "consistency": FindingType.INCONSISTENCY,
}
_SCOPES = ("sentence", "clause", "section", "document")
_CHECK_KEYS = {"id", "kind", "severity", "description", "suggested_fix", "any_of", "scope", "unless_any",
               "unless_scope", "max_value", "max_margin", "rule", "examples"}  # fmt: skip


def _groups(value: Any, where: str, lexicon: Lexicon) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(g, list) and g for g in value):
        raise ValueError(f"{where}: must be a list of non-empty lists of concept names")
    for group in value:
        for name in group:
            if name not in lexicon:
                raise ValueError(f"{where}: unknown concept {name!r}")
    return tuple(tuple(g) for g in value)


def _check(raw: dict[str, Any], where: str, lexicon: Lexicon) -> PlaybookCheck:
    unknown = set(raw) - _CHECK_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "kind", "severity", "description", "suggested_fix"):
        if key not in raw:
            raise ValueError(f"{where}: missing {key!r}")
    kind = raw["kind"]
    if kind not in _KIND_FINDING:
        raise ValueError(f"{where}: kind must be one of {sorted(_KIND_FINDING)}")
    try:
        severity = Severity[str(raw["severity"]).upper()]
    except KeyError:
        raise ValueError(f"{where}: severity must be low, medium, high or critical") from None
    scope = raw.get("scope", "sentence")
    unless_scope = raw.get("unless_scope", "sentence")
    if scope not in _SCOPES or unless_scope not in _SCOPES:
        raise ValueError(f"{where}: scope and unless_scope must be one of {_SCOPES}")
    any_of: tuple[tuple[str, ...], ...] = ()
    if kind != "consistency":
        any_of = _groups(raw.get("any_of"), f"{where}.any_of", lexicon)
    elif raw.get("rule") not in CONSISTENCY_RULES:
        raise ValueError(f"{where}: rule must be one of {CONSISTENCY_RULES}")
    unless = _groups(raw["unless_any"], f"{where}.unless_any", lexicon) if "unless_any" in raw else ()
    max_value = raw.get("max_value")
    max_margin = raw.get("max_margin")
    if kind == "limit" and max_value is None and max_margin is None:
        raise ValueError(f"{where}: a limit needs max_value or max_margin")
    examples = raw.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
        raise ValueError(f"{where}.examples: must be a list of non-empty sentences")
    if examples and kind != "required":
        raise ValueError(f"{where}.examples: only required checks take example sentences")
    return PlaybookCheck(
        check_id=str(raw["id"]),
        kind=kind,
        finding_type=_KIND_FINDING[kind],
        severity=severity,
        description=str(raw["description"]),
        suggested_fix=str(raw["suggested_fix"]),
        any_of=any_of,
        scope=scope,
        unless_any=unless,
        unless_scope=unless_scope,
        max_value=float(max_value) if max_value is not None else None,
        max_margin=float(max_margin) if max_margin is not None else None,
        rule=str(raw.get("rule", "")),
        examples=tuple(examples),
    )


def load_playbook(path: Path, lexicon: Lexicon) -> Playbook:
    """Load and validate one playbook file.

    Raises:
        ValueError: anything malformed, naming the file and the check.
    """
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    unknown = set(raw) - {"playbook_id", "version", "title", "contract_types", "checks"}
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {sorted(unknown)}")
    for key in ("playbook_id", "version", "title", "contract_types", "checks"):
        if key not in raw:
            raise ValueError(f"{path.name}: missing {key!r}")
    try:
        types = tuple(ContractType(t) for t in raw["contract_types"])
    except ValueError as exc:
        raise ValueError(f"{path.name}: contract_types: {exc}") from None
    checks = tuple(_check(c, f"{path.name}: checks[{i}]", lexicon) for i, c in enumerate(raw["checks"]))
    ids = [c.check_id for c in checks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: duplicate check ids")
    return Playbook(str(raw["playbook_id"]), str(raw["version"]), str(raw["title"]), types, checks)


class PlaybookRegistry:
    """All playbooks of a directory, with the lexicon they share."""

    def __init__(
        self, playbooks: tuple[Playbook, ...], lexicon: Lexicon, semantic: SemanticConfig | None = None
    ) -> None:
        self.playbooks = playbooks
        self.lexicon = lexicon
        self.semantic = semantic
        self._by_id = {p.playbook_id: p for p in playbooks}
        if len(self._by_id) != len(playbooks):
            raise ValueError("duplicate playbook ids")

    @classmethod
    def load(cls, directory: Path = DEFAULT_PLAYBOOK_DIR) -> PlaybookRegistry:
        """Load the lexicon, ``semantic.toml`` (when present) and every other ``*.toml`` playbook of ``directory``.

        Raises:
            ValueError: a malformed file, or no playbooks.
        """
        lexicon = Lexicon.load(directory / LEXICON_FILE)
        playbooks = tuple(
            load_playbook(path, lexicon)
            for path in sorted(directory.glob("*.toml"))
            if path.name not in (LEXICON_FILE, SEMANTIC_FILE)
        )
        if not playbooks:
            raise ValueError(f"{directory}: no playbooks")
        semantic_path = directory / SEMANTIC_FILE
        semantic = load_semantic_config(semantic_path) if semantic_path.exists() else None
        return cls(playbooks, lexicon, semantic)

    def get(self, playbook_id: str) -> Playbook | None:
        """The playbook ``playbook_id``, or ``None``."""
        return self._by_id.get(playbook_id)

    def for_type(self, contract_type: ContractType) -> Playbook | None:
        """The first playbook (by id) that covers ``contract_type``."""
        return next((p for p in self.playbooks if contract_type in p.contract_types), None)
