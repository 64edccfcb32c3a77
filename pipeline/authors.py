"""Author names: from a raw byline to clean person names (or marked organisations).

Rules are data (word lists below) so they can be extended per language without touching logic.
A name survives only if it looks like a person: 1–5 name-like words, no digits, no navigation
or site words. News agencies are kept, marked as organisations; "Staff", "Admin", site names
are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

BYLINE_PREFIX_RE = re.compile(
    r"^\s*(?:(?:written|reported|posted|published|compiled|edited|text|story|words|opinion|analysis|commentary)\s+)?"
    r"(?:by|from|par|von|por|di)\s*[:\-–—]?\s+"
    r"|^\s*(?:author|authors|writer|columnist|автор|авторы|текст|بقلم|كتب|كتبت|الكاتب|الكاتبة|إعداد)\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
SPLIT_RE = re.compile(
    r"\s*(?:,|;|/|\||&|\band\b|\bund\b|\bet\b|\by\b|\bи\b|\s+و(?=\S)|\s+و\s+|\s·\s|\s+\+\s+)\s*",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HANDLE_RE = re.compile(r"(?:^|\s)@\w+")
DATE_RE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:\s+\d{4})?)\b.*$",
    re.IGNORECASE,
)
ROLE_WORDS = {
    "correspondent",
    "reporter",
    "editor",
    "columnist",
    "contributor",
    "writer",
    "analyst",
    "senior",
    "chief",
    "staff",
    "special",
    "foreign",
    "political",
    "diplomatic",
    "bureau",
    "fellow",
    "professor",
    "director",
    "president",
    "ceo",
    "researcher",
    "journalist",
    "corrispondente",
    "корреспондент",
    "обозреватель",
    "редактор",
    "колумнист",
    "مراسل",
    "محرر",
    "كاتب",
    "محلل",
    "updated",
    "published",
    "posted",
    "photo",
    "photos",
    "video",
    "illustration",
}
# Bylines that are not people; they are dropped. (Navigation words are in NAV_WORDS: a
# candidate containing one is never a person.)
NON_PERSONS = {
    "admin",
    "administrator",
    "staff",
    "staff writer",
    "staff reporter",
    "editor",
    "editors",
    "the editors",
    "editorial",
    "editorial board",
    "editorial team",
    "editorial staff",
    "newsroom",
    "news desk",
    "web desk",
    "online desk",
    "desk",
    "team",
    "guest",
    "guest author",
    "anonymous",
    "unknown",
    "contributor",
    "contributors",
    "wordpress",
    "webmaster",
    "root",
    "user",
    "redaktion",
    "редакция",
    "редакция сайта",
    "التحرير",
    "فريق التحرير",
    "المحرر",
    "هيئة التحرير",
    "our correspondent",
    "special correspondent",
    "correspondent",
    "agencies",
    "news agencies",
    "wire",
    "wires",
    "press release",
    "comment",
    "read more",
}
# Wire services: kept, as organisation authors.
AGENCIES = {
    "reuters": "Reuters",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "dpa": "dpa",
    "xinhua": "Xinhua",
    "efe": "EFE",
    "ansa": "ANSA",
    "tass": "TASS",
    "ria novosti": "RIA Novosti",
    "interfax": "Interfax",
    "anadolu": "Anadolu",
    "anadolu agency": "Anadolu",
    "sana": "SANA",
    "irna": "IRNA",
    "bloomberg": "Bloomberg",
    "upi": "UPI",
    "kuna": "KUNA",
    "wam": "WAM",
    "spa": "SPA",
    "qna": "QNA",
    "mena": "MENA",
    " isna": "ISNA",
    "fars": "Fars",
    "тасс": "ТАСС",
    "риа новости": "РИА Новости",
    "интерфакс": "Интерфакс",
    "رويترز": "رويترز",
    "أ ف ب": "أ ف ب",
    "ا ف ب": "أ ف ب",
    "فرانس برس": "فرانس برس",
    "سانا": "سانا",
    "الأناضول": "الأناضول",
    "وكالات": "",
}
NAME_PARTICLES = {
    "de",
    "da",
    "di",
    "del",
    "della",
    "van",
    "von",
    "der",
    "den",
    "la",
    "le",
    "al",
    "el",
    "bin",
    "ibn",
    "abu",
    "ben",
    "du",
    "dos",
    "das",
    "y",
    "e",
    "st",
    "st.",
}
PARTICLE_PREFIX_RE = re.compile(
    r"^(?:al|el|ad|as|ash|at|an|ar|az|ibn|bin|abu|d|l|o)[-'’]", re.IGNORECASE
)
NAV_WORDS = {
    "home",
    "menu",
    "search",
    "login",
    "log",
    "subscribe",
    "share",
    "tweet",
    "follow",
    "news",
    "opinion",
    "comments",
    "more",
    "latest",
    "about",
    "contact",
    "privacy",
    "sections",
    "world",
    "politics",
    "sport",
    "sports",
    "business",
    "read",
    "next",
    "previous",
    "print",
    "email",
    "facebook",
    "twitter",
    "whatsapp",
    "telegram",
    "newsletter",
    "podcast",
    "video",
    "videos",
    "главная",
    "новости",
    "поиск",
    "меню",
    "الرئيسية",
    "أخبار",
    "بحث",
    "اتصل",
}
NAME_WORD_RE = re.compile(r"^[^\W\d_][\w'’.\-]*$")


@dataclass(frozen=True)
class AuthorName:
    name: str
    is_organization: bool = False
    bio: str = ""

    @property
    def key(self) -> str:
        return author_key(self.name)


def nfc_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def fix_case(name: str) -> str:
    """'JANE ROE' → 'Jane Roe'; 'jane roe' → 'Jane Roe'; mixed case is kept ('McAllister').
    Scripts without case (Arabic) pass through."""
    cased = [c for c in name if c.isupper() or c.islower()]
    if cased and (all(c.isupper() for c in cased) or all(c.islower() for c in cased)):
        return " ".join(_title_word(w) for w in name.split(" "))
    return name


def _title_word(word: str) -> str:
    low = word.lower()
    if low in NAME_PARTICLES and low not in ("y", "e"):
        return low
    return "-".join(p[:1].upper() + p[1:] for p in low.split("-"))


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
    if not re.search(r"[\u0600-\u06ff]", text):
        for a, b in _SKELETON:
            text = text.replace(a, b)
        text = re.sub(r"(.)\1+", r"\1", text)  # doubled letters
    else:
        from pipeline.textnorm import fold_arabic

        text = fold_arabic(text)
    words = re.findall(r"\w+", text)
    return " ".join(words)


def _strip_noise(raw: str) -> str:
    text = nfc_spaces(raw)
    text = EMAIL_RE.sub(" ", text)
    text = HANDLE_RE.sub(" ", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = DATE_RE.sub("", text)
    text = re.sub(r"\((?:[^)]*)\)", " ", text)  # "(Reuters)", "(Moscow)"
    text = BYLINE_PREFIX_RE.sub("", text)
    text = re.sub(r"^[\s\-–—|:·•]+|[\s\-–—|:·•,.]+$", "", text)
    return nfc_spaces(text)


def clean_author(raw: str, *, site_names: Iterable[str] = ()) -> AuthorName | None:
    """One candidate name → a clean :class:`AuthorName`, or None if it is not an author."""
    name = _strip_noise(raw)
    # "Jane Roe, Senior Correspondent" / "Jane Roe - Moscow": the name is the first part.
    name = re.split(
        r"\s+[\-–—|]\s+|,\s*(?=[^\W\d_]*\s*(?:\w+\s+){0,3}\w*(?:" + "|".join(ROLE_WORDS) + r"))",
        name,
        maxsplit=1,
    )[0]
    name = name.strip(" ,.;:")
    if not name:
        return None
    low = name.casefold()
    if low in AGENCIES:
        canon = AGENCIES[low]
        return AuthorName(canon, is_organization=True) if canon else None
    sites = {s.casefold().strip() for s in site_names if s}
    if low in NON_PERSONS or low in sites or any(low == _site_core(s) for s in sites):
        return None
    if not looks_like_person(name):
        return None
    return AuthorName(fix_case(name))


def _site_core(site: str) -> str:
    s = re.sub(r"^(?:https?://)?(?:www\.)?", "", site.casefold())
    return re.sub(r"\.(?:com|org|net|ru|info|co\.uk|news)/?.*$", "", s)


FUNCTION_WORDS = {
    "the",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "at",
    "is",
    "are",
    "was",
    "were",
    "a",
    "an",
    "our",
    "your",
    "this",
    "that",
    "new",
    "how",
    "why",
    "what",
    "as",
    "after",
    "over",
    "says",
    "в",
    "на",
    "о",
    "об",
    "с",
    "со",
    "по",
    "к",
    "из",
    "для",
    "не",
    "как",
    "في",
    "من",
    "على",
    "إلى",
    "عن",
    "مع",
    "هذا",
    "هذه",
}


def looks_like_person(name: str) -> bool:
    """Whether a cleaned candidate can be a person's name (not a headline, menu or role)."""
    words = name.split()
    if not 1 <= len(words) <= 5 or len(name) > 60:
        return False
    if any(ch.isdigit() for ch in name) or any(ch in name for ch in '<>{}[]=#@/\\|?!«»"“”:'):
        return False
    folded = [w.casefold().strip(".") for w in words]
    if any(w in ROLE_WORDS or w in FUNCTION_WORDS or w in NAV_WORDS for w in folded):
        return False
    if not all(NAME_WORD_RE.match(w) for w in words):
        return False
    if re.search(r"[\u0600-\u06ff]", name):
        return 2 <= len(words) <= 5
    # Latin/Cyrillic: two words at least, each capitalised unless a particle. A lone word is
    # rare for a real byline and common for navigation ("Home", "World").
    if len(words) < 2:
        return False
    if name.isupper():
        return True
    caps = [PARTICLE_PREFIX_RE.sub("", w) for w in words if w.casefold() not in NAME_PARTICLES]
    return bool(caps) and all(w[:1].isupper() for w in caps)


def parse_byline(raw: str, *, site_names: Iterable[str] = ()) -> list[AuthorName]:
    """Split a byline ("By Jane Roe and John Doe, Reuters") into clean, distinct author names."""
    text = _strip_noise(raw)
    if not text:
        return []
    out: list[AuthorName] = []
    seen: set[str] = set()
    for part in SPLIT_RE.split(text):
        cand = clean_author(part, site_names=site_names)
        if cand and cand.key not in seen:
            seen.add(cand.key)
            out.append(cand)
    return out


def merge_authors(*groups: Iterable[AuthorName]) -> list[AuthorName]:
    """The first non-empty group (in priority order) says who the authors are; later groups
    only add what it lacks (a bio found at the end of the text)."""
    groups_l = [list(g) for g in groups]
    first = next((g for g in groups_l if g), [])
    result = list(first)
    index = {a.key: i for i, a in enumerate(result)}
    for group in groups_l:
        for a in group:
            i = index.get(a.key)
            if i is not None and a.bio and not result[i].bio:
                cur = result[i]
                result[i] = AuthorName(cur.name, cur.is_organization, a.bio)
    return result
