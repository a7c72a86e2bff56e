"""Heading-aware chunking of articles into retrievable pieces with content-hash ids.

This module owns how an article becomes chunks: one chunk per Markdown section (a heading and the
text under it), long sections split on paragraph and sentence boundaries into windows that overlap
by a few sentences, and the title and heading path prefixed to the indexed text so a chunk read on
its own still says what it is about. A chunk's id is a hash of its document id and its content, so
re-chunking an unchanged article yields the same ids and an edit changes only the chunks it touches.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from retrieval.documents import Article

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*(\"'])")


@dataclass(frozen=True)
class ChunkingPolicy:
    """How big chunks are."""

    max_chars: int = 900
    """A section longer than this is split into windows."""
    overlap_chars: int = 150
    """Each window after the first repeats about this much of the previous one (whole sentences)."""

    def __post_init__(self) -> None:
        if self.max_chars < 100:
            raise ValueError("max_chars must be at least 100")
        if not 0 <= self.overlap_chars < self.max_chars // 2:
            raise ValueError("overlap_chars must be between 0 and half of max_chars")


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of an article."""

    chunk_id: str
    document_id: str
    title: str
    heading: str
    content: str
    position: int
    intents: tuple[str, ...]
    locale: str

    @property
    def indexed_text(self) -> str:
        """What is embedded and BM25-indexed: title and heading path, then the section text."""
        prefix = self.title if not self.heading or self.heading == self.title else f"{self.title} > {self.heading}"
        return f"{prefix}\n{self.content}"


@dataclass(frozen=True)
class _Section:
    heading: str
    text: str


def _sections(body: str, title: str) -> list[_Section]:
    """Splits Markdown into sections, each named by its heading path below the article title."""
    sections: list[_Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            names = [name for _, name in path if name != title]
            sections.append(_Section(" > ".join(names), text))
        lines.clear()

    in_code = False
    for line in body.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level = len(match.group(1))
        path = [(lvl, name) for lvl, name in path if lvl < level]
        path.append((level, match.group(2)))
    flush()
    if not sections:
        # A body that is only headings still deserves one searchable chunk.
        sections.append(_Section("", " ".join(name for _, name in path) or title))
    return sections


def _units(text: str) -> list[str]:
    """Paragraphs, and sentences of paragraphs too long to keep whole."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        # List items and table rows are kept as lines; prose is split into sentences.
        if paragraph.lstrip().startswith(("-", "*", "|", "1.")):
            units.extend(line.strip() for line in paragraph.splitlines() if line.strip())
        else:
            units.extend(part.strip() for part in _SENTENCE_END.split(paragraph) if part.strip())
    return units


def _windows(text: str, policy: ChunkingPolicy) -> list[str]:
    """Cuts ``text`` into windows of at most ``max_chars`` that overlap by whole units."""
    if len(text) <= policy.max_chars:
        return [text]
    units = _units(text)
    windows: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        if current and size + len(unit) + 1 > policy.max_chars:
            windows.append("\n".join(current))
            carried: list[str] = []
            carried_size = 0
            for previous in reversed(current):
                if carried_size + len(previous) > policy.overlap_chars:
                    break
                carried.insert(0, previous)
                carried_size += len(previous) + 1
            current, size = carried, carried_size
        current.append(unit)
        size += len(unit) + 1
    if current:
        windows.append("\n".join(current))
    return windows


def chunk_id(document_id: str, heading: str, content: str, intents: tuple[str, ...], locale: str, title: str) -> str:
    """Content-hash id of a chunk: same inputs, same id, in any process, on any machine."""
    material = "\x1f".join((document_id, title, heading, content, ",".join(intents), locale))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def chunk_article(article: Article, policy: ChunkingPolicy | None = None) -> list[Chunk]:
    """Splits ``article`` into chunks.

    Args:
        article: The article.
        policy: Chunk sizes; the default suits short help-centre articles.

    Returns:
        The chunks in reading order, with unique ids.
    """
    policy = policy or ChunkingPolicy()
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section in _sections(article.body, article.title):
        for content in _windows(section.text, policy):
            identifier = chunk_id(article.id, section.heading, content, article.intents, article.locale, article.title)
            if identifier in seen:
                # The same text twice under one heading adds nothing to retrieval.
                continue
            seen.add(identifier)
            chunks.append(
                Chunk(
                    chunk_id=identifier,
                    document_id=article.id,
                    title=article.title,
                    heading=section.heading,
                    content=content,
                    position=len(chunks),
                    intents=article.intents,
                    locale=article.locale,
                )
            )
    return chunks
