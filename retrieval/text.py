"""Text normalisation for the BM25 leg: lower case, English stop words removed, light suffix stemming.

milvus-lite's analyzer offers only the standard tokenizer and lower-casing (its English stemmer and
``_english_`` stop list are accepted and silently ignored), so "cards", "card" and "carded" would be
three terms and "my" or "the" would score. Normalising in Python, identically for the indexed text and
for queries, gives the same behaviour on milvus-lite and on a Milvus server. The stored ``content``
(what is cited) is never normalised.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just let me more
    most my myself no nor not of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves im ive id dont doesnt didnt cant wont isnt arent wasnt
    please hi hello thanks thank get got still""".split()
)
# "up" (top up) and "no" matter in banking questions: keep them.
STOP_WORDS = STOP_WORDS - {"up", "no", "not", "out", "off", "down"}


def stem(word: str) -> str:
    """A light English stemmer: plural, -ing and -ed endings, final e ("charges", "charged", "charge" -> "charg")."""
    if len(word) <= 3 or not word.isalpha():
        return word
    base = word
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", "")):
        if not word.endswith(suffix) or (suffix == "s" and word.endswith(("ss", "us", "is"))):
            continue
        candidate = word[: -len(suffix)] + replacement
        if len(candidate) >= 3:
            base = candidate
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # "stopped" -> "stop"
        break
    if len(base) > 4 and base.endswith("e"):
        base = base[:-1]
    return base


def bm25_text(text: str) -> str:
    """The terms BM25 sees for ``text``: normalised words joined by spaces."""
    words = _WORD.findall(text.lower().replace("'", ""))
    return " ".join(stem(word) for word in words if word not in STOP_WORDS)
