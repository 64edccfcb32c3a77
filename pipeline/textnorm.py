"""Text folding shared by matching, author keys and dedup: one place for Unicode decisions.

``fold_char`` maps one original character to its folded form (possibly empty, possibly several
characters); :func:`fold_with_offsets` applies it to a text and keeps, for every folded character,
the index of the original character it came from, so matches map back to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The one definition of the Arabic script block (pipeline.rules re-exports it for extraction).
ARABIC_RE = re.compile(r"[\u0600-\u06ff]")

ARABIC_DIACRITICS = set(range(0x064B, 0x0660)) | {
    0x0670,
    0x06D6,
    0x06D7,
    0x06D8,
    0x06D9,
    0x06DA,
    0x06DB,
    0x06DC,
}
TATWEEL = "\u0640"
ARABIC_FOLD = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ى": "ي",
    "ئ": "ي",
    "ؤ": "و",
    "ة": "ه",
    "ک": "ك",
    "ی": "ي",
    "ۀ": "ه",
}
KEEP_MARKS_ON = {"и": "\u0306", "И": "\u0306"}  # й is a letter of its own, not и + breve


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """Case-fold, strip Latin/Greek diacritics and Arabic harakat/tatweel, unify Arabic letter
    variants, ё→е. Anything else passes through (case-folded)."""
    code = ord(ch)
    if ch == TATWEEL or code in ARABIC_DIACRITICS:
        return ""
    if ch in ARABIC_FOLD:
        return ARABIC_FOLD[ch]
    if ch in "ёЁ":
        return "е"
    if ch in "йЙ":
        return "й"
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if not base:
        return ""
    out = base.casefold()
    return "".join(ARABIC_FOLD.get(c, c) for c in out)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each of its characters, the index of the source character."""
    parts: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        f = fold_char(ch)
        if f:
            parts.append(f)
            offsets.extend([i] * len(f))
    return "".join(parts), offsets


class _FoldTable(dict[int, str]):
    """``str.translate`` table of :func:`fold_char`, filled as characters are met: a text is
    folded in C, each distinct character computed once."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Every character of ``text`` through :func:`fold_char`."""
    return text.translate(_FOLD_TABLE)


def fold_arabic(text: str) -> str:
    return fold(text)


WORD_RE = re.compile(r"\w+", re.UNICODE)


def script_of(text: str) -> str:
    """'arabic', 'cyrillic', 'latin' or 'other', by the first letter that tells."""
    for ch in text:
        if "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f":
            return "arabic"
        if "\u0400" <= ch <= "\u04ff":
            return "cyrillic"
        if (ch.isalpha() and ch.isascii()) or "\u00c0" <= ch <= "\u024f":
            return "latin"
    return "other"


def lookup_key(name: str) -> str:
    """How a watchlist name or alias is looked up (``search --actor``, subscriptions): folded as
    the matcher folds text (case in every script, diacritics, Arabic letter variants, ё/е), with
    white space collapsed. Computed in Python, so SQLite and PostgreSQL compare the same keys."""
    return " ".join(fold(name).split())


# Cyrillic → Latin, then a phonetic skeleton, so "Мария Дубовикова" and "Maria Dubovikova" meet.
_CYR = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)
_SKELETON = [
    ("shch", "sc"),
    ("kh", "h"),
    ("ts", "c"),
    ("tz", "c"),
    ("ch", "c"),
    ("sh", "s"),
    ("zh", "j"),
    ("ph", "f"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
    ("x", "ks"),
    ("q", "k"),
]


def author_key(name: str) -> str:
    """A key equal for spellings of one person's name: case, diacritics, punctuation, word order
    of initials aside, and Cyrillic/Latin transliteration."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(
        c
        for c in text
        if not unicodedata.combining(c) or unicodedata.name(c, "").startswith("ARABIC")
    )
    text = "".join(_CYR.get(c, c) for c in text)
    if not ARABIC_RE.search(text):
        for a, b in _SKELETON:
            text = text.replace(a, b)
        text = re.sub(r"(.)\1+", r"\1", text)  # doubled letters
    else:
        text = fold_arabic(text)
    words = re.findall(r"\w+", text)
    return " ".join(words)
