"""Long synthetic regulations for size tests and benchmarks, built from a sample rule's articles."""

from __future__ import annotations

from pathlib import Path

_SOURCE = Path(__file__).resolve().parent / "regulations" / "customer_due_diligence_v1.txt"


def synthetic_regulation(words: int) -> bytes:
    """A plain-text regulation of at least ``words`` words: the sample's chapters repeated and renumbered.

    Args:
        words: Minimum word count.

    Returns:
        UTF-8 text with an entry-into-force date, chapters and globally numbered articles.
    """
    body = _SOURCE.read_text().split("CHAPTER II", 1)[1].split("CHAPTER IV", 1)[0]
    articles = [a for a in body.split("\nArticle ")[1:]]
    lines = ["Long Rule", "", "This Rule enters into force on 1 January 2027."]
    count, chapter, article = 0, 0, 0
    # The parser does not count the "Article" keyword or dashes of headings: aim 5% over.
    while count < words * 1.05:
        chapter += 1
        lines += ["", f"CHAPTER {chapter} - PART {chapter}", ""]
        for text in articles:
            article += 1
            _number, rest = text.split(" ", 1)
            rest = rest.split("\nCHAPTER", 1)[0].strip()
            lines += [f"Article {article} {rest}", ""]
            count += len(lines[-2].split())
    return "\n".join(lines).encode()
