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

from pipeline.rules import (
    AGENCIES,
    ARABIC_RE,
    BYLINE_PREFIX_RE,
    CJK_RE,
    DATE_RE,
    EMAIL_RE,
    FUNCTION_WORDS,
    HANDLE_NAME_RE,
    HANDLE_RE,
    KO_REPORTER_RE,
    NAME_PARTICLES,
    NAME_WORD_RE,
    NAV_WORDS,
    NON_PERSONS,
    PARTICLE_PREFIX_RE,
    PHOTO_CREDIT_RE,
    ROLE_WORDS,
    SPLIT_RE,
    VISUAL_CREDIT_RE,
    WEEKDAYS,
    WITH_COAUTHORS_RE,
)
from pipeline.textnorm import author_key


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


def _strip_noise(raw: str, *, keep_handles: bool = False) -> str:
    text = nfc_spaces(raw)
    text = PHOTO_CREDIT_RE.sub("", text)
    text = EMAIL_RE.sub(" ", text)
    if not keep_handles:
        text = HANDLE_RE.sub(" ", text)
    text = re.sub(r"https?://[^\s)]+", " ", text)
    text = DATE_RE.sub("", text)
    text = re.sub(r"\s+(?:on|at|le|am|el|em)$", "", text, flags=re.IGNORECASE)  # "… on <date>"
    text = WITH_COAUTHORS_RE.sub(r", \1", text)  # "A (avec B et C)": co-authors
    text = VISUAL_CREDIT_RE.sub(" #", text)  # "B (photography)": marked, never a name
    text = re.sub(r"\((?:[^)]*)\)", " ", text)  # "(Reuters)", "(Moscow)"
    text = KO_REPORTER_RE.sub("", text)
    text = BYLINE_PREFIX_RE.sub("", text)
    text = re.sub(r"^[\s\-–—|:·•]+|[\s\-–—|:·•,.]+$", "", text)
    return nfc_spaces(text)


def clean_author(
    raw: str, *, site_names: Iterable[str] = (), single_word: bool = False
) -> AuthorName | None:
    """One candidate name → a clean :class:`AuthorName`, or None if it is not an author.

    ``single_word``: the candidate comes from an explicit byline line ("Posted by kovarex"), where
    a lone handle or pen name is the credit the page gives."""
    name = _strip_noise(raw)
    # "Jane Roe, Senior Correspondent" / "Jane Roe - Moscow": the name is the first part.
    name = re.split(
        r"\s+[\-–—|]\s+|,\s*(?=[^\W\d_]*\s*(?:\w+\s+){0,3}\w*(?:" + "|".join(ROLE_WORDS) + r"))",
        name,
        maxsplit=1,
    )[0]
    name = name.strip(" ,.;:")
    # A weekday glued on by a date that followed the name ("Joe Wee Monday").
    while len(name.split()) > 2 and name.split()[-1].casefold().strip(".,") in WEEKDAYS:
        name = name.rsplit(" ", 1)[0]
    if not name:
        return None
    low = name.casefold()
    if low in AGENCIES:
        canon = AGENCIES[low]
        return AuthorName(canon, is_organization=True) if canon else None
    if low in NON_PERSONS or names_site(name, site_names):
        return None
    if looks_like_person(name):
        return AuthorName(fix_case(name))
    if single_word and is_handle(name):
        return AuthorName(name)
    return None


def is_handle(name: str) -> bool:
    """A one-word credit that can be a handle or pen name: no digits-first, no phrase, not a
    navigation, role or function word."""
    low = name.casefold()
    return (
        bool(HANDLE_NAME_RE.match(name))
        and low not in ROLE_WORDS
        and low not in FUNCTION_WORDS
        and low not in NAV_WORDS
        and low not in WEEKDAYS
    )


def _site_core(site: str) -> str:
    s = re.sub(r"^(?:https?://)?(?:www\.)?", "", site.casefold())
    return re.sub(r"\.(?:com|org|net|ru|info|co\.uk|news)/?.*$", "", s)


def names_site(text: str, site_names: Iterable[str]) -> bool:
    """The one rule for "this is the site's own name", used for authors and title suffixes:
    equal to a site name or to its domain's core ("meridian" for meridian.com), or containing a
    site name / contained in one when the shorter is longer than 3 characters ("Daily Meridian
    Staff", "Observatory"). A domain's core is never matched inside a name: "nicolas" of
    nicolas.perriault.net does not make "Nicolas Perriault" the site."""
    t = " ".join(text.casefold().split())
    if not t:
        return False
    for site in site_names:
        s = " ".join(site.casefold().split())
        if "." in s or "/" in s:
            # A host name: equal to it, to its core, or to its first label ("meridian").
            label = re.sub(r"^(?:https?://)?(?:www\.)?", "", s).split(".")[0]
            if t in (s, _site_core(site)) or (len(label) > 3 and t == label):
                return True
            continue
        if t == s:
            return True
        if (len(s) > 3 and s in t) or (len(t) > 3 and t in s):
            return True
    return False


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
    if ARABIC_RE.search(name):
        return 2 <= len(words) <= 5
    if CJK_RE.search(name):
        # Chinese, Japanese and Korean names are written without spaces ("春春", "史蒂文的家_藍天").
        return len(words) <= 2 and 2 <= len(name.replace(" ", "")) <= 20
    # Latin/Cyrillic: two words at least, each capitalised unless a particle. A lone word is
    # rare for a real byline and common for navigation ("Home", "World").
    if len(words) < 2:
        return False
    if name.isupper():
        return True
    caps = [PARTICLE_PREFIX_RE.sub("", w) for w in words if w.casefold() not in NAME_PARTICLES]
    return bool(caps) and all(w[:1].isupper() for w in caps)


def parse_byline(
    raw: str, *, site_names: Iterable[str] = (), single_word: bool = False
) -> list[AuthorName]:
    """Split a byline ("By Jane Roe and John Doe, Reuters") into clean, distinct author names.

    ``single_word``: an explicit byline line, where one-word credits (handles, pen names) count;
    a lone "@handle" is then the author's name too."""
    text = _strip_noise(raw, keep_handles=single_word)
    if not text:
        return []
    out: list[AuthorName] = []
    seen: set[str] = set()
    for part in SPLIT_RE.split(text):
        part = part.removeprefix("@") if single_word else part
        cand = clean_author(part, site_names=site_names, single_word=single_word)
        if cand and cand.key not in seen:
            seen.add(cand.key)
            out.append(cand)
    return out


def merge_authors(*groups: Iterable[AuthorName]) -> list[AuthorName]:
    """The first non-empty group (in priority order) says who the authors are, unless a later
    group names all of them and more (structured data that lists only the first of three
    co-authors the byline shows); later groups only add what it lacks (a closing bio)."""
    groups_l = [list(g) for g in groups]
    first = next((g for g in groups_l if g), [])
    keys = {a.key for a in first}
    for group in groups_l:
        if len(group) > len(first) and keys <= {a.key for a in group}:
            first = group
            keys = {a.key for a in group}
    result = list(first)
    index = {a.key: i for i, a in enumerate(result)}
    for group in groups_l:
        for a in group:
            i = index.get(a.key)
            if i is not None and a.bio and not result[i].bio:
                cur = result[i]
                result[i] = AuthorName(cur.name, cur.is_organization, a.bio)
    return result
