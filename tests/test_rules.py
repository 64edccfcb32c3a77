"""Extraction rules are data (pipeline.rules): every word-list key is written the way it is
matched, or it would never match (a key with a leading space did, once)."""

from __future__ import annotations

import re

import pytest

from pipeline import rules
from pipeline.bylines import opens_like_byline


def word_lists() -> list[tuple[str, object]]:
    return [
        (name, value)
        for name, value in vars(rules).items()
        if name.isupper() and isinstance(value, set | frozenset | dict)
    ]


@pytest.mark.parametrize(("name", "words"), word_lists(), ids=[n for n, _ in word_lists()])
def test_every_key_is_normalised_as_it_is_matched(name: str, words: object) -> None:
    keys = list(words)  # type: ignore[call-overload]
    assert keys, name
    for key in keys:
        if not isinstance(key, str):
            continue
        assert key == " ".join(key.casefold().split()) or key[:1].isupper(), (name, key)
        if not key[:1].isupper():
            assert key == key.strip() and "  " not in key, (name, key)


def test_case_sensitive_lists_are_the_ones_meant_to_be() -> None:
    # Schema.org type names and time-zone abbreviations are matched as written.
    cased = {name for name, words in word_lists() if any(str(k)[:1].isupper() for k in words)}  # type: ignore[attr-defined]
    assert cased <= {"OPINION_TYPES", "ORGANIZATION_TYPES", "TZINFOS", "ARTICLE_TYPES"}, cased


def test_patterns_compile_and_the_arabic_range_is_defined_once() -> None:
    import pathlib

    for name, value in vars(rules).items():
        if isinstance(value, re.Pattern):
            assert value.pattern, name
    root = pathlib.Path(rules.__file__).parent
    spelled = [
        p.name
        for p in root.glob("*.py")
        if p.name != "textnorm.py" and "\\u0600-\\u06ff" in p.read_text("utf-8")
    ]
    assert spelled == [], spelled


def test_agencies_are_kept_as_organisations_by_their_normalised_name() -> None:
    from pipeline.authors import clean_author

    isna = clean_author("ISNA")
    assert isna is not None and isna.is_organization and isna.name == "ISNA"


def _byline_samples() -> list[str]:
    """Lines opening with every word the byline patterns spell, in the shapes they match."""
    words = set()
    for pattern in (rules.BYLINE_LINE_RE, rules.DATED_BYLINE_RE):
        words |= set(re.findall(r"[^\W\d_]+", pattern.pattern))
    words |= set(rules.CJK_BYLINE_LABELS.split("|"))
    tails = (" Jane Roe", ": Jane Roe", "：王小明", " by Jane Roe", " on March 3, 2024 by jroe")
    return [f"{lead}{w}{tail}" for w in sorted(words) for tail in tails for lead in ("", " \xa0")]


def test_the_byline_start_test_lets_every_byline_line_through() -> None:
    """opens_like_byline (BYLINE_START_RE) is a shortcut taken before BYLINE_LINE_RE and DATED_BYLINE_RE: a line
    either of them takes must pass it, or a byline would be skipped unseen."""
    taken = [
        s
        for s in _byline_samples()
        if rules.BYLINE_LINE_RE.match(s) or rules.DATED_BYLINE_RE.match(s)
    ]
    assert len(taken) > 40  # the samples do exercise the patterns
    assert [s for s in taken if not opens_like_byline(s)] == []


def test_the_byline_start_test_turns_away_ordinary_text() -> None:
    assert not opens_like_byline("The minister said on Tuesday, by all accounts")
    assert opens_like_byline("\n\xa0 \u3000 By Jane Roe")  # any white space first
