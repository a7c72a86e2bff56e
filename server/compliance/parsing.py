"""Document parsers: plain text, Markdown, PDF and DOCX into one clause structure.

Every format is first reduced to lines (PDF via pypdf, DOCX via python-docx),
then one line-driven parser recognises chapters, articles, sections,
numbered paragraphs and items and gives each a stable id derived from the
structure ("ch2.art5.p1.a"), not from its position in the file, so a clause
keeps its id when unrelated text around it changes. Wrapped lines (PDF
extraction) are joined back into their block. One pass, linear in the input.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from server.compliance.domain import Clause, ClauseLevel, DocumentFormat, ParsedDocument
from server.runtime.errors import FieldViolation, InvalidArgument

DOMAIN = "compliance.fintech"

_DASH = r"[.:\-\u2013\u2014]?"
_CHAPTER = re.compile(rf"^(?:chapter|part|title)\s+([IVXLC]+|\d+)\b\s*{_DASH}\s*(.*)$", re.IGNORECASE)
_ARTICLE = re.compile(rf"^(?:article|art\.)\s+(\d+[a-z]?)\b\s*({_DASH})\s*(.*)$", re.IGNORECASE)
_SECTION = re.compile(rf"^(?:section|clause|\u00a7)\s*(\d+(?:\.\d+)*)\b\s*{_DASH}\s*(.*)$", re.IGNORECASE)
_NUMBERED = re.compile(r"^\(?(\d+(?:\.\d+)*)[.)]?\s+(.+)$")
_ITEM = re.compile(r"^(?:\(([a-z]{1,2}|[ivx]{1,5})\)|([a-z])\))\s+(.+)$")
_BULLET = re.compile(r"^[-*\u2022]\s+(.+)$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _violation(description: str, field_name: str = "document.content") -> InvalidArgument:
    return InvalidArgument(
        message=description,
        reason="INVALID_DOCUMENT",
        domain=DOMAIN,
        violations=(FieldViolation(field=field_name, description=description, reason="INVALID_DOCUMENT"),),
    )


def extract_lines(content: bytes, fmt: DocumentFormat) -> list[str]:
    """The text lines of a document in any supported format.

    Args:
        content: Raw bytes (UTF-8 for text and Markdown).
        fmt: The declared format.

    Returns:
        Lines in reading order; DOCX headings come back as Markdown headings.

    Raises:
        InvalidArgument: the bytes are empty or cannot be read as ``fmt`` (field ``document.content``).
    """
    if not content:
        raise _violation("document content is empty")
    if fmt in (DocumentFormat.PLAIN_TEXT, DocumentFormat.MARKDOWN):
        try:
            return content.decode("utf-8-sig").splitlines()
        except UnicodeDecodeError as exc:
            raise _violation(f"document content is not valid UTF-8 at byte {exc.start}") from None
    if fmt is DocumentFormat.PDF:
        return _pdf_lines(content)
    if fmt is DocumentFormat.DOCX:
        return _docx_lines(content)
    raise _violation(f"unsupported document format {fmt}", "document.format")


def _pdf_lines(content: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        lines: list[str] = []
        for page in reader.pages:
            lines.extend((page.extract_text() or "").splitlines())
            lines.append("")
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise _violation(f"document content is not a readable PDF ({type(exc).__name__})") from None
    return lines


def _docx_lines(content: bytes) -> list[str]:
    import zipfile

    from docx import Document

    try:
        document = Document(io.BytesIO(content))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _violation(f"document content is not a readable DOCX ({type(exc).__name__})") from None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = paragraph.text.strip()
        if not text:
            continue
        if style.lower().startswith("title"):
            lines.append(f"# {text}")
        elif style.lower().startswith("heading"):
            level = re.sub(r"\D", "", style) or "2"
            lines.append(f"{'#' * min(int(level) + 1, 6)} {text}")
        elif style.lower().startswith("list"):
            lines.append(f"- {text}")
        else:
            lines.append(text)
        lines.append("")
    return lines


def parse_document(content: bytes, fmt: DocumentFormat) -> ParsedDocument:
    """Parse a document into clauses.

    Args:
        content: Raw bytes.
        fmt: Its format.

    Returns:
        The parsed document.

    Raises:
        InvalidArgument: unreadable content, or no text at all.
    """
    lines = extract_lines(content, fmt)
    document = parse_lines(lines, markdown=fmt in (DocumentFormat.MARKDOWN, DocumentFormat.DOCX))
    if document.word_count == 0:
        raise _violation("document contains no text")
    return document


@dataclass
class _Node:
    clause_id: str
    level: ClauseLevel
    number: str
    heading: str
    parent: _Node | None
    start: int = -1
    end: int = 0
    parts: list[str] = field(default_factory=list)
    children: int = 0
    paragraphs: int = 0
    items: int = 0
    sections: int = 0


_RANK = {ClauseLevel.CHAPTER: 0, ClauseLevel.ARTICLE: 1, ClauseLevel.SECTION: 1, ClauseLevel.PARAGRAPH: 2,
         ClauseLevel.ITEM: 3}  # fmt: skip


class _Builder:
    """Accumulates the document text and the clause tree in one pass."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.length = 0
        self.nodes: list[_Node] = []
        self.ids: set[str] = set()
        self.stack: list[_Node] = []
        self.title = ""
        self.chapters = 0
        self.top_sections = 0
        self.words = 0

    def emit(self, text: str) -> int:
        """Append ``text`` plus a newline to the document text; return its start offset."""
        start = self.length
        self.chunks.append(text)
        self.chunks.append("\n")
        self.length += len(text) + 1
        self.words += len(text.split())
        for node in self.stack:
            node.end = self.length - 1
        return start

    def unique(self, clause_id: str) -> str:
        candidate = clause_id
        n = 2
        while candidate in self.ids:
            candidate = f"{clause_id}_{n}"
            n += 1
        self.ids.add(candidate)
        return candidate

    def open(self, level: ClauseLevel, number: str, heading: str, local_id: str) -> _Node:
        rank = _RANK[level]
        while self.stack and _RANK[self.stack[-1].level] >= rank:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        full = f"{parent.clause_id}.{local_id}" if parent is not None else local_id
        node = _Node(self.unique(full), level, number, heading, parent)
        if parent is not None:
            parent.children += 1
        self.nodes.append(node)
        self.stack.append(node)
        heading_line = " ".join(part for part in (number, heading) if part)
        node.start = self.emit(heading_line) if heading_line else self.length
        node.end = node.start
        return node

    def add_text(self, node: _Node, text: str) -> None:
        offset = self.emit(text)
        if not node.parts:
            node.start = offset
        node.parts.append(text)

    def current(self, *levels: ClauseLevel) -> _Node | None:
        for node in reversed(self.stack):
            if node.level in levels:
                return node
        return None


def _clean(line: str) -> str:
    return _EMPHASIS.sub(r"\2", line.strip()).strip()


def _looks_like_heading(rest: str, markdown_heading: bool) -> bool:
    if markdown_heading:
        return True
    if len(rest) > 80 or rest.endswith((".", ";", ":", ",")):
        return False
    words = rest.split()
    if rest.isupper():
        return True
    return len(words) <= 7 and all(
        w[0].isupper() or w.lower() in {"and", "of", "the", "to", "for", "in", "on", "or"}
        for w in words
        if w[0].isalpha()
    )


def parse_lines(lines: list[str], *, markdown: bool = False) -> ParsedDocument:
    """Parse text lines (already extracted) into a :class:`ParsedDocument`.

    Args:
        lines: The document's lines.
        markdown: Treat ``#`` headings as structure.

    Returns:
        The parsed document; clause offsets refer to its ``text``.
    """
    builder = _Builder()
    block: list[str] = []
    block_kind: tuple[str, str, str] | None = None  # (kind, number, first text)

    def flush() -> None:
        nonlocal block, block_kind
        if block_kind is None:
            return
        kind, number, _ = block_kind
        if (
            kind == "text"
            and not builder.title
            and not builder.stack
            and len(block) > 1
            and len(block[0]) < 120
            and not block[0].rstrip().endswith((".", ";", ":", ","))
        ):
            # PDF extraction loses the blank line after the title: a short first line is the title.
            builder.title = block[0].strip()
            builder.emit(builder.title)
            block = block[1:]
        text = " ".join(block).strip()
        block, block_kind = [], None
        if not text:
            return
        if kind == "item":
            owner = builder.current(ClauseLevel.PARAGRAPH, ClauseLevel.ARTICLE, ClauseLevel.SECTION)
            if owner is None:
                owner = builder.open(ClauseLevel.SECTION, "", "", "preamble")
            owner.items += 1
            local = number if number else chr(ord("a") + (owner.items - 1) % 26) * (1 + (owner.items - 1) // 26)
            builder.stack = builder.stack[: builder.stack.index(owner) + 1]
            node = builder.open(ClauseLevel.ITEM, number, "", local)
            builder.add_text(node, text)
            return
        if kind == "para":
            owner = builder.current(ClauseLevel.ARTICLE, ClauseLevel.SECTION)
            if owner is None:
                owner = builder.open(ClauseLevel.SECTION, "", "", "preamble")
            owner.paragraphs += 1
            last = number.split(".")[-1]
            builder.stack = builder.stack[: builder.stack.index(owner) + 1]
            node = builder.open(ClauseLevel.PARAGRAPH, number, "", f"p{last}")
            builder.add_text(node, text)
            return
        # Unnumbered text: the open clause's own text if it has no children yet, else a new paragraph.
        owner = builder.stack[-1] if builder.stack else None
        if owner is None:
            if not builder.title:
                builder.title = text
                builder.emit(text)
                return
            owner = builder.open(ClauseLevel.SECTION, "", "", "preamble")
        if owner.level in (ClauseLevel.PARAGRAPH, ClauseLevel.ITEM) and owner.parent is not None:
            owner = owner.parent if owner.level is ClauseLevel.PARAGRAPH else (owner.parent.parent or owner.parent)
            builder.stack = builder.stack[: builder.stack.index(owner) + 1]
        if owner.children == 0 and owner.level is not ClauseLevel.CHAPTER:
            builder.add_text(owner, text)
            return
        owner.paragraphs += 1
        node = builder.open(ClauseLevel.PARAGRAPH, "", "", f"p{owner.paragraphs}")
        builder.add_text(node, text)

    for raw in lines:
        line = _clean(raw)
        if not line:
            flush()
            continue
        md_level = 0
        md = _MD_HEADING.match(line) if markdown else None
        if md:
            md_level = len(md.group(1))
            line = _clean(md.group(2))
        if (m := _CHAPTER.match(line)) and (md or len(line) < 120):
            flush()
            builder.chapters += 1
            builder.open(ClauseLevel.CHAPTER, m.group(1), m.group(2).strip(), f"ch{_arabic(m.group(1))}")
            continue
        # "Article 5 - Scope", "Article 5." or a bare "Article 5"; not "Article 5 of this Rule applies" (wrapped text).
        if (m := _ARTICLE.match(line)) and (md or m.group(2) or not m.group(3)) and len(m.group(3)) < 100:
            flush()
            builder.open(ClauseLevel.ARTICLE, m.group(1), m.group(3).strip(), f"art{m.group(1).lower()}")
            continue
        if (m := _SECTION.match(line)) and (md or len(m.group(2)) < 100):
            flush()
            _open_section(builder, m.group(1), m.group(2).strip())
            continue
        if md:
            flush()
            numbered = _NUMBERED.match(line)
            if md_level == 1 and not builder.title and not builder.nodes:
                builder.title = line
                builder.emit(line)
            elif numbered:
                _open_section(builder, numbered.group(1), numbered.group(2).strip())
            else:
                _open_section(builder, "", line)
            continue
        numbered = _NUMBERED.match(line)
        if numbered and _looks_like_heading(numbered.group(2), False) and "." not in numbered.group(1):
            flush()
            _open_section(builder, numbered.group(1), numbered.group(2).strip())
            continue
        if numbered:
            flush()
            block_kind = ("para", numbered.group(1), "")
            block = [numbered.group(2)]
            continue
        if (m := _ITEM.match(line)) or (m := _BULLET.match(line)):
            flush()
            groups = m.groups()
            number = (groups[0] or groups[1] or "") if len(groups) == 3 else ""
            block_kind = ("item", number, "")
            block = [groups[-1]]
            continue
        if block_kind is None:
            block_kind = ("text", "", "")
        block.append(line)
    flush()

    text = "".join(builder.chunks)
    clauses = tuple(
        Clause(
            clause_id=node.clause_id,
            level=node.level,
            number=node.number,
            heading=node.heading,
            text="\n".join(node.parts),
            parent_clause_id=node.parent.clause_id if node.parent is not None else "",
            start=node.start,
            end=max(node.end, node.start),
        )
        for node in builder.nodes
    )
    return ParsedDocument(title=builder.title, text=text, clauses=clauses, word_count=builder.words)


def _open_section(builder: _Builder, number: str, heading: str) -> None:
    # A sub-numbered heading ("4.2 Fees") nests under its section when that is open.
    top = number.split(".")[0] if number else ""
    if number and "." in number:
        owner = builder.current(ClauseLevel.SECTION)
        if owner is not None and owner.number == top:
            owner.paragraphs += 1
            builder.stack = builder.stack[: builder.stack.index(owner) + 1]
            builder.open(ClauseLevel.PARAGRAPH, number, heading, f"p{number.split('.')[-1]}")
            return
    builder.top_sections += 1
    local = f"s{number.replace('.', '_')}" if number else f"s{builder.top_sections}"
    builder.open(ClauseLevel.SECTION, number, heading, local)


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _arabic(number: str) -> str:
    if number.isdigit():
        return number
    total = 0
    values = [_ROMAN[c] for c in number.upper()]
    for i, value in enumerate(values):
        total += -value if i + 1 < len(values) and values[i + 1] > value else value
    return str(total)


def subtree_text(document: ParsedDocument, clause_id: str) -> str:
    """The text of a clause with all its descendants (headings included)."""
    clause = document.clause(clause_id)
    heading_start = document.text.rfind("\n", 0, clause.start) + 1 if clause.heading or clause.number else clause.start
    return document.text[min(heading_start, clause.start) : clause.end]
