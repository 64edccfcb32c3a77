"""Watchlist matching: one Aho–Corasick automaton (pyahocorasick) for every alias of every entity.

The text is folded once (pipeline.textnorm: case, Latin diacritics, Arabic harakat/tatweel/alef
forms/ya/ta marbuta, ё→е) with a map back to the original offsets. A hit counts only on word
boundaries, with two language rules:

* Arabic: a run of proclitics may precede the alias inside the same word (و ف ب ل ك ال and their
  combinations: وال، بال، فال، لل، وب …), so حلب matches وحلب and بحلب but not حلبي;
* Russian: an inflectional ending may follow (Лавров → Лаврова, Лавровым); an alias ending in a
  vowel or soft sign also matches through its stem (Москва → Москве, Москвы, Москву).

Case-sensitive aliases (acronyms: US, IS, UN) must match the original text exactly. Where aliases
overlap, the longest match wins its span.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from pipeline.textnorm import fold, fold_char, fold_with_offsets, script_of

MATCHER_VERSION = "1"
MARK_OPEN, MARK_CLOSE = "⟦", "⟧"

_CONJ = ("", "و", "ف")
_PREP = ("", "ب", "ل", "ك")
ARABIC_PROCLITICS = frozenset(
    {c + p + a for c in _CONJ for p in _PREP for a in ("", "ال")}
    | {c + "لل" for c in _CONJ}
    | {"س" + "", "وس", "فس"}
) - {""}
RUSSIAN_ENDINGS = frozenset(
    {
        "а",
        "у",
        "ом",
        "ым",
        "е",
        "ы",
        "ой",
        "ою",
        "ами",
        "ах",
        "ов",
        "ыми",
        "ых",
        "ого",
        "ому",
        "ем",
        "ей",
        "ю",
        "я",
        "и",
        "ям",
        "ях",
        "ями",
        "ий",
        "ая",
        "ую",
        "ое",
        "ие",
        "им",
        "ими",
        "их",
        "ь",
    }
)
# After the stem of an alias ending in -а/-я/-о/-ь/-й/-е (Москва → Москв-е).
RUSSIAN_STEM_ENDINGS = frozenset(
    {
        "а",
        "ы",
        "е",
        "у",
        "ой",
        "ою",
        "я",
        "и",
        "ю",
        "ей",
        "ь",
        "ем",
        "ём",
        "ям",
        "ях",
        "ями",
        "ами",
        "ах",
        "ий",
        "ия",
        "ию",
        "ие",
        "о",
    }
)
RUSSIAN_STEMMABLE = "аяоьйе"


@dataclass(frozen=True)
class AliasSpec:
    entity_id: int
    text: str
    language: str = ""
    case_sensitive: bool = False


@dataclass(frozen=True)
class _Payload:
    entity_id: int
    alias: str
    key_len: int
    script: str
    case_sensitive: bool
    stem: bool


@dataclass(frozen=True)
class Match:
    entity_id: int
    start: int  # offsets in the original text
    end: int
    alias: str


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or unicodedata.category(ch) == "Mn"


def _key_text(text: str) -> str:
    """An alias as the automaton sees it: folded, non-word characters as single spaces."""
    return " ".join("".join(c if _is_word(c) else " " for c in fold(text)).split())


def _bounded(key: str, script: str) -> str:
    """The automaton key with its fixed word boundaries: Arabic leaves the left side open
    (proclitics), Russian the right side (endings); everything else is a whole word."""
    if script == "arabic":
        return key + " "
    if script == "cyrillic":
        return " " + key
    return " " + key + " "


# Characters that folding removes or expands (combining marks, tatweel, harakat, ligatures and
# presentation forms, full-width forms): texts with any of them take the offset-mapping path.
_SLOW_RE = re.compile(
    "[\u0300-\u036f\u0640\u064b-\u065f\u0670\u06d6-\u06dc\ufb00-\ufdff\ufe70-\ufeff\uff00-\uffef]"
)
_NONWORD_RE = re.compile(r"\W")


@lru_cache(maxsize=65536)
def _one_char_fold(ch: str) -> str | None:
    f = fold_char(ch)
    if len(f) != 1:
        return None
    return f if _is_word(f) else " "


def fold_fast(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text`` and turn every non-word character into a space, one character for one, so
    word boundaries are plain spaces the automaton can match and offsets need no map (None).
    Texts where folding removes or expands characters fall back to an explicit offset map."""
    folded = text.casefold()
    if len(folded) != len(text) or _SLOW_RE.search(text):
        return _fold_slow(text)
    folded = _NONWORD_RE.sub(" ", folded)
    if not folded.isascii():
        table: dict[int, str] = {}
        for ch in set(folded):
            if ch > "\x7f":
                f = _one_char_fold(ch)
                if f is None:
                    return _fold_slow(text)
                if f != ch:
                    table[ord(ch)] = f
        if table:
            folded = folded.translate(table)
    return folded, None


def _fold_slow(text: str) -> tuple[str, list[int]]:
    folded, offsets = fold_with_offsets(text)
    return "".join(c if _is_word(c) else " " for c in folded), offsets


class Matcher:
    """Compiled watchlist. Build once per watchlist version; :meth:`find` is thread-safe."""

    def __init__(self, aliases: Iterable[AliasSpec]) -> None:
        self.automaton = ahocorasick.Automaton()
        keys: dict[str, list[_Payload]] = defaultdict(list)
        self.size = 0
        for a in aliases:
            text = " ".join(unicodedata.normalize("NFC", a.text).split())
            key = _key_text(text)
            if len(key) < 2:
                continue
            script = script_of(key)
            keys[_bounded(key, script)].append(
                _Payload(a.entity_id, text, len(key), script, a.case_sensitive, False)
            )
            self.size += 1
            if (
                script == "cyrillic"
                and key[-1] in RUSSIAN_STEMMABLE
                and len(key) >= 5
                and " " not in key[-4:]
            ):
                stem = key[:-1]
                keys[_bounded(stem, script)].append(
                    _Payload(a.entity_id, text, len(stem), script, a.case_sensitive, True)
                )
        for key, payloads in keys.items():
            self.automaton.add_word(key, tuple(payloads))
        if keys:
            self.automaton.make_automaton()
        self.empty = not keys

    def _left_ok(self, folded: str, start: int, script: str) -> bool:
        if start == 0 or not _is_word(folded[start - 1]):
            return True
        if script != "arabic":
            return False
        ws = start
        while ws > 0 and _is_word(folded[ws - 1]):
            ws -= 1
        return folded[ws:start] in ARABIC_PROCLITICS

    def _right_end(self, folded: str, end: int, p: _Payload) -> int | None:
        """Where the match ends (after an allowed ending), or None if it is inside a word."""
        n = len(folded)
        if end >= n or not _is_word(folded[end]):
            return None if p.stem else end
        if p.script != "cyrillic":
            return None
        we = end
        while we < n and _is_word(folded[we]):
            we += 1
        suffix = folded[end:we]
        allowed = RUSSIAN_STEM_ENDINGS if p.stem else RUSSIAN_ENDINGS
        return we if suffix in allowed else None

    def find(self, text: str) -> list[Match]:
        if self.empty or not text:
            return []
        folded, offsets = fold_fast(text)
        cands: list[tuple[int, int, _Payload]] = []
        # Padded with a space on each side: index i of the padded text is i - 1 of `folded`,
        # and a key ends with its right boundary space unless the script allows endings.
        for hit_end, payloads in self.automaton.iter(" " + folded + " "):
            for p in payloads:
                last = hit_end - 2 if p.script != "cyrillic" else hit_end - 1
                start = last - p.key_len + 1
                if not self._left_ok(folded, start, p.script):
                    continue
                end = self._right_end(folded, last + 1, p)
                if end is None:
                    continue
                if p.case_sensitive:
                    o_start = offsets[start] if offsets else start
                    o_end = offsets[last] + 1 if offsets else last + 1
                    if unicodedata.normalize("NFC", text[o_start:o_end]) != p.alias:
                        continue
                cands.append((start, end, p))
        # Longest first; a span once taken is not matched again (overlaps lose).
        cands.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        taken: list[tuple[int, int]] = []
        out: list[Match] = []
        seen: set[tuple[int, int, int]] = set()
        for start, end, p in cands:
            if any(start < te and ts < end for ts, te in taken):
                if (start, end, p.entity_id) not in seen and any(
                    start == ts and end == te for ts, te in taken
                ):
                    # Same span, another entity with the same alias: both get the mention.
                    seen.add((start, end, p.entity_id))
                    out.append(self._to_match(p, start, end, offsets))
                continue
            taken.append((start, end))
            seen.add((start, end, p.entity_id))
            out.append(self._to_match(p, start, end, offsets))
        out.sort(key=lambda m: (m.start, m.entity_id))
        return out

    @staticmethod
    def _to_match(p: _Payload, start: int, end: int, offsets: list[int] | None) -> Match:
        if offsets is None:
            return Match(p.entity_id, start, end, p.alias)
        return Match(p.entity_id, offsets[start], offsets[end - 1] + 1, p.alias)


def snippet(text: str, start: int, end: int, width: int = 110) -> str:
    """Text around a match, cut at word boundaries, with the match marked ⟦like this⟧."""
    a = max(0, start - width)
    b = min(len(text), end + width)
    if a > 0:
        sp = text.find(" ", a, start)
        a = sp + 1 if sp != -1 else a
    if b < len(text):
        sp = text.rfind(" ", end, b)
        b = sp if sp != -1 else b
    body = text[a:start] + MARK_OPEN + text[start:end] + MARK_CLOSE + text[end:b]
    body = " ".join(body.split())
    return ("… " if a > 0 else "") + body + (" …" if b < len(text) else "")


@dataclass
class EntityMentions:
    entity_id: int
    count: int
    offsets: list[list[int]]
    in_title: bool
    snippet: str
    matched: str


def mentions_in(
    matcher: Matcher, title: str, text: str, max_offsets: int = 20
) -> list[EntityMentions]:
    """Per entity: how often, where (offsets in the text), whether in the title, a snippet."""
    by_entity: dict[int, EntityMentions] = {}
    for m in matcher.find(title):
        em = by_entity.setdefault(
            m.entity_id,
            EntityMentions(
                m.entity_id, 0, [], True, snippet(title, m.start, m.end), title[m.start : m.end]
            ),
        )
        em.count += 1
    for m in matcher.find(text):
        known = by_entity.get(m.entity_id)
        if known is None:
            known = by_entity[m.entity_id] = EntityMentions(
                m.entity_id, 0, [], False, "", text[m.start : m.end]
            )
        em = known
        em.count += 1
        if len(em.offsets) < max_offsets:
            em.offsets.append([m.start, m.end])
        if len(em.offsets) == 1:
            em.snippet = snippet(text, m.start, m.end)
            em.matched = text[m.start : m.end]
    return list(by_entity.values())
