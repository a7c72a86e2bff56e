"""Knowledge-base articles: Markdown with a YAML front matter, parsed and validated.

This module owns the article format (``id``, ``title``, ``intents``, ``locale``, ``updated`` and an
optional ``approved_answer`` with ``text``, ``owner``, ``version`` and ``expires``) and the content
hash that makes re-ingestion of an unchanged article a no-op. A malformed article raises
:class:`ArticleError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
_LOCALE_PATTERN = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
_INTENT_PATTERN = re.compile(r"^[A-Za-z0-9_?]{1,64}$")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
_REQUIRED = ("id", "title", "intents", "locale", "updated")
_ALLOWED = frozenset((*_REQUIRED, "approved_answer"))
_APPROVED_FIELDS = ("text", "owner", "version", "expires")


class ArticleError(ValueError):
    """An article is malformed; ``field`` names the offending front-matter field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        """Creates the error.

        Args:
            source: The file or document id the article came from.
            field: The front-matter field at fault (``"front_matter"`` for the block itself).
            problem: What is wrong.
        """
        super().__init__(f"{source}: {field}: {problem}")
        self.source = source
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class ApprovedAnswer:
    """Text an owner signed off, served word for word while it has not expired."""

    text: str
    owner: str
    version: int
    expires: date

    def is_valid_on(self, day: date) -> bool:
        """Whether the answer may still be served on ``day`` (it expires at the end of ``expires``)."""
        return day <= self.expires


@dataclass(frozen=True)
class Article:
    """One knowledge-base article."""

    id: str
    title: str
    intents: tuple[str, ...]
    locale: str
    updated: date
    body: str
    approved_answer: ApprovedAnswer | None = None

    @property
    def content_hash(self) -> str:
        """sha256 over everything that is indexed, so an unchanged article hashes the same."""
        parts = [self.id, self.title, ",".join(self.intents), self.locale, self.updated.isoformat(), self.body]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _as_date(value: Any, source: str, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ArticleError(source, field, f"expected an ISO date (YYYY-MM-DD), got {value!r}")


def _as_text(value: Any, source: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArticleError(source, field, "expected non-empty text")
    return value.strip()


def _approved(value: Any, source: str) -> ApprovedAnswer:
    if not isinstance(value, dict):
        raise ArticleError(source, "approved_answer", "expected a mapping with text, owner, version, expires")
    unknown = sorted(set(value) - set(_APPROVED_FIELDS))
    if unknown:
        raise ArticleError(source, f"approved_answer.{unknown[0]}", "unknown field")
    for name in _APPROVED_FIELDS:
        if name not in value:
            raise ArticleError(source, f"approved_answer.{name}", "missing")
    version = value["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArticleError(source, "approved_answer.version", "expected a positive integer")
    return ApprovedAnswer(
        text=_as_text(value["text"], source, "approved_answer.text"),
        owner=_as_text(value["owner"], source, "approved_answer.owner"),
        version=version,
        expires=_as_date(value["expires"], source, "approved_answer.expires"),
    )


def parse_article(text: str, source: str = "<article>", known_intents: Iterable[str] | None = None) -> Article:
    """Parses one Markdown article with front matter.

    Args:
        text: The whole file.
        source: Name used in error messages (a path or an id).
        known_intents: When given, every intent must be one of these.

    Returns:
        The validated article.

    Raises:
        ArticleError: The front matter is missing, malformed or has a bad field.
    """
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if match is None:
        raise ArticleError(source, "front_matter", "the file must start with a '---' block closed by '---'")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ArticleError(source, "front_matter", f"invalid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise ArticleError(source, "front_matter", "expected a mapping")
    unknown = sorted(set(meta) - _ALLOWED)
    if unknown:
        raise ArticleError(source, unknown[0], "unknown field")
    for name in _REQUIRED:
        if name not in meta:
            raise ArticleError(source, name, "missing")
    article_id = meta["id"]
    if not isinstance(article_id, str) or not _ID_PATTERN.match(article_id):
        raise ArticleError(source, "id", "expected lowercase letters, digits and dashes (at most 128)")
    intents = meta["intents"]
    if not isinstance(intents, list) or not intents:
        raise ArticleError(source, "intents", "expected a non-empty list")
    allowed = None if known_intents is None else set(known_intents)
    for intent in intents:
        if not isinstance(intent, str) or not _INTENT_PATTERN.match(intent):
            raise ArticleError(source, "intents", f"bad intent name {intent!r}")
        if allowed is not None and intent not in allowed:
            raise ArticleError(source, "intents", f"unknown intent {intent!r}")
    if len(set(intents)) != len(intents):
        raise ArticleError(source, "intents", "duplicate intent")
    locale = meta["locale"]
    if not isinstance(locale, str) or not _LOCALE_PATTERN.match(locale):
        raise ArticleError(source, "locale", "expected a BCP 47 tag such as en-GB")
    body = match.group(2).strip()
    if not body:
        raise ArticleError(source, "body", "the article has no text")
    approved = meta.get("approved_answer")
    return Article(
        id=article_id,
        title=_as_text(meta["title"], source, "title"),
        intents=tuple(intents),
        locale=locale,
        updated=_as_date(meta["updated"], source, "updated"),
        body=body,
        approved_answer=None if approved is None else _approved(approved, source),
    )


def render_article(article: Article) -> str:
    """Writes ``article`` back in the on-disk format (the inverse of :func:`parse_article`)."""
    meta: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "intents": list(article.intents),
        "locale": article.locale,
        "updated": article.updated.isoformat(),
    }
    if article.approved_answer is not None:
        answer = article.approved_answer
        meta["approved_answer"] = {
            "text": answer.text,
            "owner": answer.owner,
            "version": answer.version,
            "expires": answer.expires.isoformat(),
        }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n{article.body}\n"


def load_articles(directory: Path, known_intents: Iterable[str] | None = None) -> list[Article]:
    """Loads every ``*.md`` article under ``directory``, sorted by id.

    Raises:
        ArticleError: An article is malformed, or two articles share an id.
    """
    intents = None if known_intents is None else list(known_intents)
    articles: dict[str, Article] = {}
    for path in sorted(directory.glob("*.md")):
        article = parse_article(path.read_text(encoding="utf-8"), source=path.name, known_intents=intents)
        if article.id in articles:
            raise ArticleError(path.name, "id", f"duplicate id {article.id!r}")
        articles[article.id] = article
    return [articles[key] for key in sorted(articles)]


def articles_by_intent(articles: Sequence[Article]) -> dict[str, list[str]]:
    """Maps each intent to the ids of the articles that answer it."""
    mapping: dict[str, list[str]] = {}
    for article in articles:
        for intent in article.intents:
            mapping.setdefault(intent, []).append(article.id)
    return mapping


def default_kb_dir() -> Path:
    """The bank's own knowledge base shipped in the repository."""
    return Path(__file__).resolve().parent.parent / "server" / "customer" / "kb" / "articles"
